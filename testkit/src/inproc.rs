//! Nodes in the test's own process: each a real swarm on 127.0.0.1 with its
//! own port, started through the library (`Node::spawn`), tagged with a
//! tracing span `node{i}` so the logs say who spoke, and driven through its
//! `Client` or through REPL lines answered in JSON over byte buffers (the
//! same JSON the binary prints).

use std::path::Path;
use std::time::Duration;

use p2pnode::bootstrap::Target;
use p2pnode::network::Kind;
use p2pnode::output::Format;
use p2pnode::{Config, Node, repl};
use serde_json::Value;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::SETTLE;
use crate::wait::Wait;

/// The routing table a settled network of n nodes gives every node: all
/// the others, up to Kademlia's k.
const K: usize = 20;
/// How long a node may take to join through its bootstrap peer.
const JOIN_TIMEOUT: Duration = Duration::from_secs(30);
/// The pace of polls of a node's state (each is a round trip to its loop).
const POLL: Duration = Duration::from_millis(50);
/// How long one command may take before the test fails instead of hanging:
/// well past the default query timeout (30 s), as a command that is never
/// answered (a lost reply in the event loop) must be a failure, not a
/// test stopped by the runner minutes later.
const ANSWER_BOUND: Duration = Duration::from_secs(120);

/// Logs of the test (`RUST_LOG`) through the test writer, once per process.
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Starts node `i` with `config` over TCP/QUIC, inside the span `node{i}`.
pub async fn spawn_node(i: usize, config: Config) -> Node {
    spawn_node_with(i, config, Kind::Standard)
        .await
        .unwrap_or_else(|e| panic!("node {i} does not start: {e}"))
}

/// Starts node `i` with `config` over the transport `kind`, inside the span
/// `node{i}`; the error when it does not start.
pub async fn spawn_node_with(i: usize, config: Config, kind: Kind) -> Result<Node, String> {
    init_logs();
    Node::spawn_with(config, kind)
        .instrument(tracing::info_span!("node", i))
        .await
        .map_err(|e| e.to_string())
}

/// A bootstrap target for joining through `node` (its first address).
pub fn target(node: &Node) -> Target {
    let addr = node.listen_addrs.first().expect("a listening node");
    addr.to_string()
        .parse()
        .unwrap_or_else(|e| panic!("{addr} as a bootstrap target: {e}"))
}

/// The TCP port of `node`'s first TCP listen address.
pub fn tcp_port(node: &Node) -> u16 {
    node.listen_addrs
        .iter()
        .find_map(|a| {
            let text = a.to_string();
            let (_, rest) = text.split_once("/tcp/")?;
            rest.split('/').next()?.parse().ok()
        })
        .expect("a TCP listen address")
}

/// Nodes of one test: their data directories and their numbers in the logs.
/// The nodes started by [`spawn_nodes`] are in `nodes`; [`Net::spawn`]
/// hands further ones to the caller, to keep or to drop.
pub struct Net {
    /// The nodes started together.
    pub nodes: Vec<Node>,
    next: usize,
    dir: tempfile::TempDir,
}

