//! Size and count limits over real processes: values of 1 B, 16 KiB + 1
//! (over libp2p-kad's default packet size) and exactly the 64 KiB limit
//! cross the network; over-limit input is a clear error at `put`; what a
//! remote peer pushes over our limits is refused without harm.

mod common;
mod support;

use support::*;

const SIZES: [usize; 3] = [1, 16 * 1024 + 1, 64 * 1024];

fn value(len: usize) -> String {
    (0..len)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect()
}

#[test]
fn values_up_to_the_limit_cross_the_network() {
    let mut a = alone(&[]);
    let mut b = join(&a, &[]);
    a.wait_routing(1, SETTLE);
    b.wait_routing(1, SETTLE);
    for len in SIZES {
        let put = a.cmd(&format!("put size-{len} {}", value(len)));
        assert_ok(&put);
        assert_eq!(put["replicated"], 1, "{put}");
    }
    // A node that joins afterwards holds none of them: each comes over the wire.
    let mut late = join(&b, &[]);
    late.wait_routing(2, SETTLE);
    assert_eq!(stat(&mut late, "records"), 0);
    for len in SIZES {
        let got = late.cmd(&format!("get size-{len}"));
        assert_ok(&got);
        assert_ne!(got["from"], "local", "{}", got["from"]);
        let v = got["value"].as_str().expect("value");
        assert_eq!(v.len(), len);
        assert_eq!(v, value(len));
    }

    let over = a.cmd(&format!("put too-big {}", value(64 * 1024 + 1)));
    assert_eq!(over["ok"], false);
    let e = over["error"].as_str().unwrap();
    assert!(e.contains("65537") && e.contains("--max-value-size"), "{e}");
    let long_key = "k".repeat(1025);
    let over = a.cmd(&format!("put {long_key} v"));
    assert_eq!(over["ok"], false);
    assert!(
        over["error"].as_str().unwrap().contains("--max-key-size"),
        "{over}"
    );
    let over = a.cmd(&format!("get {long_key}"));
    assert!(
        over["error"].as_str().unwrap().contains("--max-key-size"),
        "{over}"
    );
}

#[test]
fn remote_pushes_over_our_limits_are_refused_and_survived() {
    // R keeps the defaults but room for only three records; X accepts
    // values up to 200 000 bytes and pushes whatever it likes.
    let mut r = alone(&["--max-records", "3"]);
    let mut x = join(&r, &["--max-value-size", "200000"]);
    r.wait_routing(1, SETTLE);
    x.wait_routing(1, SETTLE);

    // Over R's value limit but within its packet limit: the store refuses.
    assert_ok(&x.cmd(&format!("put big {}", value(70_000))));
    r.wait_for("stats", SETTLE, |v| v["records_refused"] == 1);
    // Over R's packet limit: the Kademlia stream is refused.
    let _ = x.cmd(&format!("put bigger {}", value(150_000)));
    assert_eq!(stat(&mut r, "records"), 0);

    // Past R's record count.
    for i in 0..5 {
        assert_ok(&x.cmd(&format!("put small-{i} {i}")));
    }
    let s = r.wait_for("stats", SETTLE, |v| {
        v["records_refused"].as_u64() >= Some(3)
    });
    assert_eq!(s["records"], 3, "{s}");
    assert_eq!(s["connected_peers"], 1, "X is still connected: {s}");
    // R is alive and still serves what it holds.
    let (held, _) = (0..5)
        .map(|i| format!("small-{i}"))
        .partition::<Vec<_>, _>(|k| get_from(&mut r, k).as_deref() == Some("local"));
    assert_eq!(held.len(), 3, "{held:?}");
    // Provider records past R's key limit are refused the same way.
    let mut p = alone(&["--max-provider-keys", "2"]);
    let mut y = join(&p, &[]);
    p.wait_routing(1, SETTLE);
    y.wait_routing(1, SETTLE);
    for i in 0..4 {
        assert_ok(&y.cmd(&format!("provide offered-{i}")));
    }
    p.wait_for("stats", SETTLE, |v| v["records_refused"] == 2);
    assert_ok(&p.cmd("peers"));

    let full = r.cmd("put mine 1");
    assert_eq!(full["ok"], false);
    assert!(
        full["error"].as_str().unwrap().contains("more records"),
        "{full}"
    );
}
