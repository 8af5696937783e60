//! Multi-host suite: p2pnode processes on several "hosts" made of network
//! namespaces (tests/hosts/netns.rs), each host with an address the others
//! reach and a host-local one they cannot, as Docker swarm tasks have
//! (overlay and docker_gwbridge). It shows what `--announce-subnet` changes:
//! without it every node advertises its host-local address and every
//! routing table keeps it; with it none does. Both ways, it times the first
//! lookup after a peer left (the lookup dials the gone peer at every address
//! it has for it) and gets of stored records, and checks that with the rule
//! no get stalls on dead addresses.
//!
//! Needs CAP_NET_ADMIN (root) and `ip` (iproute2). Where they are missing
//! the test is listed as ignored (skipped); with `P2PNODE_REQUIRE_NETNS=1`
//! (CI) it runs and fails, naming what is missing.

mod netns;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use ipnet::IpNet;
use p2pnode_testkit::harness::{self, Prerequisite, test};
use p2pnode_testkit::{Ask, NodeProc, Opts};

use netns::{Hosts, LOCAL_NET, SHARED_NET, shared_ip};

/// The permission to create namespaces and interfaces, and `ip`.
const NETNS: Prerequisite = Prerequisite {
    what: "network namespaces (CAP_NET_ADMIN and iproute2's `ip`)",
    required_by: "P2PNODE_REQUIRE_NETNS",
    check: || {
        harness::net_admin()?;
        let mut cmd = std::process::Command::new("ip");
        cmd.args(["netns", "list"]);
        let out = p2pnode_testkit::run_bounded(cmd, Duration::from_secs(10));
        if out.ok() {
            Ok(())
        } else {
            Err(format!("`ip netns list` failed: {out}"))
        }
    },
};

/// The p2pnode binary under test.
const P2PNODE: &str = env!("CARGO_BIN_EXE_p2pnode");
/// Hosts running the DHT; one more runs the nodes whose gets are timed.
const HOSTS: u8 = 4;
/// Records put, and got by each fresh node.
const RECORDS: usize = 5;
/// Hosts whose nodes stop, one at a time, before a timed get: peers that
/// went away (as tasks do in a rolling update) while the getter's routing
/// table still names them, so its next lookup dials them.
const GONE: [u8; 2] = [4, 3];
/// How long a network may take to settle.
const SETTLE: Duration = Duration::from_secs(60);
/// A get that waited this long stalled: half the DHT request timeout
/// (10 s), which a dial hanging on a dead address runs into.
const STALL: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    harness::main(vec![
        test(
            "unreachable_host_local_addresses_are_not_advertised_nor_kept",
            unreachable_host_local_addresses_are_not_advertised_nor_kept,
        )
        .needs(NETNS),
    ])
}

/// What one run measured.
struct Run {
    /// Host-local addresses found in the routing tables of the hosts' nodes.
    dead_in_routing: usize,
    /// The getter's first get after a peer went away (a key nobody stored:
    /// a lookup that asks every peer it knows, the gone one among them).
    missing: Vec<Duration>,
    /// Every get of a stored record, from its peers.
    stored: Vec<Duration>,
}

fn unreachable_host_local_addresses_are_not_advertised_nor_kept() {
    p2pnode_testkit::init_logs();
    let without_rule = run(false);
    let with_rule = run(true);
    assert!(
        without_rule.dead_in_routing > 0,
        "without --announce-subnet no routing table held a host-local address: the setup shows nothing"
    );
    assert_eq!(
        with_rule.dead_in_routing, 0,
        "with --announce-subnet a routing table held a host-local address"
    );
    for (name, r) in [
        ("without --announce-subnet", &without_rule),
        ("with --announce-subnet", &with_rule),
    ] {
        eprintln!(
            "[hosts] figure: {name}: {} host-local addresses in routing tables; first lookup after a peer left {}; get of a stored key {}",
            r.dead_in_routing,
            summary(&r.missing),
            summary(&r.stored)
        );
    }
}

/// `n=.. median .. ms, max .. ms`.
fn summary(times: &[Duration]) -> String {
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let median = ms.get(ms.len() / 2).copied().unwrap_or(f64::NAN);
    let max = ms.last().copied().unwrap_or(f64::NAN);
    format!("n={} median {median:.1} ms, max {max:.1} ms", ms.len())
}

/// Listen on every interface, as a node in a container does. TCP only: a
/// gone peer's TCP port refuses at once, while a QUIC dial to it waits for
/// its 5 s handshake timeout whatever its addresses, which would hide what
/// the addresses change.
fn node_opts(rule: bool) -> Opts {
    let mut o = Opts::default().listen("/ip4/0.0.0.0/tcp/4001").quiet();
    if rule {
        o = o.args(&["--announce-subnet", SHARED_NET]);
    }
    o
}

