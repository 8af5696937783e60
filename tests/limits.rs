//! Size and count limits: values of 1 B, 16 KiB + 1 (over libp2p-kad's
//! default packet size) and exactly the 64 KiB limit cross the network, and
//! what a remote peer pushes over our limits is refused without harm while
//! the node's own puts keep the room kept for them (in-process); over-limit input typed at the binary is a clear error that
//! names the flag to change (end to end).

use p2pnode_testkit::{Ask, Binary, Net, NodeExt, Opts, SETTLE, assert_error, assert_ok};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

const SIZES: [usize; 3] = [1, 16 * 1024 + 1, 64 * 1024];

fn value(len: usize) -> String {
    (0..len)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_up_to_the_limit_cross_the_network() {
    let mut net = Net::new();
    let a = net.spawn(|_| {}).await;
    let b = net.join(&a, |_| {}).await;
    a.wait_routing(1, SETTLE).await;
    b.wait_routing(1, SETTLE).await;
    for len in SIZES {
        let put = a.cmd(&format!("put size-{len} {}", value(len))).await;
        assert_ok(&put);
        assert_eq!(put["replicated"], 1, "{put}");
    }
    // A node that joins afterwards holds none of them: each comes over the wire.
    let late = net.join(&b, |_| {}).await;
    late.wait_routing(2, SETTLE).await;
    assert_eq!(late.stat("records").await, 0);
    for len in SIZES {
        let got = late.cmd(&format!("get size-{len}")).await;
        assert_ok(&got);
        assert_ne!(got["from"], "local", "{}", got["from"]);
        let v = got["value"].as_str().expect("value");
        assert_eq!(v.len(), len);
        assert_eq!(v, value(len));
    }
}

#[test]
fn over_limit_input_is_a_clear_error_naming_the_flag() {
    let mut a = BIN.start(Opts::default());
    let over = a.cmd(&format!("put too-big {}", value(64 * 1024 + 1)));
    assert_error(&over, "65537");
    assert_error(&over, "--max-value-size");
    let long_key = "k".repeat(1025);
    assert_error(&a.cmd(&format!("put {long_key} v")), "--max-key-size");
    assert_error(&a.cmd(&format!("get {long_key}")), "--max-key-size");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_pushes_over_our_limits_are_refused_and_survived() {
    // R keeps the defaults but room for only three records; X accepts
    // values up to 200 000 bytes and pushes whatever it likes.
    let mut net = Net::new();
    let r = net.spawn(|c| c.limits.max_records = 3).await;
    let x = net.join(&r, |c| c.limits.max_value_bytes = 200_000).await;
    r.wait_routing(1, SETTLE).await;
    x.wait_routing(1, SETTLE).await;

    // Over R's value limit but within its packet limit: the store refuses.
    assert_ok(&x.cmd(&format!("put big {}", value(70_000))).await);
    r.wait_for("stats", SETTLE, |v| v["records_refused"] == 1)
        .await;
    // Over R's packet limit: the Kademlia stream is refused.
    let _ = x.cmd(&format!("put bigger {}", value(150_000))).await;
    assert_eq!(r.stat("records").await, 0);

    // Past the share of R's record count that peers may fill (2 of 3: one
    // is kept for R's own).
    for i in 0..5 {
        assert_ok(&x.cmd(&format!("put small-{i} {i}")).await);
    }
    let s = r
        .wait_for("stats", SETTLE, |v| {
            v["records_refused"].as_u64() >= Some(4)
        })
        .await;
    assert_eq!(s["records"], 2, "{s}");
    assert_eq!(s["connected_peers"], 1, "X is still connected: {s}");
    // R is alive and still serves what it holds.
    let mut held = Vec::new();
    for k in (0..5).map(|i| format!("small-{i}")) {
        if r.get_from(&k).await.as_deref() == Some("local") {
            held.push(k);
        }
    }
    assert_eq!(held.len(), 2, "{held:?}");
    // Provider records past R's key limit are refused the same way.
    let p = net.spawn(|c| c.limits.max_provider_keys = 2).await;
    let y = net.join(&p, |_| {}).await;
    p.wait_routing(1, SETTLE).await;
    y.wait_routing(1, SETTLE).await;
    for i in 0..4 {
        assert_ok(&y.cmd(&format!("provide offered-{i}")).await);
    }
    p.wait_for("stats", SETTLE, |v| v["records_refused"] == 2)
        .await;
    assert_ok(&p.cmd("peers").await);

    // R's own put takes the room kept for it; past that, a clear error.
    assert_ok(&r.cmd("put mine 1").await);
    assert_error(&r.cmd("put mine-too 2").await, "more records");
}
