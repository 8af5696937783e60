//! p2pnode as separate processes (the release binary, as users run it):
//! each node listens on 127.0.0.1 with an ephemeral TCP port and is driven
//! over stdin with `--json` replies, through the test kit's process driver.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use libp2p::PeerId;
use p2pnode::dht::{DEFAULT_K, Distance, Point};
use p2pnode_testkit::process::Memory;
use p2pnode_testkit::{Binary, NodeProc, Opts};
use serde_json::Value;

use crate::{GetOutcome, Network, PutOutcome, REPLY_TIMEOUT, START_TIMEOUT};

struct P2pNode {
    proc: NodeProc,
    peer: PeerId,
}

/// A network of p2pnode processes.
pub struct P2pNet {
    nodes: Vec<P2pNode>,
    /// Which nodes hold each key (computed: the putter and the k closest).
    holders: HashMap<String, Vec<bool>>,
    _dir: tempfile::TempDir,
}

/// Starts node `i` without waiting for it.
fn spawn(
    binary: &Binary,
    dir: &Path,
    i: usize,
    bootstrap: Option<&str>,
    verbose: bool,
    args: &[&str],
) -> Result<NodeProc, String> {
    let mut opts = Opts::default()
        .arg("--ephemeral")
        .args(args)
        .data_dir(&dir.join(format!("n{i}")))
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        );
    if !verbose {
        opts = opts.quiet();
    }
    if let Some(b) = bootstrap {
        opts = opts.bootstrap(b);
    }
    binary
        .spawn(opts)
        .map_err(|e| format!("cannot start {}: {e}", binary.path().display()))
}

impl P2pNet {
    /// Starts `n` nodes with the extra arguments `args`: the first creates
    /// the network, the others join through it, all started at once.
    /// Returns the network, the time until all listened, and the instant
    /// the joiners were started.
    pub fn start(
        binary: &Path,
        n: usize,
        verbose: bool,
        args: &[&str],
    ) -> Result<(P2pNet, Duration, Instant), String> {
        let binary = Binary::at(binary);
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let t0 = Instant::now();
        let deadline = t0 + START_TIMEOUT;
        let mut seed = spawn(&binary, dir.path(), 0, None, verbose, args)?;
        seed.await_listening(deadline)?;
        let seed_addr = seed.tcp_addr().to_string();
        let joiners = Instant::now();
        let mut procs = vec![seed];
        for i in 1..n {
            procs.push(spawn(
                &binary,
                dir.path(),
                i,
                Some(&seed_addr),
                verbose,
                args,
            )?);
        }
        for p in &mut procs[1..] {
            p.await_listening(deadline)?;
        }
        let started = t0.elapsed();
        let nodes = procs
            .into_iter()
            .map(|proc| {
                let peer = proc
                    .peer_id
                    .parse()
                    .map_err(|e| format!("peer id {}: {e}", proc.peer_id))?;
                Ok(P2pNode { proc, peer })
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

    /// The peer ID of node `i`.
    pub fn peer(&self, i: usize) -> PeerId {
        self.nodes[i].peer
    }

    /// Sends one command line to node `i`; its JSON reply and the round trip.
    pub fn request(&mut self, i: usize, line: &str) -> Result<(Value, Duration), String> {
        let t = Instant::now();
        let v = self.nodes[i].proc.try_cmd(line, REPLY_TIMEOUT)?;
        Ok((v, t.elapsed()))
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
}

impl Network for P2pNet {
    fn size(&self) -> usize {
        self.nodes.len()
    }

    fn routing_size(&mut self, i: usize) -> Result<usize, String> {
        let (v, _) = self.request(i, "stats")?;
        Ok(v["routing_table"].as_u64().unwrap_or(0) as usize)
    }

    fn put(&mut self, node: usize, key: &str, value: &str) -> PutOutcome {
        match self.request(node, &format!("put {key} {value}")) {
            Ok((v, elapsed)) => PutOutcome {
                ok: v["ok"] == true,
                elapsed,
                replicated: v["replicated"].as_u64().map(|r| r as usize),
                error: v["error"].as_str().map(str::to_string),
            },
            Err(e) => PutOutcome::failed(e),
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
            Err(e) => GetOutcome::failed(e),
        }
    }

    fn memory(&self) -> Vec<Memory> {
        self.nodes.iter().filter_map(|n| n.proc.memory()).collect()
    }

    fn stop(&mut self) {
        for n in &mut self.nodes {
            n.proc.stop(Duration::from_secs(5));
        }
    }
}
