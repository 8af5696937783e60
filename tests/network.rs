//! End-to-end tests of the binary: p2pnode processes on 127.0.0.1 with
//! ephemeral ports, driven through stdin and `--json`: start-up errors and
//! exit codes, `P2P_REMOTE_HOST`, restarts on a data directory, EOF and
//! `quit`, `ctl`, and a script file on stdin. What needs no process of its
//! own is tested in-process (`inprocess.rs`, `joining.rs`).

use std::time::Duration;

use p2pnode::dht::wire::{Message, MessageType, WirePeer};
use p2pnode_testkit::binary::EXIT_TIMEOUT;
use p2pnode_testkit::process::{free_tcp_port, run_bounded_with};
use p2pnode_testkit::{Ask, Binary, Opts, SETTLE, assert_ok, eventually, run_bounded};
use serde_json::Value;

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

#[test]
fn bad_bootstrap_address_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = BIN.command();
    cmd.args([
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--ephemeral",
        "--data-dir",
    ])
    .arg(dir.path())
    .env("P2P_REMOTE_HOST", "node1, /ip4/bogus/tcp/1");
    let out = run_bounded(cmd, EXIT_TIMEOUT);
    assert_eq!(out.code(), Some(2), "{out}");
    let err = out.stderr;
    assert!(err.contains("/ip4/bogus/tcp/1"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[test]
fn unreachable_bootstrap_peer_is_retried_while_the_node_serves() {
    // Take a free port, then free it: nobody listens there.
    let port = free_tcp_port();
    let mut n = BIN.start(Opts::default().env("P2P_REMOTE_HOST", format!("127.0.0.1:{port}")));
    assert_ok(&n.cmd("put local-only fine"));
    assert_eq!(n.cmd("get local-only")["value"], "fine");
    // When the peer comes up on that port, the node joins it by itself.
    let mut later = BIN.start(Opts::default().listen(format!("/ip4/127.0.0.1/tcp/{port}")));
    n.wait_for("peers", Duration::from_secs(40), |v| {
        v["count"].as_u64().unwrap_or(0) >= 1
    });
    later.wait_routing(1, SETTLE);
}

#[test]
fn identity_survives_restart_and_a_corrupt_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let first = {
        let mut n = BIN.start(Opts::default().data_dir(&data));
        let id = n.peer_id.clone();
        n.send("quit");
        assert!(
            n.wait_exit(Duration::from_secs(15))
                .is_some_and(|s| s.success())
        );
        id
    };
    let again = BIN.start(Opts::default().data_dir(&data));
    assert_eq!(again.peer_id, first);
    drop(again);
    std::fs::write(data.join("identity.key"), b"not a key").unwrap();
    let (code, err) = BIN.run_to_exit(&["--listen", "/ip4/127.0.0.1/tcp/0"], &data);
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("identity.key"), "{err}");
}

#[test]
fn eof_and_quit_shut_down_promptly() {
    let mut a = BIN.start(Opts::default());
    let status = a
        .close_stdin_and_wait(Duration::from_secs(15))
        .expect("exit after EOF");
    assert!(status.success());
    let mut b = BIN.start(Opts::default());
    assert_eq!(b.cmd("quit")["cmd"], "quit");
    assert!(
        b.wait_exit(Duration::from_secs(15))
            .expect("exit after quit")
            .success()
    );
}

