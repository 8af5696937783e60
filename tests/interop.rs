//! Interoperability with another libp2p implementation: py-libp2p 0.8.1
//! (`../shared/peers/py_kad_peer.py`), in both directions, over TCP for
//! Kademlia (and QUIC for connect, identify and ping, which is what works
//! between the two over QUIC; see the peers' README).
//!
//! Each test starts its own processes on 127.0.0.1 and drops them at the
//! end (the py peers also exit by themselves after `LIFETIME_SECS`); every
//! wait is bounded. Keys are fresh per test: py-libp2p refuses re-puts.
//! The reference peers come from `bash ../shared/peers/setup.sh`, which the
//! tests run themselves when the venv is missing (`P2PNODE_PEERS_DIR` names
//! another peers directory).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use p2pnode_testkit::peers::{self, PyPeer};
use p2pnode_testkit::{Ask, Binary, NodeProc, Opts, routing_ids};
use serde_json::Value;

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

/// How long a condition across two implementations may take to hold.
const WAIT: Duration = Duration::from_secs(30);

fn init() {
    // Install (or find) the reference peers before any node starts, so the
    // first test does not spend its budget on `setup.sh`.
    let _ = peers::python();
}

/// A key no earlier run used (py-libp2p keeps the first value of a key).
fn fresh(what: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("io-{what}-{}-{nanos:08x}", std::process::id())
}

/// The entry for `id` in a p2pnode `peers` reply.
fn peer_entry<'a>(v: &'a Value, id: &str) -> Option<&'a Value> {
    v["peers"].as_array()?.iter().find(|p| p["peer"] == id)
}

/// Waits until `node` is connected to `id`, has identified it (agent
/// known) and pinged it (round-trip time known); returns that entry.
fn wait_identified_and_pinged(node: &mut NodeProc, id: &str) -> Value {
    let v = node.wait_for("peers", WAIT, |v| {
        peer_entry(v, id).is_some_and(|p| p["agent"].is_string() && p["rtt_ms"].is_number())
    });
    peer_entry(&v, id).cloned().unwrap_or_default()
}

