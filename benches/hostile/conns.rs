//! The connection flood: plain TCP connections from 127.0.0.2 against a
//! node limited to 1024 file descriptors, while a legitimate peer on
//! 127.0.0.1 tries to reach it (see `main.rs`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use p2pnode_testkit::flood::{TcpFlood, open_fds, set_fd_limit};
use p2pnode_testkit::{Binary, Opts as NodeOpts};
use serde_json::json;

use crate::{Opts, mb, puts::stop};

/// How long the flood lasts.
const DURATION: Duration = Duration::from_secs(20);
/// How long the flood runs before the legitimate peer tries.
const HEAD_START: Duration = Duration::from_secs(2);
/// How long the legitimate peer's dial may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(15);
/// How often the node's descriptors and memory are sampled.
const SAMPLE: Duration = Duration::from_millis(250);

/// Dials the node at `addr` from `legit`, waits until it is in the routing
/// table, and stores a record on it (`--quorum 1`).
fn reach(legit: &mut p2pnode_testkit::NodeProc, addr: &str) -> Result<(), String> {
    let dial = legit.try_cmd(&format!("dial {addr}"), DIAL_TIMEOUT)?;
    if dial["ok"] != true {
        return Err(format!("dial failed: {}", dial["error"]));
    }
    let deadline = Instant::now() + DIAL_TIMEOUT;
    while legit.try_cmd("routing", DIAL_TIMEOUT)?["size"] == 0 {
        if Instant::now() > deadline {
            return Err("connected, but identify never completed".into());
        }
        std::thread::sleep(SAMPLE);
    }
    let put = legit.try_cmd("put reached-during-the-flood yes --quorum 1", DIAL_TIMEOUT)?;
    match put["ok"] == true {
        true => Ok(()),
        false => Err(format!("put failed: {}", put["error"])),
    }
}

/// Runs the connection flood and prints its figures.
pub fn run(o: &Opts) -> Result<(), String> {
    let bin = Binary::at(&o.binary);
    let mut victim = bin.start(NodeOpts::default().quiet());
    set_fd_limit(victim.pid(), 1024).map_err(|e| format!("prlimit: {e}"))?;
    let flood = TcpFlood {
        target: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), victim.tcp_port()),
        from: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
        open: o.connections,
        duration: DURATION,
        max_attempts: 20 * o.connections,
        pace: Duration::from_micros(200),
    };
    let (_, flooder) = flood.spawn();
    // Samples the node's descriptors and memory while the flood lasts.
    let pid = victim.pid();
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let sampler = std::thread::spawn(move || {
        let (mut fds, mut rss) = (0, 0);
        while !flag.load(Ordering::Relaxed) {
            fds = fds.max(open_fds(pid).unwrap_or(0));
            rss = rss.max(p2pnode_testkit::process::memory(pid).map_or(0, |m| m.rss));
            std::thread::sleep(SAMPLE);
        }
        (fds, rss)
    });
    std::thread::sleep(HEAD_START);
    let mut legit = bin.start(NodeOpts::default().quiet());
    let started = Instant::now();
    let reached = reach(&mut legit, victim.tcp_addr()).map(|()| started.elapsed());
    let report = flooder.join().map_err(|_| "the flood thread panicked")?;
    done.store(true, Ordering::Relaxed);
    let (fds, rss) = sampler.join().map_err(|_| "the sampler panicked")?;
    let stats = victim.try_cmd("stats", DIAL_TIMEOUT);
    let alive = stats.is_ok();
    let denied = stats.ok().and_then(|s| s["connections_denied"].as_u64());
    println!(
        "connection flood: {} held open from 127.0.0.2 for {} s, node limited to 1024 descriptors",
        o.connections,
        DURATION.as_secs()
    );
    println!(
        "  attempted {}  connected {}  closed by the node {}  denied by its limits {}",
        report.attempted,
        report.connected,
        report.closed_by_node,
        denied.map_or("(not counted)".to_string(), |d| d.to_string())
    );
    println!(
        "  node: descriptors at most {fds}, RSS at most {}, answers afterwards: {alive}",
        mb(rss)
    );
    match &reached {
        Ok(t) => println!(
            "  legitimate peer: dialled and stored a record in {} ms",
            t.as_millis()
        ),
        Err(e) => println!("  legitimate peer: FAILED: {e}"),
    }
    let line = json!({
        "bench": "connection_flood", "connections": o.connections,
        "attempted": report.attempted, "connected": report.connected, "denied": denied,
        "max_fds": fds, "max_rss_kib": rss, "alive": alive,
        "legit_ms": reached.as_ref().ok().map(|t| t.as_millis() as u64),
        "legit_error": reached.err(),
    });
    println!("{line}");
    stop(legit);
    stop(victim);
    Ok(())
}