#[test]
fn ctl_talks_to_a_node_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("svc");
    let mut n = BIN.start(Opts::default().data_dir(&data).arg("--no-repl"));
    // stdin closed: a --no-repl node keeps serving.
    n.close_stdin_and_wait(Duration::from_millis(500));
    let dir = data.display().to_string();
    let ctl = |args: &[&str]| BIN.run(&[&["ctl", "--data-dir", dir.as_str()][..], args].concat());
    let put = ctl(&["--json", "put", "svc-key", "from", "ctl"]);
    assert!(put.ok(), "{put}");
    let got = ctl(&["--json", "get", "svc-key"]);
    let v: Value = serde_json::from_str(&got.stdout).unwrap();
    assert_eq!(v["value"], "from ctl");
    let missing = ctl(&["get", "nothing-here"]);
    assert_eq!(missing.code(), Some(1));
    assert!(missing.stdout.contains("not found"));
    // A second node on the same data directory is refused.
    let (code, err) = BIN.run_to_exit(&["--listen", "/ip4/127.0.0.1/tcp/0"], &data);
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("already running"));
    // `ctl quit` stops it; then ctl finds no node.
    assert!(ctl(&["quit"]).ok());
    assert!(n.wait_exit(Duration::from_secs(15)).is_some());
    let none = ctl(&["id"]);
    assert_eq!(none.code(), Some(2));
    assert!(none.stderr.contains("no running node"));
}

/// Stdin can be a regular file (read on the reader thread) as well as a pipe
/// (read on the runtime): every line is answered, in order, then EOF ends
/// the node. Stdout here is a pipe, written without the blocking pool.
#[test]
fn a_script_file_on_stdin_is_answered_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("script.txt");
    std::fs::write(
        &script,
        "put greeting hello world\nget greeting\nfrobnicate\nget greeting\n",
    )
    .expect("write script");
    let mut cmd = BIN.command();
    cmd.args([
        "--json",
        "--ephemeral",
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--data-dir",
    ])
    .arg(dir.path().join("node"));
    let stdin = std::fs::File::open(&script).expect("open script");
    let out = run_bounded_with(cmd, stdin, Duration::from_secs(30));
    assert!(
        out.ok(),
        "p2pnode did not exit at the end of its script: {out}"
    );
    let out = out.stdout;
    let answers: Vec<Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("cmd").is_some())
        .collect();
    assert_eq!(answers.len(), 4, "one answer per line: {out}");
    assert_eq!(answers[0]["cmd"], "put");
    assert_eq!(answers[0]["stored_locally"], true);
    assert_eq!(answers[1]["value"], "hello world");
    assert_eq!(
        answers[2]["ok"], false,
        "an unknown command is an error: {}",
        answers[2]
    );
    assert_eq!(answers[3]["value"], "hello world");
}

/// Guards the JSON `started` event (issue 12 item 6): README documents
/// `{"event":"started","peer_id","mode","bootstrap"}`: the peer ID of the
/// listening addresses, `create` with no peers to join through, `join`
/// with the bootstrap peers given, listed as given.
#[test]
fn the_started_event_names_the_peer_id_the_mode_and_the_bootstrap_peers() {
    let mut a = BIN.start(Opts::default());
    let started = a.wait_event("started", SETTLE);
    let expected = serde_json::json!({
        "event": "started",
        "peer_id": a.peer_id,
        "mode": "create",
        "bootstrap": [],
    });
    assert_eq!(started, expected);
    let seed = a.tcp_addr().to_string();
    let mut b = BIN.start(Opts::default().bootstrap(&seed));
    let started = b.wait_event("started", SETTLE);
    let expected = serde_json::json!({
        "event": "started",
        "peer_id": b.peer_id,
        "mode": "join",
        "bootstrap": [seed],
    });
    assert_eq!(started, expected);
    assert!(
        b.addrs.iter().all(|x| x.ends_with(&b.peer_id)),
        "{:?}",
        b.addrs
    );
}