fn ids_after(answer: &str, prefix: &str) -> Vec<String> {
    answer
        .strip_prefix(prefix)
        .map(|rest| {
            rest.split_whitespace()
                .last()
                .unwrap_or("")
                .split(',')
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn p2pnode_joins_a_network_bootstrapped_from_py_libp2p() {
    init();
    let mut a = PyPeer::start(&[], false);
    let mut b = PyPeer::start(&[&a.addr], false);
    // The bootstrap peer must know its other peer before p2pnode asks it.
    a.wait_for("routing", WAIT, |r| {
        ids_after(r, "ROUTING ").contains(&b.id)
    });
    let mut n = BIN.start(Opts::default().bootstrap(a.addr.clone()));

    // identify and ping, both ways of seeing it.
    let entry = wait_identified_and_pinged(&mut n, &a.id);
    assert!(
        entry["agent"]
            .as_str()
            .is_some_and(|s| !s.starts_with("p2pnode")),
        "{entry}"
    );
    // Each in the other's routing table.
    n.wait_for("routing", WAIT, |v| routing_ids(v).contains(&a.id));
    a.wait_for("routing", WAIT, |r| {
        ids_after(r, "ROUTING ").contains(&n.peer_id)
    });
    // Through the bootstrap lookup p2pnode also learns py's other peer.
    n.wait_for("routing", WAIT, |v| routing_ids(v).contains(&b.id));

    // A record put on p2pnode lands on py (PUT_VALUE) and py's get reads it.
    let k1 = fresh("p2p-to-py");
    let put = n.cmd(&format!("put {k1} from p2pnode"));
    assert_eq!(put["ok"], true, "{put}");
    assert!(put["replicated"].as_u64().unwrap_or(0) >= 1, "{put}");
    assert_eq!(
        a.wait_for(&format!("local {k1}"), WAIT, |r| r.starts_with("VALUE")),
        "VALUE from p2pnode"
    );
    assert_eq!(b.cmd(&format!("get {k1}")), "VALUE from p2pnode");

    // A record put on py is read by p2pnode.
    let k2 = fresh("py-to-p2p");
    assert_eq!(b.cmd(&format!("put {k2} from py-libp2p")), "OK");
    let got = n.wait_for(&format!("get {k2}"), WAIT, |v| v["ok"] == true);
    assert_eq!(got["value"], "from py-libp2p", "{got}");

    // Provider records both ways, keyed by sha2-256 multihashes.
    let p1 = format!("mh:{}", fresh("prov-p2p"));
    let provide = n.cmd(&format!("provide {p1}"));
    assert_eq!(provide["ok"], true, "{provide}");
    a.wait_for(&format!("providers {p1}"), WAIT, |r| {
        ids_after(r, "PROVIDERS").contains(&n.peer_id)
    });
    b.wait_for(&format!("providers {p1}"), WAIT, |r| {
        ids_after(r, "PROVIDERS").contains(&n.peer_id)
    });

    let p2 = format!("mh:{}", fresh("prov-py"));
    assert_eq!(b.cmd(&format!("provide {p2}")), "OK");
    let found = n.wait_for(&format!("providers {p2}"), WAIT, |v| {
        v["providers"]
            .as_array()
            .is_some_and(|p| p.iter().any(|x| *x == b.id.as_str()))
    });
    assert_eq!(found["ok"], true, "{found}");
}

#[test]
fn py_libp2p_joins_a_network_bootstrapped_from_p2pnode() {
    init();
    let mut s = BIN.start(Opts::default());
    let mut t = BIN.start(Opts::default().bootstrap(s.tcp_addr().to_string()));
    t.wait_routing(1, WAIT);
    let mut p = PyPeer::start(&[s.tcp_addr()], false);

    let entry = wait_identified_and_pinged(&mut s, &p.id);
    assert!(entry["agent"].is_string(), "{entry}");
    p.wait_for("routing", WAIT, |r| {
        ids_after(r, "ROUTING ").contains(&s.peer_id)
    });
    s.wait_for("routing", WAIT, |v| routing_ids(v).contains(&p.id));

    // A record put on py is read by both p2pnode nodes.
    let k3 = fresh("py-put");
    assert_eq!(p.cmd(&format!("put {k3} py says hi")), "OK");
    for node in [&mut s, &mut t] {
        let got = node.wait_for(&format!("get {k3}"), WAIT, |v| v["ok"] == true);
        assert_eq!(got["value"], "py says hi", "{got}");
    }
    // A record put on p2pnode is read by py.
    let k4 = fresh("p2p-put");
    let put = t.cmd(&format!("put {k4} p2pnode says hi"));
    assert_eq!(put["ok"], true, "{put}");
    assert_eq!(
        p.wait_for(&format!("get {k4}"), WAIT, |r| r.starts_with("VALUE")),
        "VALUE p2pnode says hi"
    );

    // Providers both ways.
    let p3 = format!("mh:{}", fresh("prov-t"));
    assert_eq!(t.cmd(&format!("provide {p3}"))["ok"], true);
    p.wait_for(&format!("providers {p3}"), WAIT, |r| {
        ids_after(r, "PROVIDERS").contains(&t.peer_id)
    });
    let p4 = format!("mh:{}", fresh("prov-py"));
    assert_eq!(p.cmd(&format!("provide {p4}")), "OK");
    s.wait_for(&format!("providers {p4}"), WAIT, |v| {
        v["providers"]
            .as_array()
            .is_some_and(|x| x.iter().any(|id| *id == p.id.as_str()))
    });

    // A p2pnode joining late through the py peer finds the earlier record
    // with a lookup (GET_VALUE) rather than from its own store.
    let mut u = BIN.start(Opts::default().bootstrap(p.addr.clone()));
    u.wait_routing(1, WAIT);
    let got = u.wait_for(&format!("get {k3}"), WAIT, |v| v["ok"] == true);
    assert_eq!(got["value"], "py says hi", "{got}");
    assert_ne!(got["from"], "local", "{got}");
}

#[test]
fn quic_connect_identify_and_ping_both_ways_with_py_libp2p() {
    init();
    let quic = "/ip4/127.0.0.1/udp/0/quic-v1";
    let mut r = BIN.start(Opts::default().listen(quic));
    let q = PyPeer::start(&[], true);
    let q_quic = q.quic.clone().expect("py QUIC address");

    // p2pnode dials py over QUIC.
    let dial = r.cmd(&format!("dial {q_quic}"));
    assert_eq!(dial["ok"], true, "{dial}");
    assert_eq!(dial["peer"], q.id.as_str(), "{dial}");
    let entry = wait_identified_and_pinged(&mut r, &q.id);
    assert!(
        entry["addrs"].as_array().is_some_and(|a| a
            .iter()
            .any(|x| x.as_str().is_some_and(|s| s.contains("/quic-v1")))),
        "{entry}"
    );

    // py dials p2pnode over QUIC.
    let mut q2 = PyPeer::start(&[], true);
    let r_quic = r
        .addrs
        .iter()
        .find(|a| a.contains("/quic-v1"))
        .expect("p2pnode QUIC address")
        .clone();
    assert_eq!(q2.cmd(&format!("connect {r_quic}")), "OK");
    q2.wait_for("peers", WAIT, |a| {
        ids_after(a, "PEERS").contains(&r.peer_id)
    });
    wait_identified_and_pinged(&mut r, &q2.id);
}
