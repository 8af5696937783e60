//! A flood of plain TCP connections (no handshake, no key, no identity)
//! from one address leaves the node reachable: a legitimate peer on
//! another address connects and stores a record while the flood goes on,
//! and the flood's connections are denied and counted. The node runs as a
//! process with the common file-descriptor limit of 1024, so a node that
//! accepted every connection would run out of descriptors. A node whose
//! descriptor limit is too low for its connection limits says so at start.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use p2pnode_testkit::flood::{TcpFlood, open_fds, set_fd_limit, with_fd_limit};
use p2pnode_testkit::{Ask, Binary, Opts, SETTLE, Wait, assert_ok};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

/// Connections the flood keeps open: more than the descriptors the node has.
const OPEN: usize = 2000;
/// What the node's connection limits keep its descriptors under (the
/// defaults need at most 832, see `ConnectionLimits::descriptors`).
const MAX_FDS: usize = 832;

#[test]
fn a_connection_flood_leaves_the_node_reachable_by_a_legitimate_peer() {
    let mut victim = BIN.start(Opts::default());
    set_fd_limit(victim.pid(), 1024).expect("prlimit on the node");
    let flood = TcpFlood {
        target: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), victim.tcp_port()),
        from: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
        open: OPEN,
        duration: Duration::from_secs(20),
        max_attempts: 20_000,
        pace: Duration::from_micros(500),
    };
    let (attempts, flooder) = flood.spawn();
    Wait::new(Duration::from_secs(10)).eventually(|| match attempts.load(Ordering::Relaxed) {
        n if n >= OPEN => Ok(()),
        n => Err(format!("{n} connections attempted")),
    });

    // The flood holds what it can; the node's descriptors stay well below its limit.
    let fds = open_fds(victim.pid()).expect("the node's descriptors");
    assert!(fds < MAX_FDS, "{fds} descriptors open during the flood");
    let mut legit = BIN.start(Opts::default());
    let started = Instant::now();
    let dial = legit
        .try_cmd(
            &format!("dial {}", victim.tcp_addr()),
            Duration::from_secs(30),
        )
        .expect("an answer to dial");
    assert_ok(&dial);
    legit.wait_routing(1, SETTLE);
    let put = legit.cmd("put during-flood reachable");
    assert_eq!(put["replicated"], 1, "{put}");
    let took = started.elapsed();
    let fds = open_fds(victim.pid()).expect("the node's descriptors");
    let report = flooder.join().expect("the flood ends");
    eprintln!("flood: {report:?}; node's descriptors: {fds}; dial and put took {took:?}");
    assert!(took < Duration::from_secs(5), "reached only after {took:?}");
    assert!(fds < MAX_FDS, "{fds} descriptors open during the flood");
    assert!(report.attempted >= OPEN, "{report:?}");
    let s = victim.cmd("stats");
    assert!(s["connections_denied"].as_u64() > Some(0), "{s}");
    assert_eq!(victim.cmd("get during-flood")["value"], "reachable");
}

#[test]
fn a_descriptor_limit_too_low_for_the_connection_limits_is_warned_about() {
    let start = |limit: u64, args: &[&str]| {
        let mut cmd = BIN.command();
        cmd.args([
            "--ephemeral",
            "--no-repl=false",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
        ])
        .args(args)
        .env("RUST_LOG", "warn");
        with_fd_limit(&mut cmd, limit);
        p2pnode_testkit::run_bounded(cmd, p2pnode_testkit::binary::EXIT_TIMEOUT)
    };
    let low = start(300, &[]);
    assert!(low.ok(), "it starts anyway: {low}");
    let warning: Vec<&str> = low
        .stderr
        .lines()
        .filter(|l| l.contains("descriptor"))
        .collect();
    assert_eq!(warning.len(), 1, "{low}");
    assert!(warning[0].contains("--max-connections"), "{}", warning[0]);
    // Limits that fit: no warning.
    let fits = start(
        300,
        &["--max-connections", "100", "--max-pending-incoming", "50"],
    );
    assert!(fits.ok() && !fits.stderr.contains("descriptor"), "{fits}");
}
