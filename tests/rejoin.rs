//! A restarted node rejoins the network it knew (issue 16 §2): it saves
//! its routing table's peers and dials them on start, beside any bootstrap
//! peers; the join wait before a script's first line is not cut short by a
//! first bootstrap peer that is down; the same address listed several
//! times opens one connection.

use std::time::Duration;

use p2pnode_testkit::process::free_tcp_port;
use p2pnode_testkit::{Ask, Binary, Opts, SETTLE, assert_ok};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

#[test]
fn a_restarted_seed_rejoins_through_the_peers_it_knew() {
    let tmp = tempfile::tempdir().unwrap();
    let a_dir = tmp.path().join("a");
    let port = free_tcp_port();
    let a_listen = format!("/ip4/127.0.0.1/tcp/{port}");
    let remote = format!("127.0.0.1:{port}");
    let mut a = BIN.start(Opts::default().data_dir(&a_dir).listen(&a_listen));
    let mut b = BIN.start(Opts::default().env("P2P_REMOTE_HOST", &remote));
    let mut c = BIN.start(Opts::default().env("P2P_REMOTE_HOST", &remote));
    for n in [&mut a, &mut b, &mut c] {
        n.wait_routing(2, SETTLE);
    }
    // A saves its routing table as it goes and when it stops.
    assert_eq!(a.cmd("quit")["cmd"], "quit");
    a.wait_exit(Duration::from_secs(12)).expect("A stops");
    drop(a);
    let put = b.cmd("put x kept");
    assert_ok(&put);
    assert_eq!(put["replicated"], 1, "only C is up: {put}");

    // A restarts: same data directory and port, no bootstrap peer.
    let mut a = BIN.start(Opts::default().data_dir(&a_dir).listen(&a_listen));
    let started = a.wait_event("started", SETTLE);
    assert_eq!(started["mode"], "rejoin", "{started}");
    a.wait_routing(2, SETTLE);
    // D joins through A alone, and finds what B put while A was away.
    let mut d = BIN.start(Opts::default().env("P2P_REMOTE_HOST", &remote));
    let got = d.cmd("get x");
    assert_eq!(got["value"], "kept", "{got}");
}

#[test]
fn a_node_whose_bootstrap_peer_is_gone_rejoins_through_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let d_dir = tmp.path().join("d");
    let mut nodes = BIN.network(3);
    let seed = nodes[0].tcp_addr().to_string();
    let mut d = BIN.start(Opts::default().data_dir(&d_dir).bootstrap(&seed));
    d.wait_routing(3, SETTLE);
    assert_eq!(d.cmd("quit")["cmd"], "quit");
    d.wait_exit(Duration::from_secs(12)).expect("D stops");
    drop(d);
    // The seed dies for good.
    nodes.remove(0).kill();
    assert_ok(&nodes[0].cmd("put while-away here"));
    let mut d = BIN.start(Opts::default().data_dir(&d_dir).bootstrap(&seed));
    assert_eq!(d.wait_event("started", SETTLE)["mode"], "rejoin");
    let got = d.cmd("get while-away");
    assert_eq!(got["value"], "here", "{got}");
}

#[test]
fn a_dead_first_bootstrap_peer_does_not_end_the_join_wait() {
    let mut a = BIN.start(Opts::default());
    assert_ok(&a.cmd("put k held-by-a"));
    let closed = free_tcp_port();
    let remote = format!("127.0.0.1:{closed},127.0.0.1:{}", a.tcp_port());
    // Five starts: the first line of stdin is `get k`, answered once the
    // node has joined through A (the closed port fails first).
    for _ in 0..5 {
        let mut n = BIN.start(Opts::default().env("P2P_REMOTE_HOST", &remote));
        let got = n.cmd("get k");
        assert_eq!(got["value"], "held-by-a", "{got}");
    }
}

#[test]
fn the_same_bootstrap_address_listed_four_times_opens_one_connection() {
    let mut a = BIN.start(Opts::default());
    let addr = format!("127.0.0.1:{}", a.tcp_port());
    let list = [addr.as_str(); 4].join(",");
    let mut n = BIN.start(Opts::default().env("P2P_REMOTE_HOST", &list));
    n.wait_routing(1, SETTLE);
    a.wait_routing(1, SETTLE);
    assert_eq!(n.stat("connections"), 1);
    assert_eq!(a.stat("connections"), 1);
}
