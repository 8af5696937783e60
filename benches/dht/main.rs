//! The DHT benchmark: p2pnode side by side with bmuller `kademlia` on the
//! same workload, plus an in-process scale mode.
//!
//! ```text
//! cargo bench --bench dht -- --nodes 60 --records 100     # processes, p2pnode vs bmuller
//! cargo bench --bench dht -- --nodes 20                   # the 20-node figures
//! cargo bench --bench dht -- --scale 1000                 # 1,000 in-process nodes (memory transport)
//! cargo bench --bench dht -- --trace                      # lookups traced: rounds against log2(N), k = 3
//! ```
//!
//! Process mode starts N p2pnode processes (the release binary cargo built
//! for the bench, as users run it) on 127.0.0.1, waits until the routing
//! tables hold steady, `put`s R records from random nodes, then `get`s each
//! from G random nodes that do not hold it locally (for p2pnode: not the
//! putter and not among the k closest by XOR distance; the reply's `"from"`
//! confirms it; for bmuller: its `local` command says). Then the same
//! workload (same seed, same node choices) on N bmuller peers through
//! `../shared/peers/bmuller_kad_peer.py`. Latencies are round trips measured
//! here, from writing the command line to reading its answer, the same way
//! for both systems. It prints a table, one JSON line, and the ratios.
//!
//! Without `--bench` (that is, under `cargo test` / `cargo nextest`, which
//! build and run bench targets as tests) it is a test binary with three small
//! smoke runs (5 nodes), so the suite checks that the harness works:
//! `smoke` (p2pnode), `smoke_bmuller` (bmuller kademlia) and `smoke_trace`
//! (trace mode, 8 nodes with k = 3). Where the
//! reference peers are not installed, `smoke_bmuller` is listed as ignored
//! (nextest: SKIP), unless `P2PNODE_REQUIRE_PEERS=1` (CI) makes it fail.

mod args;
mod bmuller;
mod flood;
mod p2p;
mod report;
mod scale;
mod stats;
mod trace;
mod workload;

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use p2pnode_testkit::harness::{self, Prerequisite, test};
use p2pnode_testkit::process::Memory;

use args::Opts;
use stats::Summary;

/// How long one command may take to be answered.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a network may take to start (every process listening).
pub const START_TIMEOUT: Duration = Duration::from_secs(120);

/// What a `put` did.
pub struct PutOutcome {
    ok: bool,
    elapsed: Duration,
    replicated: Option<usize>,
    error: Option<String>,
}

/// What a `get` did.
pub struct GetOutcome {
    value: Option<String>,
    elapsed: Duration,
    local: bool,
    messages: Option<f64>,
    /// The node's own timing of the lookup, when it reports one.
    node_ms: Option<f64>,
    error: Option<String>,
}

impl PutOutcome {
    /// A put that got no answer.
    fn failed(error: String) -> PutOutcome {
        PutOutcome {
            ok: false,
            elapsed: REPLY_TIMEOUT,
            replicated: None,
            error: Some(error),
        }
    }
}

impl GetOutcome {
    /// A get that got no answer.
    fn failed(error: String) -> GetOutcome {
        GetOutcome {
            value: None,
            elapsed: REPLY_TIMEOUT,
            local: false,
            messages: None,
            node_ms: None,
            error: Some(error),
        }
    }
}

/// A DHT under test: node processes driven over their stdin.
pub trait Network {
    /// Number of nodes.
    fn size(&self) -> usize;
    /// Routing table size of node `i`.
    fn routing_size(&mut self, i: usize) -> Result<usize, String>;
    /// Routing table size of every node.
    fn routing_sizes(&mut self) -> Result<Vec<usize>, String> {
        (0..self.size()).map(|i| self.routing_size(i)).collect()
    }
    /// Stores `value` under `key` from `node`.
    fn put(&mut self, node: usize, key: &str, value: &str) -> PutOutcome;
    /// Whether `node` holds `key` in its own store (put from `putter`).
    fn holds(&mut self, node: usize, key: &str, putter: usize) -> bool;
    /// Looks `key` up from `node`.
    fn get(&mut self, node: usize, key: &str) -> GetOutcome;
    /// Resident memory of every node process.
    fn memory(&self) -> Vec<Memory>;
    /// Stops every node.
    fn stop(&mut self);
}

