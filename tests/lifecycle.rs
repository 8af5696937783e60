//! Record lifecycle, in-process: records expire after their TTL, the
//! originator republishes to nodes that joined later, holders replicate,
//! quorums are counted, and conflicting values are all reported. A node
//! "dies" by shutting down; its peers see its connections close, as they
//! would after SIGKILL (no Kademlia message announces a departure).

use std::time::{Duration, Instant};

use p2pnode::{Config, Node};
use p2pnode_testkit::{Net, NodeExt, SETTLE, assert_error, assert_ok, spawn_nodes, throughout};
use serde_json::Value;

/// How long a record may outlive its last publisher before the test fails:
/// a bound on the wait, not a timing claim (the TTL is 6 s; expiry runs on
/// the nodes' own timers, which a loaded machine delays).
const EXPIRY_BOUND: Duration = Duration::from_secs(60);

/// Short lifecycle: TTL 6 s, republish and replicate every 2 s.
fn fast(c: &mut Config) {
    c.timings.record_ttl = Duration::from_secs(6);
    c.timings.republish_interval = Duration::from_secs(2);
    c.timings.replication_interval = Duration::from_secs(2);
}

/// Waits until `node` holds `key` in its own store (a republication or a
/// replication has reached it); the `get` answer that says so.
async fn held(node: &Node, key: &str) -> Value {
    let get = format!("get {key}");
    node.wait_for(&get, Duration::from_secs(20), |v| v["from"] == "local")
        .await
}

/// Stops `node` and waits until its event loop is gone.
async fn stop(mut node: Node) {
    node.client.shutdown().await.expect("a running node");
    node.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_expire_once_their_publisher_is_gone() {
    let mut net = Net::new();
    let a = net.spawn(fast).await;
    let b = net.join(&a, fast).await;
    // C's bootstrap lookup asks A: A must know B by then, or C and B would
    // meet only at the next routing-table refresh.
    a.wait_routing(1, SETTLE).await;
    let c = net.join(&a, fast).await;
    for n in [&a, &b, &c] {
        n.wait_routing(2, SETTLE).await;
    }
    let put_at = tokio::time::Instant::now();
    assert_ok(&a.cmd("put ephemeral here-for-six-seconds").await);
    // While the publisher lives, it republishes with a fresh TTL: the
    // record is there for 9 s after the put.
    b.wait_for("stats", SETTLE, |v| v["records"] == 1).await;
    let until = put_at + Duration::from_secs(9);
    throughout(until, Duration::from_millis(500), || async {
        assert_ok(&b.cmd("get ephemeral").await);
    })
    .await;
    // B's own copy, refreshed by A's republications, outlived the TTL.
    assert_eq!(b.get_from("ephemeral").await.as_deref(), Some("local"));
    // Without it, the copies B and C replicate between them keep the
    // original expiry and die with it.
    stop(a).await;
    let stopped = Instant::now();
    let v = b
        .wait_for("get ephemeral", EXPIRY_BOUND, |v| v["ok"] == false)
        .await;
    assert_eq!(v["error"], "not found", "{v}");
    eprintln!(
        "expired {:?} after the publisher stopped (TTL 6 s)",
        stopped.elapsed()
    );
    c.wait_for("stats", EXPIRY_BOUND, |v| v["records"] == 0)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_originator_republishes_to_a_node_that_joined_later() {
    let mut net = Net::new();
    let a = net.spawn(fast).await;
    let put = a.cmd("put founding-record alpha").await;
    assert_ok(&put);
    assert_eq!(put["replicated"], 0, "{put}");
    let late = net.join(&a, |_| {}).await;
    late.wait_routing(1, SETTLE).await;
    // Found on the network at once, stored locally once A republishes.
    assert_eq!(
        late.get_from("founding-record").await,
        Some(a.peer_id.to_string())
    );
    assert_eq!(held(&late, "founding-record").await["value"], "alpha");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holders_replicate_to_a_node_that_joined_later() {
    // A publishes and dies; B, which holds a copy, hands it on to C.
    let holder = |c: &mut Config| {
        c.timings.replication_interval = Duration::from_secs(2);
        c.timings.republish_interval = Duration::from_secs(2);
    };
    let mut net = Net::new();
    let a = net.spawn(|_| {}).await;
    let b = net.join(&a, holder).await;
    a.wait_routing(1, SETTLE).await;
    b.wait_routing(1, SETTLE).await;
    assert_ok(&a.cmd("put inherited from-a").await);
    assert_eq!(b.get_from("inherited").await.as_deref(), Some("local"));
    stop(a).await;
    let c = net.join(&b, |_| {}).await;
    c.wait_routing(1, SETTLE).await;
    assert_eq!(held(&c, "inherited").await["value"], "from-a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_and_get_quorums_are_counted() {
    // Four nodes, each with the three others in its routing table.
    let net = spawn_nodes(4).await;
    let nodes = &net.nodes;
    let put = nodes[1].cmd("put q value --quorum 3").await;
    assert_ok(&put);
    assert!(put["replicated"].as_u64().unwrap() >= 3, "{put}");
    let put = nodes[1].cmd("put q2 value --quorum 10").await;
    // Only 3 other peers exist.
    assert_error(&put, "quorum not met");
    let put = nodes[1].cmd("put q3 value --quorum all").await;
    assert_ok(&put);

    let get = nodes[2].cmd("get q --quorum 3").await;
    assert_ok(&get);
    assert!(get["copies"].as_u64().unwrap() >= 3, "{get}");
    let get = nodes[2].cmd("get q --quorum all").await;
    assert_ok(&get);
    assert_eq!(get["copies"], 4, "every node holds it: {get}");
    let get = nodes[2].cmd("get q --quorum 10").await;
    assert_error(&get, "quorum not met");
    assert_eq!(
        get["value"], "value",
        "the value found is still shown: {get}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_writes_converge_on_the_newest() {
    // A stores its value while alone; later B and C agree on another. Then
    // the two halves meet, and D asks everyone: the newer write wins, the
    // older copy is counted as stale, and A is repaired.
    let mut net = Net::new();
    let a = net.spawn(|_| {}).await;
    assert_ok(&a.cmd("put colour red").await);
    let b = net.spawn(|_| {}).await;
    let c = net.join(&b, |_| {}).await;
    c.wait_routing(1, SETTLE).await;
    b.wait_routing(1, SETTLE).await;
    assert_ok(&b.cmd("put colour blue").await);
    assert_eq!(c.get_from("colour").await.as_deref(), Some("local"));
    assert_ok(&a.cmd(&format!("dial {}", b.listen_addrs[0])).await);
    // D's bootstrap lookup asks B, which must know A and C by then.
    b.wait_routing(2, SETTLE).await;
    let d = net.join(&b, |_| {}).await;
    d.wait_routing(3, SETTLE).await;
    let get = d.cmd("get colour --quorum all").await;
    assert_ok(&get);
    assert_eq!(get["value"], "blue", "{get}");
    assert_eq!(get["conflict"], false, "{get}");
    assert_eq!(get["copies"], 3, "{get}");
    assert_eq!(get["stale"], 1, "A's older copy: {get}");
    // Read repair: A now holds the newer value too.
    let v = a
        .wait_for("get colour", SETTLE, |v| {
            v["from"] == "local" && v["value"] == "blue"
        })
        .await;
    assert_ok(&v);
}
