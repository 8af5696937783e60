//! p2pnode as separate processes (the release binary, as users run it):
//! each node listens on 127.0.0.1 with an ephemeral TCP port and is driven
//! over stdin with `--json` replies.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use libp2p::PeerId;
use p2pnode::dht::{DEFAULT_K, Distance, Point};
use serde_json::Value;

use crate::procs::LineProc;
use crate::{GetOutcome, Network, PutOutcome, REPLY_TIMEOUT, START_TIMEOUT};

struct P2pNode {
    proc: LineProc,
    peer: PeerId,
}

/// A network of p2pnode processes.
pub struct P2pNet {
    nodes: Vec<P2pNode>,
    /// Which nodes hold each key (computed: the putter and the k closest).
    holders: HashMap<String, Vec<bool>>,
    _dir: tempfile::TempDir,
}

fn spawn(
    binary: &Path,
    dir: &Path,
    i: usize,
    bootstrap: Option<&str>,
    verbose: bool,
) -> Result<LineProc, String> {
    let mut cmd = Command::new(binary);
    cmd.arg("--json")
        .arg("--ephemeral")
        .arg("--data-dir")
        .arg(dir.join(format!("n{i}")))
        .arg("--listen")
        .arg("/ip4/127.0.0.1/tcp/0")
        .env_remove("P2P_REMOTE_HOST")
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stderr(if verbose {
            Stdio::inherit()
        } else {
            Stdio::null()
        });
    if let Some(b) = bootstrap {
        cmd.arg("--bootstrap").arg(b);
    }
    LineProc::spawn(cmd).map_err(|e| format!("cannot start {}: {e}", binary.display()))
}

/// Waits for the node's `listening` event; returns the address.
fn listening(proc: &mut LineProc, deadline: Instant) -> Result<String, String> {
    while let Some(line) = proc.line_before(deadline) {
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && v["event"] == "listening"
            && let Some(a) = v["addr"].as_str()
        {
            return Ok(a.to_string());
        }
    }
    Err("a p2pnode process did not report its listen address".into())
}

fn peer_of(addr: &str) -> Result<PeerId, String> {
    addr.rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no peer id in {addr}"))
}

impl P2pNet {
    /// Starts `n` nodes: the first creates the network, the others join
    /// through it, all started at once. Returns the network, the time until
    /// all listened, and the instant the joiners were started.
    pub fn start(
        binary: &Path,
        n: usize,
        verbose: bool,
    ) -> Result<(P2pNet, Duration, Instant), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let t0 = Instant::now();
        let deadline = t0 + START_TIMEOUT;
        let mut seed = spawn(binary, dir.path(), 0, None, verbose)?;
        let seed_addr = listening(&mut seed, deadline)?;
        let mut procs = vec![(seed, seed_addr.clone())];
        let joiners = Instant::now();
        let mut pending = Vec::new();
        for i in 1..n {
            pending.push(spawn(binary, dir.path(), i, Some(&seed_addr), verbose)?);
        }
        for mut p in pending {
            let a = listening(&mut p, deadline)?;
            procs.push((p, a));
        }
        let started = t0.elapsed();
        let nodes = procs
            .into_iter()
            .map(|(proc, addr)| {
                Ok(P2pNode {
                    proc,
                    peer: peer_of(&addr)?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok((
            P2pNet {
                nodes,
                holders: HashMap::new(),
                _dir: dir,
            },
            started,
            joiners,
        ))
    }

    /// Sends one command line to node `i`; its JSON reply and the round trip.
    pub fn request(&mut self, i: usize, line: &str) -> Result<(Value, Duration), String> {
        let proc = &mut self.nodes[i].proc;
        let t = Instant::now();
        proc.send(line)?;
        let deadline = t + REPLY_TIMEOUT;
        loop {
            let Some(text) = proc.line_before(deadline) else {
                return Err(format!("node {i}: no reply to '{line}'"));
            };
            if let Ok(v) = serde_json::from_str::<Value>(&text)
                && v.get("cmd").is_some()
            {
                return Ok((v, t.elapsed()));
            }
        }
    }

    /// Computes who holds `key` after a put from `putter`: the putter and the
    /// k closest other nodes by XOR distance (what a converged lookup finds).
    fn compute_holders(&self, key: &str, putter: usize) -> Vec<bool> {
        let mut holders = vec![false; self.nodes.len()];
        holders[putter] = true;
        let Ok(record_key) = p2pnode::keys::parse(key) else {
            return holders;
        };
        let target = Point::of_bytes(record_key.as_ref());
        let mut others: Vec<(Distance, usize)> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != putter)
            .map(|(i, n)| (target.distance(&Point::of_peer(&n.peer)), i))
            .collect();
        others.sort();
        for (_, i) in others.into_iter().take(DEFAULT_K) {
            holders[i] = true;
        }
        holders
    }

    /// Stops every node (EOF on stdin, then kill).
    pub fn stop(&mut self) {
        for n in &mut self.nodes {
            n.proc.send("quit").ok();
        }
        for n in &mut self.nodes {
            n.proc.stop(Duration::from_secs(5));
        }
    }
}

impl Network for P2pNet {
    fn name(&self) -> &'static str {
        "p2pnode"
    }

    fn size(&self) -> usize {
        self.nodes.len()
    }

    fn routing_sizes(&mut self) -> Result<Vec<usize>, String> {
        (0..self.nodes.len())
            .map(|i| {
                let (v, _) = self.request(i, "stats")?;
                Ok(v["routing_table"].as_u64().unwrap_or(0) as usize)
            })
            .collect()
    }

    fn put(&mut self, node: usize, key: &str, value: &str) -> PutOutcome {
        match self.request(node, &format!("put {key} {value}")) {
            Ok((v, elapsed)) => PutOutcome {
                ok: v["ok"] == true,
                elapsed,
                replicated: v["replicated"].as_u64().map(|r| r as usize),
                error: v["error"].as_str().map(str::to_string),
            },
            Err(e) => PutOutcome {
                ok: false,
                elapsed: REPLY_TIMEOUT,
                replicated: None,
                error: Some(e),
            },
        }
    }

    fn holds(&mut self, node: usize, key: &str, putter: usize) -> bool {
        if !self.holders.contains_key(key) {
            let h = self.compute_holders(key, putter);
            self.holders.insert(key.to_string(), h);
        }
        self.holders.get(key).is_some_and(|h| h[node])
    }

    fn get(&mut self, node: usize, key: &str) -> GetOutcome {
        match self.request(node, &format!("get {key}")) {
            Ok((v, elapsed)) => GetOutcome {
                value: v["value"].as_str().map(str::to_string),
                elapsed,
                local: v["from"] == "local",
                messages: v["peers_queried"].as_u64().map(|m| m as f64),
                node_ms: v["elapsed_ms"].as_f64(),
                error: v["error"].as_str().map(str::to_string),
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
