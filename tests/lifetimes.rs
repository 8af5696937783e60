//! Records live exactly as long as they should (issue 16 §4b): what has
//! expired is gone wherever limits are counted; a publisher that is up
//! keeps its copies alive on its peers without a gap; a copy too large for
//! a node is refused, counted and logged, also when the protocol layer
//! refuses it, and a get that meets one says so.

use std::time::Duration;

use p2pnode_testkit::peers::PyPeer;
use p2pnode_testkit::{Ask, Binary, Opts, SETTLE, assert_ok, holding_until};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

#[test]
fn expired_provider_records_make_room() {
    let mut b = BIN.start(Opts::default().args(&[
        "--max-provider-keys=1",
        "--record-ttl=3s",
        "--republish-interval=2s",
        "--replication-interval=1s",
    ]));
    let seed = b.tcp_addr().to_string();
    let provide_and_quit = |key: &str| {
        let mut a = BIN.start(Opts::default().bootstrap(&seed));
        a.wait_routing(1, SETTLE);
        assert_ok(&a.cmd(&format!("provide {key}")));
        let id = a.peer_id.clone();
        assert_eq!(a.cmd("quit")["cmd"], "quit");
        id
    };
    provide_and_quit("k1");
    assert_eq!(b.stat("provider_records"), 1);
    // k1's announcement expires (its provider is gone): B drops it.
    b.wait_for("stats", SETTLE, |v| v["provider_records"] == 0);
    let a2 = provide_and_quit("k2");
    let mut a3 = BIN.start(Opts::default().bootstrap(b.tcp_addr()));
    a3.wait_routing(1, SETTLE);
    let found = a3.cmd("providers k2");
    assert_eq!(found["providers"], serde_json::json!([a2]), "{found}");
    assert_eq!(b.stat("records_refused"), 0);
}

#[test]
fn copies_never_lapse_while_their_publisher_is_up() {
    let flags = [
        "--record-ttl=6s",
        "--republish-interval=4s",
        "--replication-interval=3s",
    ];
    let mut a = BIN.start(Opts::default().args(&flags));
    let mut h = BIN.start(Opts::default().args(&flags).bootstrap(a.tcp_addr()));
    a.wait_routing(1, SETTLE);
    h.wait_routing(1, SETTLE);
    assert_eq!(a.cmd("put k v")["replicated"], 1);
    // Three republications later, H has held its copy at every poll.
    let start = std::time::Instant::now();
    holding_until(
        "three TTLs",
        Duration::from_secs(60),
        Duration::from_millis(250),
        || {
            let got = h.cmd("get k");
            assert_eq!(got["from"], "local", "H's copy lapsed: {got}");
            start.elapsed() >= Duration::from_secs(14)
        },
    );
}

#[test]
fn an_oversized_value_from_another_implementation_is_refused_counted_and_named() {
    let mut n = BIN.start(Opts::default().arg("--max-value-size").arg("65536"));
    let mut py = PyPeer::start(&[n.tcp_addr()], false);
    n.wait_routing(1, SETTLE);
    // py-libp2p pushes to the peers in its routing table: N must be there.
    let n_id = n.peer_id.clone();
    py.wait_for("routing", SETTLE, |a| a.contains(&n_id));
    let big = "x".repeat(100_000);
    // py-libp2p stores it locally and pushes it to N, which refuses the
    // message at the protocol layer: counted, not silently dropped.
    let _ = py.cmd(&format!("put big-one {big}"));
    n.wait_for("stats", SETTLE, |v| v["records_refused"] == 1);
    assert_eq!(n.stat("records"), 0);
    // N's get meets py's oversized copy and says so.
    let got = n.cmd("get big-one");
    assert_eq!(got["ok"], false, "{got}");
    let e = got["error"].as_str().unwrap_or_default();
    assert!(e.contains("over this node's limit"), "{got}");
}