/// Hosts 1..=HOSTS run the DHT (host 1 creates it) and a getter on host
/// HOSTS+1 joins through host 2; records are put through host 1; then the
/// nodes of [`GONE`] stop one by one, and after each the getter times a
/// lookup (which dials the gone peer) and gets of the records.
fn run(rule: bool) -> Run {
    let hosts = Hosts::new(HOSTS + 1);
    let local: IpNet = LOCAL_NET.parse().expect("subnet");
    let bootstrap = |i: u8| format!("/ip4/{}/tcp/4001", shared_ip(i));
    let mut nodes: Vec<NodeProc> = Vec::new();
    for i in 1..=HOSTS {
        let mut o = node_opts(rule);
        if i > 1 {
            o = o.bootstrap(bootstrap(1));
        }
        nodes.push(hosts.binary(i, P2PNODE.as_ref()).start(o));
    }
    for n in &mut nodes {
        n.wait_routing(u64::from(HOSTS) - 1, SETTLE);
    }
    // Put before the getter joins: it holds no copy, its gets cross the network.
    let records: Vec<(String, String)> = (0..RECORDS)
        .map(|i| (format!("rec-{i}"), format!("value {i}")))
        .collect();
    for (k, v) in &records {
        let r = nodes[0].cmd(&format!("put {k} \"{v}\""));
        assert_eq!(r["ok"], true, "put {k}: {r}");
    }
    let getter_opts = node_opts(rule).bootstrap(bootstrap(2));
    nodes.push(hosts.binary(HOSTS + 1, P2PNODE.as_ref()).start(getter_opts));
    for n in &mut nodes {
        n.wait_routing(u64::from(HOSTS), SETTLE);
    }
    let mut dead_in_routing = 0;
    for n in &mut nodes {
        let id = n.cmd("id");
        let listen = id["listen"].to_string();
        assert!(
            listen.contains("/ip4/172.18.0."),
            "no host-local listen address: {id}"
        );
        let external = id["external"].to_string();
        assert_eq!(
            external.contains("/ip4/172.18.0."),
            !rule,
            "advertised addresses (rule {rule}): {id}"
        );
        let routing = n.cmd("routing");
        dead_in_routing += count_in(&routing, local);
    }
    let mut getter = nodes.pop().expect("the getter");
    let mut missing = Vec::new();
    let mut stored = Vec::new();
    let timed = |getter: &mut NodeProc, key: &str| {
        let started = Instant::now();
        let r = getter.cmd(&format!("get {key}"));
        let took = started.elapsed();
        eprintln!("[hosts] rule {rule}: get {key}: {took:?}: {r}");
        (r, took)
    };
    for gone in GONE {
        nodes[usize::from(gone) - 1].stop(Duration::from_secs(12));
        let (r, took) = timed(&mut getter, &format!("missing-{gone}"));
        assert_eq!(r["ok"], false, "a key nobody stored was found: {r}");
        missing.push(took);
        for (k, v) in &records {
            let (r, took) = timed(&mut getter, k);
            assert_eq!(r["ok"], true, "get {k} (rule {rule}): {r}");
            assert_eq!(r["value"], v.as_str(), "get {k}: {r}");
            assert_ne!(r["from"], "local", "the getter held {k} before asking: {r}");
            stored.push(took);
        }
    }
    if rule {
        for t in missing.iter().chain(&stored) {
            assert!(*t < STALL, "a get stalled for {t:?} with --announce-subnet");
        }
    }
    getter.stop(Duration::from_secs(12));
    for (i, n) in nodes.iter_mut().enumerate() {
        if !GONE.contains(&(i as u8 + 1)) {
            n.stop(Duration::from_secs(12));
        }
    }
    Run {
        dead_in_routing,
        missing,
        stored,
    }
}

/// How many addresses in a `routing` answer lie in `net`.
fn count_in(routing: &serde_json::Value, net: IpNet) -> usize {
    let buckets = routing["buckets"].as_array().cloned().unwrap_or_default();
    buckets
        .iter()
        .flat_map(|b| b["peers"].as_array().cloned().unwrap_or_default())
        .flat_map(|p| p["addrs"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| {
            a.as_str()
                .and_then(|s| s.split('/').nth(2))
                .and_then(|s| s.parse::<std::net::IpAddr>().ok())
        })
        .filter(|ip| net.contains(ip))
        .count()
}
