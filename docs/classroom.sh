#!/usr/bin/env bash
# A Kademlia classroom network on this machine: N p2pnode nodes on
# 127.0.0.1 with k = K (--replication-factor), each serving a control
# socket so `p2pnode ctl --data-dir DIR/nI ...` talks to node I.
#
#   bash docs/classroom.sh            # 20 nodes, k = 3, release binary
#   N=40 K=3 BIN=target/debug/p2pnode bash docs/classroom.sh
#
# It prints the data directories and waits; Ctrl-C (or the end of its
# input) stops every node and removes the directories.
set -euo pipefail
N=${N:-20}
K=${K:-3}
BIN=${BIN:-target/release/p2pnode}
DIR=$(mktemp -d -t p2pnode-classroom.XXXX)

stop() {
    for d in "$DIR"/n*/; do "$BIN" ctl --data-dir "$d" --timeout 5s quit >/dev/null 2>&1 || true; done
    wait
    rm -rf "$DIR"
}
trap stop EXIT INT TERM

start() {
    local i=$1
    shift
    "$BIN" --data-dir "$DIR/n$i" --listen /ip4/127.0.0.1/tcp/0 --replication-factor "$K" \
        --no-repl --json "$@" >"$DIR/n$i.out" 2>"$DIR/n$i.log" </dev/null &
}

start 0
for _ in $(seq 100); do
    grep -q '"event":"listening"' "$DIR/n0.out" 2>/dev/null && break
    sleep 0.1
done
SEED=$(grep -m1 -o '/ip4/127.0.0.1/tcp/[0-9]*/p2p/[A-Za-z0-9]*' "$DIR/n0.out")
for i in $(seq 1 $((N - 1))); do
    start "$i" --bootstrap "$SEED"
    # One at a time, as people join a classroom network: each has peers
    # in its routing table before the next one starts.
    for _ in $(seq 100); do
        "$BIN" ctl --data-dir "$DIR/n$i" --json --timeout 2s stats 2>/dev/null |
            grep -q '"routing_table":[1-9]' && break
        sleep 0.1
    done
done
echo "$N nodes with k = $K; node I's data directory is $DIR/nI, e.g.:"
echo "  $BIN ctl --data-dir $DIR/n5 trace greeting"
echo "press Ctrl-D to stop them"
cat >/dev/null
