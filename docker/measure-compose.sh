#!/usr/bin/env bash
# Measures how long a fresh compose network takes to be useful: the time
# from `compose up` (docker/compose.bridge.yml) to the first successful
# `get`, in a peer container, of a value `put` through the seed container.
#
#   docker/measure-compose.sh [PEERS] [RUNS]     # defaults: 4 peers, 1 run
#
# Needs the image (docker/build-offline.sh). Each run uses its own compose
# project and removes it (containers, network, volumes) afterwards, also on
# failure or Ctrl-C. Every wait is bounded (WAIT_SECS, default 60).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
file="$repo/docker/compose.bridge.yml"
peers="${1:-4}"
runs="${2:-1}"
wait_secs="${WAIT_SECS:-60}"

if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
else
    compose=(docker-compose)
fi
project=""
cleanup() {
    if [ -n "$project" ]; then
        "${compose[@]}" -p "$project" -f "$file" down -v --timeout 5 >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# retry_until DEADLINE WHAT CMD...: runs CMD until it succeeds; past
# DEADLINE ($SECONDS) says "WHAT within N s" on stderr, with the last
# answer CMD left in $last, and exits 1.
last=""
retry_until() {
    local deadline="$1" what="$2"
    shift 2
    last=""
    until "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "$what within ${wait_secs}s${last:+ (last: $last)}" >&2
            exit 1
        fi
        sleep 0.1 # polling pace; the deadline bounds the wait
    done
}

for run in $(seq 1 "$runs"); do
    project="p2pmeasure$$r$run"
    start="$(now)"
    if ! out="$("${compose[@]}" -p "$project" -f "$file" up -d --scale peer="$peers" 2>&1)"; then
        echo "run $run: compose up failed: $out" >&2
        exit 1
    fi
    up_done="$(now)"
    # Container IDs by compose's labels (faster than `compose ps`, same for v1 and v2).
    service() {
        docker ps -q --filter "label=com.docker.compose.project=$project" \
            --filter "label=com.docker.compose.service=$1"
    }
    seed="$(service seed)"
    peer_ids="$(service peer)"
    peer="${peer_ids%%$'\n'*}" # the first one
    deadline=$((SECONDS + wait_secs))

    # The put succeeds as soon as the seed's node answers (it stores locally).
    put_on_seed() { docker exec "$seed" p2pnode ctl --timeout 5s put measure "run $run" >/dev/null 2>&1; }
    retry_until "$deadline" "run $run: the seed did not accept a put" put_on_seed
    put_done="$(now)"

    # The get succeeds once the peer has joined and finds the seed's record.
    get_on_peer() {
        last="$(docker exec "$peer" p2pnode ctl --json --timeout 10s get measure 2>/dev/null)" &&
            grep -q "\"value\":\"run $run\"" <<<"$last"
    }
    retry_until "$deadline" "run $run: no peer got the value" get_on_peer
    answer="$last"
    got="$(now)"
    from="$(sed -n 's/.*"from":"\([^"]*\)".*/\1/p' <<<"$answer")"
    echo "run $run: $peers peers; compose up returned after $(elapsed "$start" "$up_done") s;" \
        "put on seed ok after $(elapsed "$start" "$put_done") s;" \
        "first cross-container get after $(elapsed "$start" "$got") s (from ${from:-?})"
    cleanup
    project=""
done
