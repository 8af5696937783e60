//! The report: a table of figures side by side, one JSON line, the ratios,
//! and the targets checked on this run's figures.

use crate::args::Opts;
use crate::stats::{Summary, percentile};

/// A figure for the table: `-` when there is none.
pub fn fmt(v: Option<f64>) -> String {
    match v {
        Some(x) if x.abs() >= 100.0 => format!("{x:.0}"),
        Some(x) if x.abs() >= 10.0 => format!("{x:.1}"),
        Some(x) => format!("{x:.2}"),
        None => "-".into(),
    }
}

pub fn report(o: &Opts, load: &str, p: &Summary, b: Option<&Summary>) {
    let pf = p.figures();
    let bf = b.map(Summary::figures);
    println!();
    println!(
        "{:<22} {:>12} {:>12} {:>10}",
        "figure", "p2pnode", "bmuller", "ratio p/b"
    );
    let mut ratios = serde_json::Map::new();
    for (i, (name, pv)) in pf.iter().enumerate() {
        let bv = bf.as_ref().and_then(|f| f[i].1);
        let ratio = match (pv, bv) {
            (Some(p), Some(b)) if b != 0.0 => Some(p / b),
            _ => None,
        };
        if let Some(r) = ratio {
            ratios.insert(
                (*name).into(),
                serde_json::json!((r * 1000.0).round() / 1000.0),
            );
        }
        println!(
            "{:<22} {:>12} {:>12} {:>10}",
            name,
            fmt(*pv),
            fmt(bv),
            fmt(ratio)
        );
    }
    if p.gets_local > 0 {
        println!(
            "note: {} of {} p2pnode gets were answered from the asking node's own store \
             (k = 20 closest hold each record: with N <= 21 every node does); local get p50 {} ms",
            p.gets_local,
            p.gets,
            fmt(percentile(&p.local_get_ms, 50.0))
        );
    }
    if let Some(b) = b
        && b.gets_local > 0
    {
        println!(
            "note: {} of {} bmuller gets came from nodes holding the record; local get p50 {} ms",
            b.gets_local,
            b.gets,
            fmt(percentile(&b.local_get_ms, 50.0))
        );
    }
    let json_of = |s: &Summary| {
        let mut m = serde_json::Map::new();
        for (name, v) in s.figures() {
            m.insert(
                name.into(),
                v.map_or(serde_json::Value::Null, |x| {
                    serde_json::json!((x * 1000.0).round() / 1000.0)
                }),
            );
        }
        m.insert(
            "local_get_p50_ms".into(),
            serde_json::json!(percentile(&s.local_get_ms, 50.0)),
        );
        m.insert("settled".into(), serde_json::json!(s.settled));
        serde_json::Value::Object(m)
    };
    let line = serde_json::json!({
        "bench": "dht",
        "mode": "processes",
        "nodes": o.nodes,
        "records": o.records,
        "gets_per_record": o.gets,
        "seed": o.seed,
        "loadavg": load,
        "p2pnode": json_of(p),
        "bmuller": b.map(json_of),
        "ratio": ratios,
    });
    println!("{line}");
    if let Some(b) = b {
        targets(p, b);
    }
}

/// The targets, checked on this run's figures.
fn targets(p: &Summary, b: &Summary) {
    let (pg50, pg90, pp50) = (
        percentile(&p.get_ms, 50.0),
        percentile(&p.get_ms, 90.0),
        percentile(&p.put_ms, 50.0),
    );
    let (bg50, bp50) = (percentile(&b.get_ms, 50.0), percentile(&b.put_ms, 50.0));
    let rss = percentile(&p.rss_kib, 100.0).map(|k| k / 1024.0);
    let check = |name: &str, v: Option<f64>, limit: Option<f64>| match (v, limit) {
        (Some(v), Some(l)) => println!(
            "target {name:<34} {:>9} <= {:>9}  {}",
            fmt(Some(v)),
            fmt(Some(l)),
            if v <= l { "met" } else { "NOT met" }
        ),
        _ => println!("target {name:<34} n/a (no figures)"),
    };
    check(
        "get p50 <= bmuller get p50 / 2",
        pg50,
        bg50.map(|x| x / 2.0),
    );
    check(
        "get p90 <= bmuller get p50 * 1.5",
        pg90,
        bg50.map(|x| x * 1.5),
    );
    check("put p50 < bmuller put p50", pp50, bp50);
    let pct = p.success_pct();
    println!(
        "target {:<34} {:>9} == {:>9}  {}",
        "success 100%",
        fmt(Some(pct)),
        fmt(Some(100.0)),
        if pct >= 100.0 { "met" } else { "NOT met" }
    );
    check("RSS per node (max) < 10 MiB", rss, Some(10.0));
}
