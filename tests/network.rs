//! End-to-end tests of the binary: separate p2pnode processes on 127.0.0.1
//! with ephemeral ports, bootstrapped the ways users do it, driven through
//! stdin and `--json`.

mod common;

use std::time::Duration;

use common::{NodeProc, Opts};
use serde_json::Value;

const SETTLE: Duration = Duration::from_secs(30);

fn assert_ok(v: &Value) {
    assert_eq!(v["ok"], true, "expected ok: {v}");
}

/// The port of the first `/tcp/` address.
fn port(node: &NodeProc) -> u16 {
    node.tcp_port()
}

#[test]
fn five_nodes_join_through_every_form_of_p2p_remote_host() {
    let seed = NodeProc::start(Opts::default());
    let addr = seed.tcp_addr().to_string();
    let without_id = addr.rsplit_once("/p2p/").expect("p2p suffix").0.to_string();
    let forms = [
        addr.clone(),
        without_id,
        format!("127.0.0.1:{}", port(&seed)),
        format!("localhost:{}", port(&seed)),
    ];
    let mut nodes = vec![seed];
    for form in forms {
        nodes.push(NodeProc::start(
            Opts::default().env("P2P_REMOTE_HOST", form),
        ));
    }
    // Every node learns all four others.
    for n in nodes.iter_mut() {
        n.wait_routing(4, SETTLE);
    }
    let put = nodes[2].cmd("put greeting hello big world");
    assert_ok(&put);
    assert_eq!(
        put["replicated"], 4,
        "all four others are among the k closest: {put}"
    );
    for (i, n) in nodes.iter_mut().enumerate() {
        let got = n.cmd("get greeting");
        assert_ok(&got);
        assert_eq!(got["value"], "hello big world", "node {i}: {got}");
    }
    // A node joining late has no local copy: it finds the record on the network.
    let seed_addr = nodes[0].tcp_addr().to_string();
    let mut late = NodeProc::start(Opts::default().env("P2P_REMOTE_HOST", seed_addr));
    late.wait_routing(5, SETTLE);
    let got = late.cmd("get greeting");
    assert_ok(&got);
    assert_eq!(got["value"], "hello big world");
    assert_ne!(
        got["from"], "local",
        "the late node must have asked the network: {got}"
    );
    assert!(got["peers_queried"].as_u64().unwrap() >= 1, "{got}");
}

#[test]
fn first_node_creates_and_reports_it() {
    let mut solo = NodeProc::start(Opts::default());
    // A one-node network: put stores locally and says nobody else took it.
    let put = solo.cmd("put k v");
    assert_ok(&put);
    assert_eq!(put["replicated"], 0);
    assert_eq!(solo.cmd("get k")["value"], "v");
    let peers = solo.cmd("peers");
    assert_eq!(peers["count"], 0);
    // An explicit quorum that cannot be met is reported as a failure, honestly.
    let q = solo.cmd("put k2 v --quorum 1");
    assert_eq!(q["ok"], false, "{q}");
    assert!(
        q["error"].as_str().unwrap().contains("stored locally"),
        "{q}"
    );
}

#[test]
fn quic_only_network() {
    let quic = "/ip4/127.0.0.1/udp/0/quic-v1";
    let seed = NodeProc::start(Opts::default().listen(quic));
    let seed_addr = seed.addrs[0].clone();
    assert!(seed_addr.contains("/quic-v1/"), "{seed_addr}");
    let mut nodes = vec![seed];
    for _ in 0..3 {
        nodes.push(NodeProc::start(
            Opts::default().listen(quic).bootstrap(seed_addr.clone()),
        ));
    }
    for n in nodes.iter_mut() {
        n.wait_routing(3, SETTLE);
    }
    assert_ok(&nodes[1].cmd("put over-quic value"));
    for n in nodes.iter_mut() {
        assert_eq!(n.cmd("get over-quic")["value"], "value");
    }
    let peers = nodes[3].cmd("peers");
    for p in peers["peers"].as_array().unwrap() {
        for a in p["addrs"].as_array().unwrap() {
            assert!(
                a.as_str().unwrap().contains("quic-v1"),
                "non-QUIC connection: {a}"
            );
        }
    }
}

