//! Misconfiguration gets clear one-line errors, at once (issue 16 §6): a
//! node in its own bootstrap list, addresses that can never be dialled,
//! errors that span lines, more announced addresses than peers keep, two
//! nodes on one TCP port.

use p2pnode_testkit::process::free_tcp_port;
use p2pnode_testkit::{Ask, Binary, Opts, SETTLE, assert_error, read_log};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

#[test]
fn a_node_in_its_own_bootstrap_list_creates_the_network_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, host) in ["127.0.0.1", "localhost"].into_iter().enumerate() {
        let port = free_tcp_port();
        let log = tmp.path().join(format!("n{i}.log"));
        let mut n = BIN.start(
            Opts::default()
                .listen(format!("/ip4/127.0.0.1/tcp/{port}"))
                .env("P2P_REMOTE_HOST", format!("{host}:{port}"))
                .env("RUST_LOG", "info")
                .log_to(&log),
        );
        let started = n.wait_event("started", SETTLE);
        // The first line is answered without waiting to join (the wait
        // gives up after 15 s and says so): the node knows it is alone.
        let got = n.cmd("get k");
        assert_eq!(got["error"], "not found", "{got}");
        let logged = read_log(&log);
        assert!(!logged.contains("still joining"), "{host}: {logged}");
        let warnings = logged.matches("its own bootstrap list").count();
        assert_eq!(warnings, 1, "{host}: one warning:\n{logged}");
        if host == "127.0.0.1" {
            assert_eq!(started["mode"], "create", "{started}");
        }
    }
}

#[test]
fn addresses_that_can_never_work_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (
            vec!["--announce", "/ip4/127.0.0.1/tcp/0"],
            "/ip4/127.0.0.1/tcp/0: port 0",
        ),
        (
            vec!["--announce", "/ip4/0.0.0.0/tcp/4001"],
            "/ip4/0.0.0.0/tcp/4001: 0.0.0.0",
        ),
        (
            vec!["--announce", "/ip4/10.0.0.1"],
            "/ip4/10.0.0.1: it names no host and port",
        ),
        (vec!["--bootstrap", "0.0.0.0:4001"], "0.0.0.0"),
        (vec!["--bootstrap", "/ip4/0.0.0.0/tcp/4001"], "0.0.0.0"),
    ] {
        let (code, err) = BIN.run_to_exit(&args, dir.path());
        assert_eq!(code, Some(2), "{args:?}: {err}");
        let line = err.trim();
        assert!(!line.contains('\n'), "{args:?}: one line: {err}");
        assert!(line.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn more_announced_addresses_than_peers_keep_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let announce: Vec<String> = (1..=17)
        .map(|i| format!("/ip4/10.0.0.{i}/tcp/4001"))
        .collect();
    let list = announce.join(",");
    let (code, err) = BIN.run_to_exit(&["--announce", &list], dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("at most 16"), "{err}");
    // Sixteen are fine, and a peer learns every one of them.
    let list = announce[..16].join(",");
    let mut a = BIN.start(Opts::default().args(&["--announce", &list]));
    // Guards --announce (issue 12 item 7): `id` lists the announced
    // addresses among the external ones (what identify advertises) and not
    // among the listen addresses; the peer's routing table below has them.
    let id = a.cmd("id");
    let external = id["external"].as_array().expect("external");
    let listen = id["listen"].as_array().expect("listen");
    for x in &announce[..16] {
        assert!(
            external
                .iter()
                .any(|e| e.as_str().is_some_and(|e| e.starts_with(x.as_str()))),
            "{x} not in external: {id}"
        );
        assert!(
            !listen
                .iter()
                .any(|e| e.as_str().is_some_and(|e| e.starts_with(x.as_str()))),
            "{x} in listen: {id}"
        );
    }
    let mut b = BIN.start(Opts::default().bootstrap(a.tcp_addr()));
    // Identify brings the announced addresses after the connection.
    let routing = b.wait_for("routing", SETTLE, |v| {
        v["buckets"][0]["peers"][0]["addrs"]
            .as_array()
            .map_or(0, Vec::len)
            > 16
    });
    let addrs = routing["buckets"][0]["peers"][0]["addrs"]
        .as_array()
        .expect("addrs")
        .clone();
    for a in &announce[..16] {
        assert!(addrs.iter().any(|x| x == a), "{a} not learnt: {routing}");
    }
    drop(a);
}

#[test]
fn dial_errors_are_one_line_a_person_can_act_on() {
    let mut n = BIN.start(Opts::default());
    let closed = free_tcp_port();
    let got = n.cmd(&format!("dial 127.0.0.1:{closed}"));
    assert_error(
        &got,
        &format!("dial failed: /ip4/127.0.0.1/tcp/{closed}: connection refused"),
    );
    assert!(
        !got["error"].as_str().unwrap_or_default().contains('\n'),
        "{got}"
    );
}

#[test]
fn a_second_node_on_a_tcp_port_in_use_is_refused() {
    let port = free_tcp_port();
    let listen = format!("/ip4/127.0.0.1/tcp/{port}");
    let _first = BIN.start(Opts::default().listen(&listen));
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--listen", listen.as_str()],
        vec!["--port", &port.to_string()],
    ] {
        let mut all = args.clone();
        all.push("--no-repl");
        let out = BIN.run(&[&["--data-dir", &dir.path().display().to_string()][..], &all].concat());
        assert_eq!(out.code(), Some(1), "{args:?}: {out}");
        assert!(out.stderr.contains("address in use"), "{args:?}: {out}");
    }
}
