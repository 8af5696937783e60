//! The workload both systems run: wait until the routing tables hold
//! steady, put R records from random nodes, get each from G nodes that do
//! not hold it locally.

use std::time::{Duration, Instant};

use p2pnode_testkit::{Rng, Wait};

use crate::Network;
use crate::args::Opts;
use crate::stats::{Summary, mean, ms};

/// How long routing tables may take to hold steady.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(120);
/// How long the tables must stay unchanged to count as settled.
pub const STEADY: Duration = Duration::from_millis(1500);
/// Pause between two polls of the routing tables.
const POLL: Duration = Duration::from_millis(100);

/// Waits for the tables to settle, then runs the workload.
pub fn measure(
    net: &mut dyn Network,
    name: &str,
    o: &Opts,
    start: Duration,
    joiners: Instant,
) -> Result<Summary, String> {
    let mut s = Summary {
        start_ms: ms(start),
        ..Summary::default()
    };
    let (settled, bootstrap, routing) = settle(net, joiners)?;
    s.settled = settled;
    s.bootstrap_ms = ms(bootstrap);
    s.routing_mean = routing;
    if !settled {
        eprintln!(
            "{}: routing tables still changing after {SETTLE_LIMIT:?}; measuring anyway",
            name
        );
    }
    workload(net, name, o, &mut s);
    let memory = net.memory();
    s.rss_kib = memory.iter().map(|m| m.rss as f64).collect();
    s.anon_kib = memory.iter().map(|m| m.anon as f64).collect();
    s.pss_kib = memory.iter().map(|m| m.pss as f64).collect();
    Ok(s)
}

/// Polls the routing tables until they have held steady for [`STEADY`];
/// answers whether they did, when they last changed (since `since`), and
/// their mean size.
pub fn settle(net: &mut dyn Network, since: Instant) -> Result<(bool, Duration, f64), String> {
    let mut last: Vec<usize> = Vec::new();
    let mut last_change = Instant::now();
    let mut avg = 0.0;
    let mut error = None;
    let settled = Wait::new(SETTLE_LIMIT.saturating_sub(since.elapsed()))
        .pace(POLL)
        .until(|| {
            let sizes = match net.routing_sizes() {
                Ok(sizes) => sizes,
                Err(e) => {
                    error = Some(e);
                    return Some(());
                }
            };
            let now = Instant::now();
            avg = mean(&sizes.iter().map(|&s| s as f64).collect::<Vec<_>>()).unwrap_or(0.0);
            if sizes != last {
                last = sizes;
                last_change = now;
                None
            } else {
                (now - last_change >= STEADY && last.iter().all(|&s| s > 0)).then_some(())
            }
        });
    match error {
        Some(e) => Err(e),
        None => Ok((settled.is_some(), last_change - since, avg)),
    }
}

fn workload(net: &mut dyn Network, name: &str, o: &Opts, s: &mut Summary) {
    let n = net.size();
    let mut rng = Rng::new(o.seed);
    let mut records = Vec::with_capacity(o.records);
    let mut shown = 0;
    let mut show = |what: &str, e: &Option<String>| {
        if shown < 5 {
            shown += 1;
            eprintln!(
                "{name}: {what} failed: {}",
                e.as_deref().unwrap_or("wrong value")
            );
        }
    };
    for i in 0..o.records {
        let putter = rng.below(n);
        let key = format!("bench-{}-{i}", o.seed);
        let value = format!("value-{i}-{}", o.seed);
        let out = net.put(putter, &key, &value);
        s.put_ms.push(ms(out.elapsed));
        if out.ok {
            s.puts_ok += 1;
        } else {
            show("put", &out.error);
        }
        if let Some(r) = out.replicated {
            s.replicated.push(r as f64);
        }
        records.push((key, value, putter));
    }
    for (key, value, putter) in &records {
        let mut order: Vec<usize> = (0..n).filter(|i| i != putter).collect();
        rng.shuffle(&mut order);
        let mut chosen = Vec::new();
        let mut holders = Vec::new();
        for i in order {
            if chosen.len() == o.gets {
                break;
            }
            if net.holds(i, key, *putter) {
                holders.push(i);
            } else {
                chosen.push((i, false));
            }
        }
        // A network of at most k + 1 nodes: every node holds every record.
        while chosen.len() < o.gets.min(n - 1) {
            match holders.pop() {
                Some(i) => chosen.push((i, true)),
                None => break,
            }
        }
        for (i, held) in chosen {
            let g = net.get(i, key);
            s.gets += 1;
            if g.value.as_deref() == Some(value.as_str()) {
                s.gets_ok += 1;
            } else {
                show("get", &g.error);
            }
            if g.local || held {
                s.gets_local += 1;
                s.local_get_ms.push(ms(g.elapsed));
            } else {
                s.get_ms.push(ms(g.elapsed));
                if let Some(t) = g.node_ms {
                    s.node_get_ms.push(t);
                }
                if let Some(m) = g.messages {
                    s.messages.push(m);
                }
            }
        }
    }
}
