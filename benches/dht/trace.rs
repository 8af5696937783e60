//! Trace mode: how many rounds and requests a Kademlia lookup takes as the
//! network grows. For each N of `--trace-nodes` (default 16, 32, 64) it
//! starts N p2pnode processes with k = `--k` (default 3) on 127.0.0.1,
//! waits until their routing tables hold steady, puts R records from
//! random nodes and `trace`s each from G random other nodes (GET_VALUE,
//! stopping at the first holder), then traces R x G keys nobody holds
//! (full lookups, ended by the k-closest rule), and reports the mean and
//! max rounds and peers asked per trace against log2(N): a table and one
//! JSON line.

use p2pnode::dht::Point;
use p2pnode_testkit::Rng;
use p2pnode_testkit::kad::full_routing;
use serde_json::{Value, json};

use crate::Network;
use crate::args::Opts;
use crate::p2p::P2pNet;
use crate::report::fmt;
use crate::stats::{mean, percentile};
use crate::workload::settle;

/// What the traces of one kind did.
#[derive(Default)]
struct Traces {
    rounds: Vec<f64>,
    asked: Vec<f64>,
    found_round: Vec<f64>,
    ms: Vec<f64>,
    found: usize,
    failed: usize,
}

impl Traces {
    fn add(&mut self, v: &Value) {
        if v["ok"] != true {
            self.failed += 1;
            return;
        }
        let rounds = v["rounds"].as_array().map_or(0, Vec::len);
        self.rounds.push(rounds as f64);
        self.asked.push(v["peers_queried"].as_f64().unwrap_or(0.0));
        self.ms.push(v["elapsed_ms"].as_f64().unwrap_or(0.0));
        if let Some(r) = v["found_at_round"].as_f64() {
            self.found += 1;
            self.found_round.push(r);
        }
    }

    fn count(&self) -> usize {
        self.rounds.len() + self.failed
    }

    fn max(v: &[f64]) -> Option<f64> {
        v.iter().copied().reduce(f64::max)
    }

    fn json(&self) -> Value {
        json!({
            "traces": self.count(),
            "failed": self.failed,
            "found": self.found,
            "rounds_mean": mean(&self.rounds),
            "rounds_max": Self::max(&self.rounds),
            "found_at_round_mean": mean(&self.found_round),
            "found_at_round_max": Self::max(&self.found_round),
            "peers_queried_mean": mean(&self.asked),
            "peers_queried_max": Self::max(&self.asked),
            "elapsed_ms_p50": percentile(&self.ms, 50.0),
        })
    }
}

/// One network size's figures.
struct Row {
    n: usize,
    routing_mean: f64,
    routing_full: f64,
    stored: Traces,
    absent: Traces,
}

/// Runs the trace mode.
pub fn run(o: &Opts) -> Result<(), String> {
    let binary = o
        .binary
        .clone()
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_p2pnode").into());
    println!(
        "trace benchmark: k = {}, alpha = 3, N = {:?} p2pnode processes on 127.0.0.1, {} records x {} traces \
         of stored keys and as many of absent keys per N, seed {} (load average {})",
        o.k,
        o.trace_nodes,
        o.records,
        o.gets,
        o.seed,
        crate::loadavg()
    );
    let mut rows = Vec::new();
    for &n in &o.trace_nodes {
        rows.push(one_size(&binary, n, o)?);
    }
    print_table(o, &rows);
    Ok(())
}