#[test]
fn bad_input_gets_one_line_errors_and_the_node_keeps_working() {
    let mut n = NodeProc::start(Opts::default().arg("--max-value-size").arg("100"));
    for (line, needle) in [
        ("frobnicate", "unknown command"),
        ("put", "usage"),
        ("put onlykey", "missing VALUE"),
        ("get", "usage"),
        ("get hex:", "empty"),
        ("dial /ip4/300.1.1.1/tcp/1", "invalid address"),
        ("dial /ip4/127.0.0.1", "no transport"),
        ("get k --quorum zero", "bad quorum"),
    ] {
        let v = n.cmd(line);
        assert_eq!(v["ok"], false, "{line}: {v}");
        let e = v["error"].as_str().unwrap();
        assert!(e.contains(needle), "{line}: {e}");
        assert!(!e.contains('\n'));
    }
    let big = "x".repeat(101);
    let v = n.cmd(&format!("put big {big}"));
    assert_eq!(v["ok"], false);
    assert!(v["error"].as_str().unwrap().contains("limit is 100"), "{v}");
    let exact = "y".repeat(100);
    assert_ok(&n.cmd(&format!("put exact {exact}")));
    // Nothing was lost: the node still answers and holds what it was given.
    assert_eq!(n.cmd("get exact")["value"], exact.as_str());
    assert_eq!(n.cmd("get big")["ok"], false);
    // An unreachable peer is an error for `dial`, not a crash.
    let v = n.cmd("dial 127.0.0.1:1");
    assert_eq!(v["ok"], false, "{v}");
    assert_ok(&n.cmd("id"));
}

#[test]
fn bad_bootstrap_address_is_refused_at_start() {
    let out = std::process::Command::new(common::binary())
        .args([
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--ephemeral",
            "--data-dir",
        ])
        .arg(tempfile::tempdir().unwrap().path())
        .env("P2P_REMOTE_HOST", "node1, /ip4/bogus/tcp/1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/ip4/bogus/tcp/1"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[test]
fn unreachable_bootstrap_peer_is_retried_while_the_node_serves() {
    // Take a free port, then free it: nobody listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut n =
        NodeProc::start(Opts::default().env("P2P_REMOTE_HOST", format!("127.0.0.1:{port}")));
    assert_ok(&n.cmd("put local-only fine"));
    assert_eq!(n.cmd("get local-only")["value"], "fine");
    // When the peer comes up on that port, the node joins it by itself.
    let mut later = NodeProc::start(Opts::default().listen(format!("/ip4/127.0.0.1/tcp/{port}")));
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
        let mut n = NodeProc::start(Opts::default().data_dir(&data));
        let id = n.peer_id.clone();
        n.send("quit");
        assert!(
            n.wait_exit(Duration::from_secs(15))
                .is_some_and(|s| s.success())
        );
        id
    };
    let again = NodeProc::start(Opts::default().data_dir(&data));
    assert_eq!(again.peer_id, first);
    drop(again);
    std::fs::write(data.join("identity.key"), b"not a key").unwrap();
    let out = std::process::Command::new(common::binary())
        .args(["--listen", "/ip4/127.0.0.1/tcp/0", "--data-dir"])
        .arg(&data)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("identity.key"), "{err}");
}

#[test]
fn eof_and_quit_shut_down_promptly() {
    let mut a = NodeProc::start(Opts::default());
    let status = a
        .close_stdin_and_wait(Duration::from_secs(15))
        .expect("exit after EOF");
    assert!(status.success());
    let mut b = NodeProc::start(Opts::default());
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
    let mut n = NodeProc::start(Opts::default().data_dir(&data).arg("--no-repl"));
    // stdin closed: a --no-repl node keeps serving.
    n.close_stdin_and_wait(Duration::from_millis(500));
    let ctl = |args: &[&str]| {
        std::process::Command::new(common::binary())
            .arg("ctl")
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .output()
            .unwrap()
    };
    let put = ctl(&["--json", "put", "svc-key", "from", "ctl"]);
    assert!(put.status.success(), "{put:?}");
    let got = ctl(&["--json", "get", "svc-key"]);
    let v: Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(v["value"], "from ctl");
    let missing = ctl(&["get", "nothing-here"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stdout).contains("not found"));
    // A second node on the same data directory is refused.
    let clash = std::process::Command::new(common::binary())
        .args(["--listen", "/ip4/127.0.0.1/tcp/0", "--data-dir"])
        .arg(&data)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!clash.status.success());
    assert!(String::from_utf8_lossy(&clash.stderr).contains("already running"));
    // `ctl quit` stops it; then ctl finds no node.
    assert!(ctl(&["quit"]).status.success());
    assert!(n.wait_exit(Duration::from_secs(15)).is_some());
    let none = ctl(&["id"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no running node"));
}

/// Stdin can be a regular file (read on the reader thread) as well as a pipe
/// (read on the runtime): every line is answered, in order, then EOF ends
/// the node. Stdout here is a pipe, written without the blocking pool.
#[test]
fn a_script_file_on_stdin_is_answered_in_order() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    use std::time::Instant;

    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("script.txt");
    std::fs::write(
        &script,
        "put greeting hello world\nget greeting\nfrobnicate\nget greeting\n",
    )
    .expect("write script");
    let mut child = Command::new(common::binary())
        .args([
            "--json",
            "--ephemeral",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--data-dir",
        ])
        .arg(dir.path().join("node"))
        .env_remove("P2P_REMOTE_HOST")
        .stdin(std::fs::File::open(&script).expect("open script"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn p2pnode");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("p2pnode did not exit at the end of its script");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status}");
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read stdout");
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
