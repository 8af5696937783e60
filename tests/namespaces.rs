//! DHT protocol names (`--kad-protocol`, `--lan`): nodes meet only where
//! they share a name. A node of a private namespace and an IPFS-named node
//! refuse each other cleanly (multistream-select finds no common protocol;
//! each says so in one log line) and never enter each other's routing
//! table, even when a lookup learns of the other; a node serving both names
//! routes peers of both, with one routing table and one record store.

use std::time::Duration;

use p2pnode::dht::protocols::KadProtocols;
use p2pnode_testkit::{
    Ask, Binary, Net, NodeExt, NodeProc, Opts, SETTLE, assert_ok, read_log, routing_ids,
};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));
const MYNET: &str = "/mynet/kad/1.0.0";
const WAIT: Duration = Duration::from_secs(30);

/// Waits until `node` has identified `peer` (its agent is known).
fn wait_identified(node: &mut NodeProc, peer: &str) {
    node.wait_for("peers", WAIT, |v| {
        v["peers"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["peer"] == peer && p["agent"].is_string())
    });
}

/// The lines of a log file containing `needle`.
fn log_lines(path: &std::path::Path, needle: &str) -> Vec<String> {
    read_log(path)
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_string)
        .collect()
}

#[test]
fn nodes_of_different_dht_protocols_refuse_each_other_in_one_line() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (log_a, log_b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    let mut a = BIN.start(
        Opts::default()
            .args(&["--kad-protocol", MYNET])
            .log_to(&log_a),
    );
    // B (the default /ipfs/kad/1.0.0) bootstraps through A.
    let mut b = BIN.start(
        Opts::default()
            .bootstrap(a.addrs[0].clone())
            .env("RUST_LOG", "info,p2pnode::network::event_loop::query=debug")
            .log_to(&log_b),
    );
    // B's first command runs: the join gave up on A instead of waiting.
    let id_b = b.cmd("id");
    assert_eq!(
        id_b["dht_protocols"],
        serde_json::json!(["/ipfs/kad/1.0.0"])
    );
    let (pa, pb) = (a.peer_id.clone(), b.peer_id.clone());
    wait_identified(&mut b, &pa);
    wait_identified(&mut a, &pb);
    // Identified, and the decision is made with it: neither routes the other.
    assert!(routing_ids(&b.cmd("routing")).is_empty(), "B routes A");
    assert!(routing_ids(&a.cmd("routing")).is_empty(), "A routes B");
    let put = b.cmd("put ns-key v");
    assert_ok(&put);
    assert_eq!(put["replicated"], 0, "{put}");
    // One line each, naming both sides' protocols.
    let refused = "serves none of this node's DHT protocols";
    let lines = log_lines(&log_b, refused);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains(MYNET) && lines[0].contains("/ipfs/kad/1.0.0"),
        "{}",
        lines[0]
    );
    let lines = log_lines(&log_a, "runs a DHT under another protocol name");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains(MYNET) && lines[0].contains("/ipfs/kad/1.0.0"),
        "{}",
        lines[0]
    );

    // C serves both names and bridges: B learns of A from C's answers, and
    // its request to A fails in negotiation; A still stays out of B's table.
    let mut c = BIN.start(
        Opts::default()
            .args(&["--kad-protocol", MYNET, "--kad-protocol", "/ipfs/kad/1.0.0"])
            .bootstrap(a.addrs[0].clone())
            .bootstrap(b.addrs[0].clone()),
    );
    let pc = c.peer_id.clone();
    c.wait_for("routing", SETTLE, |v| {
        let ids = routing_ids(v);
        ids.contains(&pa) && ids.contains(&pb)
    });
    b.wait_for("routing", SETTLE, |v| routing_ids(v).contains(&pc));
    assert_ok(&b.cmd("bootstrap"));
    let failed = "no common DHT protocol (this node serves /ipfs/kad/1.0.0)";
    p2pnode_testkit::eventually(WAIT, || match log_lines(&log_b, failed).len() {
        0 => Err("B's lookup has not tried A yet"),
        _ => Ok(()),
    });
    assert_eq!(routing_ids(&b.cmd("routing")), std::slice::from_ref(&pc));
    a.wait_for("routing", WAIT, |v| routing_ids(v) == [pc.clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_serving_two_names_keeps_one_table_and_one_store() {
    let names = |v: &[&str]| {
        let v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        KadProtocols::new(&v, false).expect("valid names")
    };
    let mut net = Net::new();
    let a = net.spawn(|c| c.kad_protocols = names(&[MYNET])).await;
    let b = net.spawn(|_| {}).await;
    let both = names(&[MYNET, "/ipfs/kad/1.0.0"]);
    let targets = vec![
        p2pnode_testkit::inproc::target(&a),
        p2pnode_testkit::inproc::target(&b),
    ];
    let c = net
        .spawn(move |cfg| {
            cfg.kad_protocols = both;
            cfg.bootstrap = targets;
        })
        .await;
    c.wait_routing(2, SETTLE).await;
    b.wait_routing(1, SETTLE).await;
    a.wait_routing(1, SETTLE).await;
    // What B (IPFS name) stores lands on C, and A (private name) reads it there.
    let put = b.cmd("put shared-key hello").await;
    assert_ok(&put);
    assert_eq!(put["replicated"], 1, "only C takes it: {put}");
    let got = a.cmd("get shared-key").await;
    assert_ok(&got);
    assert_eq!(got["value"], "hello", "{got}");
    assert_eq!(got["from"], c.peer_id.to_string(), "{got}");
    assert_eq!(a.cmd("routing").await["size"], 1);
    assert_eq!(b.cmd("routing").await["size"], 1);
}
