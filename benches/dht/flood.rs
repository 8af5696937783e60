//! Flood mode (`--flood R`): R records put as fast as four peers can put
//! them into a network of five, each record stored by every node (k = 20):
//! the victim (the network's seed) takes every one. In the current
//! p2pnode a node acknowledges a record only once it is on disk (group
//! commit). Figures: the time the flood took, puts per second, put
//! latency, acknowledgements, and what the victim holds and has not yet
//! written at the end. `--binary PATH` runs another build (before/after).

use std::path::Path;
use std::time::Instant;

use p2pnode_testkit::{Ask, Binary, NodeProc, Opts, SETTLE};

use crate::stats::{ms, percentile};

/// How many peers push at once.
const PUSHERS: usize = 4;

fn start(binary: &Binary, opts: Opts, verbose: bool) -> NodeProc {
    let opts = if verbose { opts } else { opts.quiet() };
    binary.start(opts)
}

/// Runs the flood of `records` records with `binary`.
pub fn run(binary: &Path, records: usize, verbose: bool) -> Result<(), String> {
    let binary = Binary::at(binary);
    let mut victim = start(&binary, Opts::default(), verbose);
    let seed = victim.tcp_addr().to_string();
    let mut pushers: Vec<NodeProc> = (0..PUSHERS)
        .map(|_| start(&binary, Opts::default().bootstrap(&seed), verbose))
        .collect();
    for p in pushers.iter_mut() {
        p.wait_routing(1, SETTLE);
    }
    victim.wait_routing(PUSHERS as u64, SETTLE);
    let per = records.div_ceil(PUSHERS);
    let t0 = Instant::now();
    let handles: Vec<_> = pushers
        .into_iter()
        .enumerate()
        .map(|(i, mut p)| {
            std::thread::spawn(move || {
                let mut lat = Vec::with_capacity(per);
                let mut acked = 0usize;
                for j in 0..per {
                    let t = Instant::now();
                    let put = p.cmd(&format!("put flood-{i}-{j} {}", "v".repeat(100)));
                    lat.push(ms(t.elapsed()));
                    // Every peer that acknowledged the put.
                    acked += put["replicated"].as_u64().unwrap_or(0) as usize;
                }
                (lat, acked, p)
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut acked = 0;
    let mut keep = Vec::new();
    for h in handles {
        let (l, a, p) = h.join().map_err(|_| "a pusher panicked".to_string())?;
        lat.extend(l);
        acked += a;
        keep.push(p);
    }
    let took = t0.elapsed();
    let held = victim.stat("records");
    let unflushed = victim.stat("unflushed");
    let total = per * PUSHERS;
    println!(
        "FLOOD {total} records into one node by {PUSHERS} peers: {:.2} s, {:.0} puts/s; put p50 {:.2} ms p90 {:.2} ms p99 {:.2} ms; \
         acknowledgements {acked}; victim holds {held}, unflushed at the end {unflushed}",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64(),
        percentile(&lat, 50.0).unwrap_or(0.0),
        percentile(&lat, 90.0).unwrap_or(0.0),
        percentile(&lat, 99.0).unwrap_or(0.0),
    );
    println!(
        "{}",
        serde_json::json!({
            "flood_records": total,
            "seconds": took.as_secs_f64(),
            "puts_per_second": total as f64 / took.as_secs_f64(),
            "put_p50_ms": percentile(&lat, 50.0),
            "put_p90_ms": percentile(&lat, 90.0),
            "acknowledged": acked,
            "victim_records": held,
        })
    );
    drop(keep);
    Ok(())
}