impl Net {
    /// No nodes yet.
    pub fn new() -> Net {
        Net {
            nodes: Vec::new(),
            next: 0,
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// Where the nodes' data directories are.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The next node's number and its configuration: `Config::local` (an
    /// ephemeral node on 127.0.0.1, TCP port 0) in a directory of its own.
    pub fn config(&mut self) -> (usize, Config) {
        let i = self.next;
        self.next += 1;
        (i, Config::local(self.dir.path().join(format!("n{i}"))))
    }

    /// Starts a node alone (it creates a network), configured by `configure`.
    pub async fn spawn(&mut self, configure: impl FnOnce(&mut Config)) -> Node {
        let (i, mut config) = self.config();
        configure(&mut config);
        spawn_node(i, config).await
    }

    /// Starts a node that joins through `seed`, configured by `configure`,
    /// and waits until it has joined (its first bootstrap is over, or the
    /// seed proved unreachable), as the binary does before a script's
    /// first line.
    pub async fn join(&mut self, seed: &Node, configure: impl FnOnce(&mut Config)) -> Node {
        let via = target(seed);
        let node = self
            .spawn(|c| {
                c.bootstrap = vec![via];
                configure(c);
            })
            .await;
        tokio::time::timeout(JOIN_TIMEOUT, node.client.wait_joined())
            .await
            .expect("the node joins in time")
            .expect("the node is running");
        node
    }

    /// Shuts every node in `nodes` down.
    pub async fn shutdown(&self) {
        for n in &self.nodes {
            let _ = n.client.shutdown().await;
        }
    }
}

impl Default for Net {
    fn default() -> Self {
        Net::new()
    }
}

impl std::ops::Index<usize> for Net {
    type Output = Node;
    fn index(&self, i: usize) -> &Node {
        &self.nodes[i]
    }
}

/// Starts `n` nodes (the first creates the network, the others join through
/// it) and waits until every routing table holds the others (up to k).
/// Each node starts once the first knows every earlier one, so its
/// bootstrap lookup finds them all (a lookup that ran before the seed knew a
/// peer would learn of it only at the next refresh, minutes later).
pub async fn spawn_nodes(n: usize) -> Net {
    spawn_nodes_with(n, |_, _| {}).await
}

/// [`spawn_nodes`] with each node's configuration adjusted by `configure`
/// (called with the node's number).
pub async fn spawn_nodes_with(n: usize, configure: impl Fn(usize, &mut Config)) -> Net {
    let mut net = Net::new();
    for i in 0..n {
        let seed = net.nodes.first().map(target);
        let node = net
            .spawn(|c| {
                c.bootstrap = seed.into_iter().collect();
                configure(i, c);
            })
            .await;
        net.nodes.push(node);
        net.nodes[0].wait_routing(i.min(K), SETTLE).await;
    }
    let want = (n - 1).min(K);
    for node in &net.nodes {
        node.wait_routing(want, SETTLE).await;
    }
    net
}

/// What tests ask of an in-process node, in the words of the binary's tests.
#[allow(async_fn_in_trait)]
pub trait NodeExt {
    /// Runs one REPL line and returns its JSON answer (what `--json` prints).
    async fn cmd(&self, line: &str) -> Value;
    /// How many peers its routing table holds.
    async fn routing_size(&self) -> usize;
    /// Waits until its routing table holds at least `n` peers.
    async fn wait_routing(&self, n: usize, timeout: Duration);
    /// Repeats `line` until `pred` holds on its answer, within `timeout`.
    async fn wait_for(&self, line: &str, timeout: Duration, pred: impl Fn(&Value) -> bool)
    -> Value;
    /// A numeric field of `stats`.
    async fn stat(&self, field: &str) -> u64;
    /// The `from` of a successful `get`, or None when it failed.
    async fn get_from(&self, key: &str) -> Option<String>;
}

impl NodeExt for Node {
    async fn cmd(&self, line: &str) -> Value {
        let mut out = Vec::new();
        let input = format!("{line}\n");
        tokio::time::timeout(
            ANSWER_BOUND,
            repl::run(&self.client, input.as_bytes(), &mut out, Format::Json),
        )
        .await
        .unwrap_or_else(|_| {
            panic!(
                "node {}: no answer to '{line}' within {ANSWER_BOUND:?}",
                self.peer_id
            )
        })
        .expect("writing to a byte buffer");
        let text = String::from_utf8(out).expect("UTF-8 output");
        let mut lines = text.lines();
        let first = lines
            .next()
            .unwrap_or_else(|| panic!("no answer to '{line}'"));
        assert!(lines.next().is_none(), "one answer to '{line}': {text}");
        serde_json::from_str(first)
            .unwrap_or_else(|e| panic!("answer to '{line}' is not JSON ({e}): {first}"))
    }

    async fn routing_size(&self) -> usize {
        let buckets = self.client.routing().await.expect("the node is running");
        buckets.iter().map(|b| b.entries.len()).sum()
    }

    async fn wait_routing(&self, n: usize, timeout: Duration) {
        Wait::new(timeout)
            .pace(POLL)
            .eventually_async(|| async {
                match self.routing_size().await {
                    size if size >= n => Ok(()),
                    size => Err(format!("node {}: routing table {size} < {n}", self.peer_id)),
                }
            })
            .await;
    }

    async fn wait_for(
        &self,
        line: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        Wait::new(timeout)
            .pace(POLL)
            .eventually_async(|| async {
                let v = self.cmd(line).await;
                if pred(&v) {
                    Ok(v)
                } else {
                    Err(format!("'{line}' answered {v}"))
                }
            })
            .await
    }

    async fn stat(&self, field: &str) -> u64 {
        let s = self.cmd("stats").await;
        assert_eq!(s["ok"], true, "expected ok: {s}");
        s[field]
            .as_u64()
            .unwrap_or_else(|| panic!("no {field} in {s}"))
    }

    async fn get_from(&self, key: &str) -> Option<String> {
        let v = self.cmd(&format!("get {key}")).await;
        (v["ok"] == true).then(|| v["from"].as_str().unwrap_or("").to_string())
    }
}
