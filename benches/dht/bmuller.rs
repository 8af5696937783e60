//! bmuller `kademlia` 2.2.3 (Python, UDP + msgpack) as separate processes,
//! through `../shared/peers/bmuller_kad_peer.py`: the system the course
//! exercise behind p2pnode used, run on the same workload for comparison.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::procs::{LineProc, free_udp_port};
use crate::{GetOutcome, Network, PutOutcome, REPLY_TIMEOUT, START_TIMEOUT};

/// How long a bmuller peer lives at most (it exits by itself after this).
const LIFETIME_SECS: u32 = 1800;

/// Where the reference peers and their venv are.
pub struct Peers {
    /// The venv's python.
    pub python: PathBuf,
    /// The directory holding the peer scripts.
    pub dir: PathBuf,
}

impl Peers {
    /// Finds the peers (`$PEERS_VENV`, default `~/.cache/p2pnode-peers`) next
    /// to the repository (`../shared/peers`). `None` when not installed.
    pub fn find() -> Option<Peers> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peers");
        let venv = std::env::var_os("PEERS_VENV")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/p2pnode-peers"))
            })?;
        let python = venv.join("bin/python");
        (python.exists() && dir.join("bmuller_kad_peer.py").exists())
            .then_some(Peers { python, dir })
    }
}

struct BmNode {
    proc: LineProc,
}

/// A network of bmuller kademlia processes.
pub struct BmNet {
    nodes: Vec<BmNode>,
}

fn spawn(
    peers: &Peers,
    port: u16,
    bootstrap: Option<u16>,
    verbose: bool,
) -> Result<LineProc, String> {
    let mut cmd = Command::new(&peers.python);
    cmd.arg(peers.dir.join("bmuller_kad_peer.py"))
        .arg("--port")
        .arg(port.to_string())
        .arg("--lifetime")
        .arg(LIFETIME_SECS.to_string())
        .stderr(if verbose {
            Stdio::inherit()
        } else {
            Stdio::null()
        });
    if let Some(b) = bootstrap {
        cmd.arg("--bootstrap").arg(format!("127.0.0.1:{b}"));
    }
    LineProc::spawn(cmd).map_err(|e| format!("cannot start bmuller peer: {e}"))
}

fn listening(proc: &mut LineProc, deadline: Instant) -> bool {
    while let Some(line) = proc.line_before(deadline) {
        if line.starts_with("LISTEN ") {
            return true;
        }
    }
    false
}

/// Starts a peer on a free port, retrying when another process took the port first.
fn start_one(
    peers: &Peers,
    bootstrap: Option<u16>,
    verbose: bool,
    deadline: Instant,
) -> Result<(LineProc, u16), String> {
    for _ in 0..3 {
        let port = free_udp_port().ok_or("no free UDP port")?;
        let mut p = spawn(peers, port, bootstrap, verbose)?;
        if listening(&mut p, deadline) {
            return Ok((p, port));
        }
    }
    Err("a bmuller peer did not start".into())
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
        let (seed, seed_port) = start_one(peers, None, verbose, deadline)?;
        let mut nodes = vec![BmNode { proc: seed }];
        let joiners = Instant::now();
        let mut pending = Vec::new();
        for _ in 1..n {
            let port = free_udp_port().ok_or("no free UDP port")?;
            pending.push(spawn(peers, port, Some(seed_port), verbose)?);
        }
        for mut p in pending {
            if !listening(&mut p, deadline) {
                // Lost a port race: start a replacement.
                let (p, _) = start_one(peers, Some(seed_port), verbose, deadline)?;
                nodes.push(BmNode { proc: p });
                continue;
            }
            nodes.push(BmNode { proc: p });
        }
        Ok((BmNet { nodes }, t0.elapsed(), joiners))
    }

    /// Sends one command line to peer `i`; its one-line answer and the round trip.
    fn request(&mut self, i: usize, line: &str) -> Result<(String, Duration), String> {
        let proc = &mut self.nodes[i].proc;
        let t = Instant::now();
        proc.send(line)?;
        match proc.line_before(t + REPLY_TIMEOUT) {
            Some(answer) => Ok((answer, t.elapsed())),
            None => Err(format!("bmuller peer {i}: no answer to '{line}'")),
        }
    }

    /// Stops every peer.
    pub fn stop(&mut self) {
        for n in &mut self.nodes {
            n.proc.send("quit").ok();
        }
        for n in &mut self.nodes {
            n.proc.stop(Duration::from_secs(5));
        }
    }
}

impl Network for BmNet {
    fn name(&self) -> &'static str {
        "bmuller"
    }

    fn size(&self) -> usize {
        self.nodes.len()
    }

    fn routing_sizes(&mut self) -> Result<Vec<usize>, String> {
        (0..self.nodes.len())
            .map(|i| {
                let (a, _) = self.request(i, "routing")?;
                a.split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| format!("bad routing answer: {a}"))
            })
            .collect()
    }

    fn put(&mut self, node: usize, key: &str, value: &str) -> PutOutcome {
        match self.request(node, &format!("put {key} {value}")) {
            Ok((a, elapsed)) => PutOutcome {
                ok: a == "OK",
                elapsed,
                replicated: None,
                error: (a != "OK").then_some(a),
            },
            Err(e) => PutOutcome {
                ok: false,
                elapsed: REPLY_TIMEOUT,
                replicated: None,
                error: Some(e),
            },
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
            Err(e) => GetOutcome {
                value: None,
                elapsed: REPLY_TIMEOUT,
                local: false,
                messages: None,
                node_ms: None,
                error: Some(e),
            },
        }
    }

    fn memory(&self) -> Vec<crate::procs::Memory> {
        self.nodes.iter().filter_map(|n| n.proc.memory()).collect()
    }
}
