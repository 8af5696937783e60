//! Established-connection limits (README, Configuration and Security
//! model: "--max-incoming N ... established connections ... incoming";
//! "`connections_denied` (incoming connections denied by a connection
//! limit)"): a node that takes one incoming connection keeps the first
//! peer and denies the second, counting it, while its own dials still
//! work. Real processes on 127.0.0.1.

use std::time::Duration;

use p2pnode_testkit::{Ask, Binary, Opts, SETTLE};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

/// How long a denied peer is watched for a connection that got through.
const WATCH: Duration = Duration::from_secs(3);

#[test]
fn max_incoming_denies_the_connection_over_it_and_counts_it() {
    let mut a = BIN.start(Opts::default().args(&["--max-incoming", "1"]));
    let mut b = BIN.start(Opts::default().bootstrap(a.tcp_addr()));
    b.wait_routing(1, SETTLE);
    a.wait_routing(1, SETTLE);
    assert_eq!(a.stat("connections_denied"), 0);

    // A second peer dialling in is one incoming connection too many.
    let mut c = BIN.start(Opts::default());
    let _ = c.cmd(&format!("dial {}", a.tcp_addr()));
    let s = a.wait_for("stats", SETTLE, |v| {
        v["connections_denied"].as_u64() >= Some(1)
    });
    assert_eq!(s["connected_peers"], 1, "only B is connected: {s}");
    let watching = std::time::Instant::now();
    p2pnode_testkit::holding_until("C kept out", WATCH * 2, Duration::from_millis(250), || {
        let peers = a.cmd("peers");
        let ids: Vec<&str> = peers["peers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["peer"].as_str())
            .collect();
        assert_eq!(ids, [b.peer_id.as_str()], "{peers}");
        watching.elapsed() >= WATCH
    });

    // Its own dials are outgoing: the limit leaves them alone.
    let dial = a.cmd(&format!("dial {}", c.tcp_addr()));
    assert_eq!(dial["ok"], true, "{dial}");
    assert_eq!(dial["peer"], c.peer_id.as_str(), "{dial}");
}
