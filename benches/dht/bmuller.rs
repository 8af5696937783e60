//! bmuller `kademlia` 2.2.3 (Python, UDP + msgpack) as separate processes,
//! through `../shared/peers/bmuller_kad_peer.py` on the test kit's process
//! driver: the system the course exercise behind p2pnode used, run on the
//! same workload for comparison.

use std::cell::Cell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use p2pnode_testkit::peers;
use p2pnode_testkit::process::{LineProc, Memory, free_udp_port};

use crate::{GetOutcome, Network, PutOutcome, REPLY_TIMEOUT, START_TIMEOUT};

/// How long a bmuller peer lives at most (it exits by itself after this).
const LIFETIME_SECS: u32 = 1800;
/// The script.
const SCRIPT: &str = "bmuller_kad_peer.py";

/// Where the reference peers' python is.
pub struct Peers {
    /// The venv's python.
    pub python: PathBuf,
}

impl Peers {
    /// Finds the peers (see the kit's `peers` module); why not when they
    /// are not installed.
    pub fn find() -> Result<Peers, String> {
        let python = peers::installed()?;
        let script = peers::dir().join(SCRIPT);
        if !script.exists() {
            return Err(format!("{} is missing", script.display()));
        }
        Ok(Peers { python })
    }
}

/// A network of bmuller kademlia processes.
pub struct BmNet {
    nodes: Vec<LineProc>,
}

/// The arguments of a peer on `port` bootstrapping from `bootstrap`.
fn args(port: u16, bootstrap: Option<u16>) -> Vec<String> {
    let mut a = vec![
        "--port".to_string(),
        port.to_string(),
        "--lifetime".to_string(),
        LIFETIME_SECS.to_string(),
    ];
    if let Some(b) = bootstrap {
        a.extend(["--bootstrap".to_string(), format!("127.0.0.1:{b}")]);
    }
    a
}

/// Starts a peer on a free port, retrying when another process took the port first.
fn start_one(
    peers: &Peers,
    bootstrap: Option<u16>,
    verbose: bool,
) -> Result<(LineProc, u16), String> {
    let port = Cell::new(0);
    let make = || {
        port.set(free_udp_port());
        args(port.get(), bootstrap)
    };
    let (proc, _) = peers::start(&peers.python, SCRIPT, make, 1, verbose)?;
    Ok((proc, port.get()))
}

impl BmNet {
    /// Starts `n` peers: the first alone, the others bootstrapping from it,
    /// all started at once. Returns the network, the time until all
    /// listened, and the instant the joiners were started.
    pub fn start(
        peers: &Peers,
        n: usize,
        verbose: bool,
    ) -> Result<(BmNet, Duration, Instant), String> {
        let t0 = Instant::now();
        let deadline = t0 + START_TIMEOUT;
        let (seed, seed_port) = start_one(peers, None, verbose)?;
        let mut nodes = vec![seed];
        let joiners = Instant::now();
        let mut pending = Vec::new();
        for _ in 1..n {
            let a = args(free_udp_port(), Some(seed_port));
            pending.push(peers::spawn(&peers.python, SCRIPT, a, verbose)?);
        }
        for mut p in pending {
            if peers::listening(&mut p, 1, deadline).is_err() {
                // Lost a port race: start a replacement.
                p = start_one(peers, Some(seed_port), verbose)?.0;
            }
            nodes.push(p);
        }
        Ok((BmNet { nodes }, t0.elapsed(), joiners))
    }

    /// Sends one command line to peer `i`; its one-line answer and the round trip.
    fn request(&mut self, i: usize, line: &str) -> Result<(String, Duration), String> {
        let t = Instant::now();
        let answer = self.nodes[i].ask(line, REPLY_TIMEOUT)?;
        Ok((answer, t.elapsed()))
    }
}

impl Network for BmNet {
    fn size(&self) -> usize {
        self.nodes.len()
    }

    fn routing_size(&mut self, i: usize) -> Result<usize, String> {
        let (a, _) = self.request(i, "routing")?;
        a.split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("bad routing answer: {a}"))
    }

    fn put(&mut self, node: usize, key: &str, value: &str) -> PutOutcome {
        match self.request(node, &format!("put {key} {value}")) {
            Ok((a, elapsed)) => PutOutcome {
                ok: a == "OK",
                elapsed,
                replicated: None,
                error: (a != "OK").then_some(a),
            },
            Err(e) => PutOutcome::failed(e),
        }
    }

    fn holds(&mut self, node: usize, key: &str, _putter: usize) -> bool {
        // Ask: bmuller stores on whichever nodes its own lookup found.
        matches!(self.request(node, &format!("local {key}")), Ok((a, _)) if a.starts_with("VALUE "))
    }

    fn get(&mut self, node: usize, key: &str) -> GetOutcome {
        match self.request(node, &format!("get {key}")) {
            Ok((a, elapsed)) => GetOutcome {
                value: a.strip_prefix("VALUE ").map(str::to_string),
                elapsed,
                local: false,
                messages: None,
                node_ms: None,
                error: (!a.starts_with("VALUE ")).then_some(a),
            },
            Err(e) => GetOutcome::failed(e),
        }
    }

    fn memory(&self) -> Vec<Memory> {
        self.nodes.iter().filter_map(LineProc::memory).collect()
    }

    fn stop(&mut self) {
        for n in &mut self.nodes {
            n.stop(Some("quit"), Duration::from_secs(5));
        }
    }
}