/// Guards the address filter (issue 12 item 8; README: addresses from
/// identify are added to the routing table "never `0.0.0.0` or port 0"):
/// a peer serving the DHT that advertises `0.0.0.0`, `::` and port-0
/// addresses beside a real one enters the routing table with the real
/// one only (so neither our dials nor our FIND_NODE answers carry them).
#[test]
fn unspecified_and_port_0_addresses_a_peer_advertises_are_not_kept() {
    let mut a = BIN.start(Opts::default());
    let good = "/ip4/127.0.0.1/tcp/9";
    let advertised: Vec<libp2p::Multiaddr> = [
        "/ip4/0.0.0.0/tcp/4001",
        "/ip6/::/tcp/4001",
        "/ip4/127.0.0.1/tcp/0",
        "/ip4/127.0.0.1/udp/0/quic-v1",
        good,
    ]
    .iter()
    .map(|s| s.parse().expect("a multiaddr"))
    .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut rogue = p2pnode_testkit::rogue::Rogue::advertising(&advertised);
    rt.block_on(rogue.connect(&a.tcp_addr().parse().expect("a multiaddr")));
    let id = rogue.peer_id().to_string();
    let routing = a.wait_for("routing", SETTLE, |v| {
        p2pnode_testkit::routing_ids(v).contains(&id)
    });
    let entry = routing["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .flat_map(|b| b["peers"].as_array().cloned().unwrap_or_default())
        .find(|p| p["peer"] == *id)
        .expect("the peer's entry");
    assert_eq!(entry["addrs"], serde_json::json!([good]), "{entry}");
    // The same addresses in its provider record (ADD_PROVIDER): a
    // GET_PROVIDERS answer carries the real one only.
    let node: libp2p::PeerId = a.peer_id.parse().expect("a peer id");
    let rogue_id = rogue.peer_id();
    let mut add = Message::request(MessageType::AddProvider, b"content".to_vec());
    add.provider_peers = vec![WirePeer::new(&rogue_id, &advertised, true)];
    rt.block_on(rogue.request(node, add));
    let ask = Message::request(MessageType::GetProviders, b"content".to_vec());
    let answer = eventually(SETTLE, || {
        let m = rt.block_on(rogue.request(node, ask.clone()));
        match m.as_ref().map(|m| m.provider_peers.as_slice()) {
            Some([p]) => Ok(p.decode().expect("a peer")),
            _ => Err(format!("{m:?}")),
        }
    });
    assert_eq!(answer.peer, rogue_id);
    let addrs: Vec<String> = answer.addrs.iter().map(ToString::to_string).collect();
    assert_eq!(addrs, [good], "{answer:?}");
}

/// Guards the address filter on Kademlia answers (issue 12 item 8): a
/// peer answering FIND_NODE names another peer with `0.0.0.0`, `::` and
/// port-0 addresses beside a real one; `dial PEER_ID`, which finds the
/// peer through that answer, dials the real address only (its error names
/// each address it tried).
#[test]
fn unspecified_and_port_0_addresses_in_kademlia_answers_are_not_dialled() {
    let mut a = BIN.start(Opts::default());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let own: libp2p::Multiaddr = "/ip4/127.0.0.1/tcp/9".parse().expect("a multiaddr");
    let mut rogue = p2pnode_testkit::rogue::Rogue::advertising(std::slice::from_ref(&own));
    rt.block_on(rogue.connect(&a.tcp_addr().parse().expect("a multiaddr")));
    let id = rogue.peer_id().to_string();
    a.wait_for("routing", SETTLE, |v| {
        p2pnode_testkit::routing_ids(v).contains(&id)
    });
    let closed = free_tcp_port();
    let good = format!("/ip4/127.0.0.1/tcp/{closed}");
    let named: Vec<libp2p::Multiaddr> = [
        "/ip4/0.0.0.0/tcp/4001",
        "/ip6/::/tcp/4001",
        "/ip4/127.0.0.1/tcp/0",
        good.as_str(),
    ]
    .iter()
    .map(|s| s.parse().expect("a multiaddr"))
    .collect();
    let missing = libp2p::PeerId::random();
    let _server = {
        let _guard = rt.enter();
        rogue.serve(vec![WirePeer::new(&missing, &named, false)])
    };
    let got = a.cmd(&format!("dial {missing}"));
    assert_eq!(got["ok"], false, "{got}");
    let error = got["error"].as_str().expect("an error");
    assert!(error.contains(&good), "the real address was tried: {got}");
    for bad in ["0.0.0.0", "/ip6/::/", "/tcp/0"] {
        assert!(!error.contains(bad), "{bad} was dialled: {got}");
    }
}