fn one_size(binary: &std::path::Path, n: usize, o: &Opts) -> Result<Row, String> {
    let k = o.k.to_string();
    let args = ["--replication-factor", k.as_str()];
    let (mut net, _, joiners) = P2pNet::start(binary, n, o.verbose, &args)?;
    let (settled, took, routing_mean) = settle(&mut net, joiners)?;
    eprintln!(
        "N = {n}: routing tables {} after {:.1} s",
        if settled { "steady" } else { "still changing" },
        took.as_secs_f64()
    );
    let points: Vec<Point> = (0..n).map(|i| Point::of_peer(&net.peer(i))).collect();
    let full: Vec<f64> = points
        .iter()
        .map(|me| full_routing(me, points.iter().copied(), o.k) as f64)
        .collect();
    let mut rng = Rng::new(o.seed ^ n as u64);
    let mut row = Row {
        n,
        routing_mean,
        routing_full: mean(&full).unwrap_or(0.0),
        stored: Traces::default(),
        absent: Traces::default(),
    };
    for r in 0..o.records {
        let putter = rng.below(n);
        let key = format!("trace-{}-{n}-{r}", o.seed);
        let (put, _) = net.request(putter, &format!("put {key} v{r}"))?;
        if put["ok"] != true {
            eprintln!("N = {n}: put {key} failed: {put}");
        }
        let others: Vec<usize> = (0..n).filter(|i| *i != putter).collect();
        for pick in rng.choose(others.len(), o.gets.min(others.len())) {
            let (v, _) = net.request(others[pick], &format!("trace {key}"))?;
            row.stored.add(&v);
        }
    }
    for t in 0..o.records * o.gets {
        let key = format!("absent-{}-{n}-{t}", o.seed);
        let (v, _) = net.request(rng.below(n), &format!("trace {key}"))?;
        row.absent.add(&v);
    }
    net.stop();
    Ok(row)
}

/// The smoke run under the test runner: 8 nodes, a few traces, all must
/// answer and every stored key must be found.
pub fn smoke() {
    let o = Opts {
        trace: true,
        trace_nodes: vec![8],
        ..Opts::smoke()
    };
    let binary = std::path::PathBuf::from(env!("CARGO_BIN_EXE_p2pnode"));
    let row = one_size(&binary, 8, &o).unwrap_or_else(|e| panic!("trace smoke run: {e}"));
    print_table(&o, std::slice::from_ref(&row));
    assert_eq!(row.stored.failed + row.absent.failed, 0, "traces failed");
    assert_eq!(
        row.stored.found,
        row.stored.count(),
        "a stored key was not found"
    );
    assert!(row.absent.found == 0, "a key nobody stored was found");
}

fn print_table(o: &Opts, rows: &[Row]) {
    println!();
    println!(
        "{:>4} {:>7} {:>15} | {:^37} | {:^21}",
        "", "", "routing table", "stored keys (stop at holder)", "absent keys (full lookup)"
    );
    println!(
        "{:>4} {:>7} {:>15} | {:>6} {:>9} {:>10} {:>9} | {:>10} {:>10}",
        "N", "log2 N", "mean (full)", "found", "rounds", "found at", "asked", "rounds", "asked"
    );
    let mm = |v: &[f64]| format!("{}/{}", fmt(mean(v)), fmt(Traces::max(v)));
    let mut out = Vec::new();
    for r in rows {
        let found = format!("{}/{}", r.stored.found, r.stored.count());
        println!(
            "{:>4} {:>7.2} {:>15} | {:>6} {:>9} {:>10} {:>9} | {:>10} {:>10}",
            r.n,
            (r.n as f64).log2(),
            format!(
                "{} ({})",
                fmt(Some(r.routing_mean)),
                fmt(Some(r.routing_full))
            ),
            found,
            mm(&r.stored.rounds),
            mm(&r.stored.found_round),
            mm(&r.stored.asked),
            mm(&r.absent.rounds),
            mm(&r.absent.asked),
        );
        out.push(json!({
            "n": r.n,
            "log2_n": (r.n as f64).log2(),
            "routing_mean": r.routing_mean,
            "routing_full": r.routing_full,
            "stored": r.stored.json(),
            "absent": r.absent.json(),
        }));
    }
    println!(
        "(each cell mean/max per trace; 'found at' is the round of the first holder's answer)"
    );
    let line = json!({
        "bench": "trace",
        "k": o.k,
        "alpha": 3,
        "seed": o.seed,
        "rows": out,
    });
    println!("{line}");
}
