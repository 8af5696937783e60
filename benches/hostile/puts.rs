//! The put flood: rogue peers push values of 64 KiB to one node with the
//! default limits (see `main.rs`).

use std::time::Instant;

use p2pnode_testkit::rogue::{Flood, Rogue, wire_record};
use p2pnode_testkit::{Ask, Binary, NodeProc, Opts as NodeOpts};
use serde_json::json;

use crate::{Opts, file_mb, mb};

/// The size of each value pushed.
const VALUE: usize = 64 * 1024;
/// PUT_VALUE requests each rogue keeps in flight.
const IN_FLIGHT: usize = 16;

/// Runs the put flood and prints its figures.
pub fn run(o: &Opts) -> Result<(), String> {
    let mut victim = Binary::at(&o.binary).start(NodeOpts::default().quiet());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let before = victim.memory().ok_or("no /proc for the node")?;
    let addr = victim.tcp_addr().parse().map_err(|e| format!("{e}"))?;
    let value = vec![b'x'; VALUE];
    let per_rogue = o.puts.div_ceil(o.rogues);
    let mut flood = Flood::default();
    let started = Instant::now();
    for r in 0..o.rogues {
        let mut rogue = Rogue::new();
        let peer = rt.block_on(rogue.connect(&addr));
        let n = per_rogue.min(o.puts.saturating_sub(r * per_rogue));
        let records = (0..n).map(|i| wire_record(format!("flood-{r}-{i}").as_bytes(), &value, 1));
        let f = rt.block_on(rogue.flood(peer, records, IN_FLIGHT));
        flood.stored += f.stored;
        flood.unanswered += f.unanswered;
        for (reason, n) in f.refused {
            *flood.refused.entry(reason).or_default() += n;
        }
    }
    let took = started.elapsed();
    victim.wait_flushed();
    let after = victim.memory().ok_or("no /proc for the node")?;
    let stats = victim.cmd("stats");
    let own = victim.cmd("put own-after-the-flood still-mine");
    let disk = file_mb(&victim.data_dir.join(p2pnode::store::DB_FILE));
    report(
        o,
        &flood,
        took.as_secs_f64(),
        (before.rss, after.rss, after.anon),
        &stats,
        &own,
        &disk,
    );
    stop(victim);
    Ok(())
}

fn report(
    o: &Opts,
    flood: &Flood,
    secs: f64,
    (rss_before, rss_after, anon_after): (u64, u64, u64),
    stats: &serde_json::Value,
    own: &serde_json::Value,
    disk: &str,
) {
    let refused: usize = flood.refused.values().sum();
    println!(
        "put flood: {} values of 64 KiB from {} rogue peer(s) in {secs:.1} s",
        o.puts, o.rogues
    );
    println!(
        "  stored {}  refused {refused}  unanswered {}",
        flood.stored, flood.unanswered
    );
    for (reason, n) in &flood.refused {
        println!("    {n:>6}  {reason}");
    }
    println!(
        "  node RSS {} -> {} (anon {})  records held {}  database {disk}",
        mb(rss_before),
        mb(rss_after),
        mb(anon_after),
        stats["records"]
    );
    println!(
        "  own put afterwards: {}",
        if own["ok"] == true {
            "ok".to_string()
        } else {
            format!("FAILED: {}", own["error"])
        }
    );
    let line = json!({
        "bench": "put_flood", "puts": o.puts, "rogues": o.rogues, "seconds": secs,
        "stored": flood.stored, "refused": refused, "unanswered": flood.unanswered,
        "rss_before_kib": rss_before, "rss_after_kib": rss_after, "anon_after_kib": anon_after,
        "records": stats["records"], "database": disk, "own_put_ok": own["ok"],
    });
    println!("{line}");
}

/// Stops a node, giving it the time a large store may need to close.
pub fn stop(mut node: NodeProc) {
    node.stop(p2pnode_testkit::binary::SHUTDOWN_BOUND);
}
