//! Record lifecycle over real processes: records expire after their TTL,
//! the originator republishes to nodes that joined later, quorums are
//! counted, and conflicting values are all reported.

mod common;
mod support;

use std::time::{Duration, Instant};

use support::*;

/// Short lifecycle: TTL 6 s, republish and replicate every 2 s.
const FAST: &[&str] = &[
    "--record-ttl",
    "6s",
    "--republish-interval",
    "2s",
    "--replication-interval",
    "2s",
];

#[test]
fn records_expire_once_their_publisher_is_gone() {
    let mut a = alone(FAST);
    let mut b = join(&a, FAST);
    let mut c = join(&a, FAST);
    for n in [&mut a, &mut b, &mut c] {
        n.wait_routing(2, SETTLE);
    }
    let put_at = Instant::now();
    assert_ok(&a.cmd("put ephemeral here-for-six-seconds"));
    // While the publisher lives, it republishes with a fresh TTL.
    b.wait_for("stats", SETTLE, |v| v["records"] == 1);
    let mut lived = Duration::ZERO;
    while lived < Duration::from_secs(9) {
        let v = b.cmd("get ephemeral");
        assert_ok(&v);
        lived = put_at.elapsed();
        std::thread::sleep(Duration::from_millis(500));
    }
    // B's own copy, refreshed by A's republications, outlived the TTL.
    assert_eq!(get_from(&mut b, "ephemeral").as_deref(), Some("local"));
    // Without it, the copies B and C replicate between them keep the
    // original expiry and die with it.
    a.signal("KILL");
    a.wait_exit(SHUTDOWN_BOUND).expect("killed");
    let killed = Instant::now();
    let v = b.wait_for("get ephemeral", SETTLE, |v| v["ok"] == false);
    assert_eq!(v["error"], "not found", "{v}");
    let gone_after = killed.elapsed();
    eprintln!("expired {gone_after:?} after the publisher died (TTL 6 s)");
    assert!(gone_after <= Duration::from_secs(6 + 4), "{gone_after:?}");
    c.wait_for("stats", SETTLE, |v| v["records"] == 0);
}

#[test]
fn the_originator_republishes_to_a_node_that_joined_later() {
    let mut a = alone(FAST);
    let put = a.cmd("put founding-record alpha");
    assert_ok(&put);
    assert_eq!(put["replicated"], 0, "{put}");
    let mut late = join(&a, &[]);
    late.wait_routing(1, SETTLE);
    // Found on the network at once, stored locally once A republishes.
    assert_eq!(
        get_from(&mut late, "founding-record").as_deref(),
        Some(&*a.peer_id)
    );
    let v = late.wait_for("get founding-record", Duration::from_secs(20), |v| {
        v["from"] == "local"
    });
    assert_eq!(v["value"], "alpha");
    let _ = &mut a;
}

#[test]
fn holders_replicate_to_a_node_that_joined_later() {
    // A publishes and dies; B, which holds a copy, hands it on to C.
    let holder = ["--replication-interval", "2s", "--republish-interval", "2s"];
    let mut a = alone(&[]);
    let mut b = join(&a, &holder);
    a.wait_routing(1, SETTLE);
    b.wait_routing(1, SETTLE);
    assert_ok(&a.cmd("put inherited from-a"));
    assert_eq!(get_from(&mut b, "inherited").as_deref(), Some("local"));
    a.signal("KILL");
    a.wait_exit(SHUTDOWN_BOUND).expect("killed");
    let mut c = join(&b, &[]);
    c.wait_routing(1, SETTLE);
    let v = c.wait_for("get inherited", Duration::from_secs(20), |v| {
        v["from"] == "local"
    });
    assert_eq!(v["value"], "from-a");
}

#[test]
fn put_and_get_quorums_are_counted() {
    let mut nodes = vec![alone(&[])];
    for _ in 0..3 {
        let n = join(&nodes[0], &[]);
        nodes.push(n);
    }
    for n in nodes.iter_mut() {
        n.wait_routing(3, SETTLE);
    }
    let put = nodes[1].cmd("put q value --quorum 3");
    assert_ok(&put);
    assert!(put["replicated"].as_u64().unwrap() >= 3, "{put}");
    let put = nodes[1].cmd("put q2 value --quorum 10");
    assert_eq!(put["ok"], false, "only 3 other peers exist: {put}");
    assert!(
        put["error"].as_str().unwrap().contains("quorum not met"),
        "{put}"
    );
    let put = nodes[1].cmd("put q3 value --quorum all");
    assert_ok(&put);

    let get = nodes[2].cmd("get q --quorum 3");
    assert_ok(&get);
    assert!(get["copies"].as_u64().unwrap() >= 3, "{get}");
    let get = nodes[2].cmd("get q --quorum all");
    assert_ok(&get);
    assert_eq!(get["copies"], 4, "every node holds it: {get}");
    let get = nodes[2].cmd("get q --quorum 10");
    assert_eq!(get["ok"], false, "{get}");
    assert!(
        get["error"].as_str().unwrap().contains("quorum not met"),
        "{get}"
    );
    assert_eq!(
        get["value"], "value",
        "the value found is still shown: {get}"
    );
}

#[test]
fn partitioned_writes_converge_on_the_newest() {
    // A stores its value while alone; later B and C agree on another.
    // Then the two halves meet, and D asks everyone: the newer write wins,
    // the older copy is counted as stale and repaired.
    let mut a = alone(&[]);
    assert_ok(&a.cmd("put colour red"));
    let mut b = alone(&[]);
    let mut c = join(&b, &[]);
    c.wait_routing(1, SETTLE);
    b.wait_routing(1, SETTLE);
    assert_ok(&b.cmd("put colour blue"));
    assert_eq!(get_from(&mut c, "colour").as_deref(), Some("local"));
    assert_ok(&a.cmd(&format!("dial {}", b.tcp_addr())));
    let mut d = join(&b, &[]);
    d.wait_routing(3, SETTLE);
    let get = d.cmd("get colour --quorum all");
    assert_ok(&get);
    assert_eq!(get["value"], "blue", "{get}");
    assert_eq!(get["conflict"], false, "{get}");
    assert_eq!(get["copies"], 3, "{get}");
    assert_eq!(get["stale"], 1, "A's older copy: {get}");
    // Read repair: A now holds the newer value too.
    let v = a.wait_for("get colour", SETTLE, |v| {
        v["from"] == "local" && v["value"] == "blue"
    });
    assert_ok(&v);
}