/// The reference peers, for the bmuller comparison.
const PEERS: Prerequisite = Prerequisite {
    what: "the reference peers (bash ../shared/peers/setup.sh)",
    required_by: "P2PNODE_REQUIRE_PEERS",
    check: || bmuller::Peers::find().map(|_| ()),
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        return harness::main(vec![
            test("smoke", || smoke(false)),
            test("smoke_bmuller", || smoke(true)).needs(PEERS),
            test("smoke_trace", trace::smoke),
        ]);
    }
    let opts = match args::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let outcome = match (opts.scale, opts.flood) {
        _ if opts.trace => trace::run(&opts).map_err(|e| format!("trace mode failed: {e}")),
        (Some(n), _) => scale::run(n, &opts).map_err(|e| format!("scale mode failed: {e}")),
        (None, Some(r)) => {
            let binary = opts
                .binary
                .clone()
                .unwrap_or_else(|| env!("CARGO_BIN_EXE_p2pnode").into());
            flood::run(&binary, r, opts.verbose).map_err(|e| format!("flood mode failed: {e}"))
        }
        (None, None) => run_processes(&opts).map_err(|e| format!("benchmark failed: {e}")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// A smoke run under the test runner: every operation must succeed, on
/// p2pnode or (with `bmuller`) on bmuller kademlia.
fn smoke(bmuller: bool) {
    let o = Opts::smoke();
    let summary = if bmuller {
        let peers = bmuller::Peers::find().unwrap_or_else(|why| panic!("{why}"));
        run_bmuller(&o, &peers)
    } else {
        run_p2p(&o)
    }
    .unwrap_or_else(|e| panic!("smoke run failed: {e}"));
    if bmuller {
        for (name, v) in summary.figures() {
            println!("bmuller {name:<22} {:>12}", report::fmt(v));
        }
    } else {
        report::report(&o, &loadavg(), &summary, None);
    }
    assert_eq!(
        summary.success_pct(),
        100.0,
        "smoke run: not every operation succeeded"
    );
}

/// The 1-minute load average, to tell a loaded machine in the figures.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// Starts a network, runs the workload on it, stops it.
fn run_on(
    name: &str,
    o: &Opts,
    start: impl FnOnce() -> Result<(Box<dyn Network>, Duration, Instant), String>,
) -> Result<Summary, String> {
    let (mut net, started, joiners) = start()?;
    let summary = workload::measure(net.as_mut(), name, o, started, joiners);
    net.stop();
    summary
}

/// The workload on p2pnode processes.
fn run_p2p(o: &Opts) -> Result<Summary, String> {
    let binary = o
        .binary
        .as_deref()
        .unwrap_or(Path::new(env!("CARGO_BIN_EXE_p2pnode")));
    run_on("p2pnode", o, || {
        let (net, started, joiners) = p2p::P2pNet::start(binary, o.nodes, o.verbose, &[])?;
        Ok((Box::new(net) as Box<dyn Network>, started, joiners))
    })
}

/// The same workload on bmuller kademlia peers.
fn run_bmuller(o: &Opts, peers: &bmuller::Peers) -> Result<Summary, String> {
    run_on("bmuller", o, || {
        let (net, started, joiners) = bmuller::BmNet::start(peers, o.nodes, o.verbose)?;
        Ok((Box::new(net) as Box<dyn Network>, started, joiners))
    })
}

fn run_processes(o: &Opts) -> Result<(), String> {
    let load = loadavg();
    println!(
        "DHT benchmark: N={} nodes as separate processes on 127.0.0.1, R={} records, {} gets per record \
         from nodes without a local copy, seed {} (load average {load}, {} CPUs)",
        o.nodes,
        o.records,
        o.gets,
        o.seed,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let p2p = run_p2p(o)?;
    let bm = match (o.bmuller, bmuller::Peers::find()) {
        (false, _) => None,
        (true, Ok(peers)) => Some(run_bmuller(o, &peers)?),
        (true, Err(why)) => {
            println!("no bmuller comparison: {why}");
            None
        }
    };
    report::report(o, &load, &p2p, bm.as_ref());
    Ok(())
}
