//! Answers count only what happened (issue 16 §4): `replicated` counts the
//! peers that stored the record (a refusal, for any reason, does not count,
//! and the refusal says why); a node refuses locally what its rules refuse
//! from a peer; `--quorum all` means every closest peer that is alive.

use std::time::Duration;

use p2pnode_testkit::{Ask, Binary, NodeProc, Opts, SETTLE, assert_error, assert_ok};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

fn pair(b_args: &[&str]) -> (NodeProc, NodeProc) {
    let mut a = BIN.start(Opts::default().arg("--max-value-size").arg("200000"));
    let mut b = BIN.start(Opts::default().args(b_args).bootstrap(a.tcp_addr()));
    a.wait_routing(1, SETTLE);
    b.wait_routing(1, SETTLE);
    (a, b)
}

#[test]
fn a_peer_that_refuses_is_not_counted_as_storing() {
    // Over B's value limit.
    let (mut a, mut b) = pair(&["--max-value-size", "8"]);
    let put = a.cmd("put big 123456789 --quorum 1");
    assert_error(
        &put,
        "quorum not met: stored locally, replicated to 0 peer(s)",
    );
    assert_error(&put, "the value is 9 bytes; the limit is 8");
    assert_eq!(put["replicated"], 0, "{put}");
    assert_eq!(put["refused"][0]["peer"], b.peer_id.as_str(), "{put}");
    let s = b.cmd("stats");
    assert_eq!(s["records"], 0, "{s}");
    assert_eq!(s["records_refused"], 1, "{s}");

    // Over B's key limit, and past B's record count (other peers may fill
    // three quarters of it: 3 of 4): the same.
    let (mut a, mut b) = pair(&["--max-key-size", "4", "--max-records", "4"]);
    let put = a.cmd("put longkey v --quorum 1");
    assert_error(&put, "the key is 7 bytes; the limit is 4");
    for k in ["k1", "k2", "k3"] {
        assert_ok(&a.cmd(&format!("put {k} v --quorum 1")));
    }
    let put = a.cmd("put k4 v --quorum 1");
    assert_error(&put, "is full");
    assert_eq!(b.stat("records"), 3);
    assert_eq!(b.stat("records_refused"), 2);
}

#[test]
fn a_node_refuses_locally_what_it_would_refuse_from_a_peer() {
    let mut a = BIN.start(Opts::default().arg("--max-value-size").arg("8"));
    let put = a.cmd("put big 123456789");
    assert_error(
        &put,
        "the value is 9 bytes; the limit is 8 (--max-value-size)",
    );
    assert_eq!(a.cmd("get big")["ok"], false);
    // A /pk/ record must hold the public key of the peer its key names:
    // here the key names this node, the value is not its key.
    let id: libp2p::PeerId = a.peer_id.parse().expect("a peer id");
    let key = format!("hex:2f706b2f{}", hex::encode(id.to_bytes()));
    let put = a.cmd(&format!("put {key} nokey"));
    assert_error(&put, "/pk/");
    assert_eq!(a.stat("records"), 0);
}

/// Guards `put --quorum all` (issue 12 item 5): the answer counts every
/// alive closest peer (here all three others save the killed one, each
/// named), a dead peer does not count, and the quorum fails when an alive
/// peer does not store the record or when there is no other peer at all.
#[test]
fn quorum_all_counts_the_live_closest_peers_only() {
    let mut nodes = BIN.network(4);
    for n in nodes.iter_mut() {
        n.wait_routing(3, SETTLE);
    }
    nodes.pop().expect("D").kill();
    let alive: Vec<String> = nodes[1..].iter().map(|n| n.peer_id.clone()).collect();
    let a = &mut nodes[0];
    let put = a.cmd("put k v --quorum all");
    assert_ok(&put);
    assert_eq!(put["replicated"], 2, "{put}");
    let mut to: Vec<String> = put["replicated_to"]
        .as_array()
        .expect("replicated_to")
        .iter()
        .map(|p| p.as_str().expect("a peer id").to_string())
        .collect();
    to.sort();
    let mut expected = alive.clone();
    expected.sort();
    assert_eq!(to, expected, "{put}");
    // The dead peer left A's routing table: it did not answer.
    a.wait_for("routing", Duration::from_secs(30), |v| v["size"] == 2);
    let put = a.cmd("put k2 v --quorum all");
    assert_ok(&put);
    assert_eq!(put["replicated"], 2, "{put}");
}

#[test]
fn quorum_all_fails_when_an_alive_closest_peer_does_not_store_it() {
    let (mut a, _b) = pair(&["--max-value-size", "8"]);
    let put = a.cmd("put big 123456789 --quorum all");
    assert_error(
        &put,
        "quorum not met: stored locally, replicated to 0 peer(s)",
    );
    assert_eq!(put["refused"].as_array().map(Vec::len), Some(1), "{put}");
    assert_ok(&a.cmd("put small 1234 --quorum all"));
    // With no other peer at all, `all` is not met.
    let mut alone = BIN.start(Opts::default());
    let put = alone.cmd("put k v --quorum all");
    assert_error(
        &put,
        "quorum not met: stored locally, replicated to 0 peer(s)",
    );
}
