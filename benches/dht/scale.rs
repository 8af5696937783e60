//! Scale mode: N p2pnode nodes in this one process over libp2p's memory
//! transport (noise + yamux on top, as over TCP), driven through the
//! library's `Client`. Reports lookup messages against log2(N) and memory
//! per node (this process's RSS growth divided by N).

use std::time::{Duration, Instant};

use std::cell::RefCell;

use futures::future::join_all;
use libp2p::multiaddr::Protocol;
use p2pnode::bootstrap::Target;
use p2pnode::dht::{DEFAULT_K, Distance, Point};
use p2pnode::network::{Kind, Node, Quorum};
use p2pnode::{Config, keys};
use p2pnode_testkit::inproc::spawn_node_with;
use p2pnode_testkit::process::rss_kib;
use p2pnode_testkit::{Rng, Wait};

use crate::args::Opts;
use crate::loadavg;
use crate::report::fmt;
use crate::stats::{mean, ms, percentile};
use crate::workload::STEADY;

/// How long the whole network may take to settle.
const SETTLE_LIMIT: Duration = Duration::from_secs(600);

/// Runs the scale mode with `n` nodes.
pub fn run(n: usize, o: &Opts) -> Result<(), String> {
    // The nodes' logs, when asked for (`RUST_LOG=libp2p_kad=debug ...`).
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(run_async(n, o))
}

async fn spawn(
    dir: &std::path::Path,
    i: usize,
    bootstrap: Option<Target>,
    idle: Duration,
) -> Result<Node, String> {
    let mut config = Config::local(dir.join(format!("n{i}")));
    config.listen = vec!["/memory/0".parse().map_err(|e| format!("{e}"))?];
    config.bootstrap = bootstrap.into_iter().collect();
    config.timings.idle_timeout = idle;
    // A thousand nodes on two cores run far slower than real time: their
    // first bootstrap alone takes minutes. Libp2p's 5-minute refresh would
    // start the next one before the first is over; the run is shorter than
    // an hour, so this keeps refreshes out of the measurement.
    config.timings.refresh_interval = Duration::from_secs(3600);
    // Every node joins through the seed and keeps its connection: a seed
    // of a thousand nodes needs more than the default connection limits.
    config.connections = p2pnode::config::ConnectionLimits {
        max_established: u32::MAX,
        max_established_incoming: u32::MAX,
        ..Default::default()
    };
    spawn_node_with(i, config, Kind::Memory).await
}

async fn run_async(n: usize, o: &Opts) -> Result<(), String> {
    let load = loadavg();
    println!(
        "DHT scale mode: N={n} p2pnode nodes in one process over the memory transport, \
         R={} records, {} gets per record from nodes without a local copy, idle connections \
         closed after {} s, seed {} (load average {load})",
        o.records,
        o.gets,
        o.idle.as_secs(),
        o.seed
    );
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let me = std::process::id();
    let rss_before = rss_kib(me).unwrap_or(0);
    let t0 = Instant::now();
    let seed = spawn(dir.path(), 0, None, o.idle).await?;
    let mut seed_addr = seed
        .listen_addrs
        .first()
        .cloned()
        .ok_or("the seed has no address")?;
    if matches!(seed_addr.iter().last(), Some(Protocol::P2p(_))) {
        seed_addr.pop();
    }
    let target = Target {
        addr: seed_addr,
        peer: Some(seed.peer_id),
    };
    let mut nodes = vec![seed];
    for i in 1..n {
        nodes.push(spawn(dir.path(), i, Some(target.clone()), o.idle).await?);
    }
    let started = t0.elapsed();

    // Settle: with a thousand nodes some table is always changing a little
    // (refreshes, new connections), so "settled" here means the total number
    // of routing entries grew by less than 0.5 % over STEADY, every node
    // knowing at least one peer ...
    eprintln!(
        "scale: {n} nodes started in {:.1} s; waiting for the routing tables",
        started.as_secs_f64()
    );
    let history: RefCell<Vec<(Instant, usize)>> = RefCell::new(Vec::new());
    let last: RefCell<Vec<usize>> = RefCell::new(Vec::new());
    let shown = RefCell::new(Instant::now());
    let settled = Wait::new(SETTLE_LIMIT.saturating_sub(t0.elapsed()))
        .pace(Duration::from_millis(250))
        .until_async(|| async {
            let stats: Vec<_> = join_all(nodes.iter().map(|nd| nd.client.stats()))
                .await
                .into_iter()
                .map(Result::unwrap_or_default)
                .collect();
            let sizes: Vec<usize> = stats.iter().map(|s| s.routing_table).collect();
            let active: usize = stats.iter().map(|s| s.queries_active).sum();
            let now = Instant::now();
            let total: usize = sizes.iter().sum();
            let min = sizes.iter().min().copied().unwrap_or(0);
            *last.borrow_mut() = sizes;
            let mut history = history.borrow_mut();
            history.push((now, total));
            if shown.borrow().elapsed() >= Duration::from_secs(5) {
                *shown.borrow_mut() = now;
                eprintln!(
                    "scale: {:.0} s, routing table mean {:.1}, min {min}, queries running {active}",
                    t0.elapsed().as_secs_f64(),
                    total as f64 / n as f64,
                );
            }
            let before = history
                .iter()
                .rev()
                .find(|(t, _)| now - *t >= STEADY)
                .map(|&(_, s)| s);
            // ... and the nodes' own bootstrap lookups are over (all but 1 %),
            // so the workload does not compete with them.
            before.and_then(|before| {
                (total.saturating_sub(before) * 200 <= total && min > 0 && active * 100 <= n)
                    .then_some(())
            })
        })
        .await
        .is_some();
    let history = history.into_inner();
    let last = last.into_inner();
    eprintln!(
        "scale: settled={settled} after {:.1} s; running the workload",
        t0.elapsed().as_secs_f64()
    );
    // Bootstrap time: until the tables held 99.5 % of their final entries.
    let final_total = history.last().map_or(0, |&(_, s)| s);
    let bootstrap = history
        .iter()
        .find(|&&(_, s)| s * 200 >= final_total * 199)
        .map_or(t0.elapsed(), |&(t, _)| t - t0);
    let routing_mean = mean(&last.iter().map(|&s| s as f64).collect::<Vec<_>>()).unwrap_or(0.0);
    let rss_settled = rss_kib(me).unwrap_or(0);

    let mut rng = Rng::new(o.seed);
    let peers: Vec<Point> = nodes.iter().map(|nd| Point::of_peer(&nd.peer_id)).collect();
    let (mut put_ms, mut get_ms, mut msgs, mut replicated) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut full_msgs = Vec::new();
    let (mut ok, mut total, mut local) = (0usize, 0usize, 0usize);
    for i in 0..o.records {
        let putter = rng.below(n);
        let text = format!("scale-{}-{i}", o.seed);
        let key = keys::parse(&text).map_err(|e| e.to_string())?;
        let value = format!("value-{i}").into_bytes();
        total += 1;
        let t = Instant::now();
        match nodes[putter]
            .client
            .put(key.clone(), value.clone(), Quorum::Default)
            .await
        {
            Ok(r) => {
                put_ms.push(ms(t.elapsed()));
                replicated.push(r.replicated as f64);
                ok += usize::from(r.quorum_met);
            }
            Err(e) => eprintln!("put failed: {e}"),
        }
        // Non-holders: not the putter, not among the k closest.
        let target = Point::of_bytes(key.as_ref());
        let mut by_distance: Vec<(Distance, usize)> = (0..n)
            .filter(|&j| j != putter)
            .map(|j| (target.distance(&peers[j]), j))
            .collect();
        by_distance.sort();
        let mut far: Vec<usize> = by_distance
            .iter()
            .skip(DEFAULT_K)
            .map(|&(_, j)| j)
            .collect();
        rng.shuffle(&mut far);
        // One full lookup per record (quorum all: the query runs until the
        // k closest peers have answered), the cost a Kademlia lookup has
        // when it cannot stop at the first copy.
        if let Some(&j) = far.get(o.gets) {
            match nodes[j].client.get(key.clone(), Quorum::All).await {
                Ok(g) => full_msgs.push(f64::from(g.peers_queried)),
                Err(e) => eprintln!("scale: full lookup from node {j} failed: {e}"),
            }
        }
        for &j in far.iter().take(o.gets) {
            total += 1;
            let t = Instant::now();
            match nodes[j].client.get(key.clone(), Quorum::Default).await {
                Ok(g) if g.values.first().is_some_and(|f| f.value == value) => {
                    ok += 1;
                    if g.values.first().is_some_and(|f| f.from.is_none()) {
                        local += 1;
                    } else {
                        get_ms.push(ms(t.elapsed()));
                        msgs.push(f64::from(g.peers_queried));
                    }
                }
                Ok(g) => eprintln!(
                    "scale: get from node {j} found {} value(s) after asking {} peers in {:.0} ms",
                    g.values.len(),
                    g.peers_queried,
                    ms(g.elapsed)
                ),
                Err(e) => eprintln!("get failed: {e}"),
            }
        }
    }
    let rss_after = rss_kib(me).unwrap_or(0);
    let conns: Vec<f64> = join_all(nodes.iter().map(|nd| nd.client.stats()))
        .await
        .into_iter()
        .filter_map(|s| s.ok().map(|s| s.connections as f64))
        .collect();
    let log2n = (n as f64).log2();
    let per_node = |rss: u64| rss.saturating_sub(rss_before) as f64 / 1024.0 / n as f64;
    let m_mean = mean(&msgs);
    let rows: Vec<(&str, Option<f64>)> = vec![
        ("nodes", Some(n as f64)),
        ("log2(N)", Some(log2n)),
        ("start_ms", Some(ms(started))),
        ("bootstrap_ms", Some(ms(bootstrap))),
        ("routing_mean", Some(routing_mean)),
        ("connections_mean", mean(&conns)),
        ("put_p50_ms", percentile(&put_ms, 50.0)),
        ("put_p90_ms", percentile(&put_ms, 90.0)),
        ("replicated_mean", mean(&replicated)),
        ("get_p50_ms", percentile(&get_ms, 50.0)),
        ("get_p90_ms", percentile(&get_ms, 90.0)),
        ("get_p99_ms", percentile(&get_ms, 99.0)),
        ("msgs_per_lookup_mean", m_mean),
        ("msgs_per_lookup_p50", percentile(&msgs, 50.0)),
        ("msgs_per_lookup_p90", percentile(&msgs, 90.0)),
        ("msgs_per_lookup_max", percentile(&msgs, 100.0)),
        ("msgs_over_log2n", m_mean.map(|m| m / log2n)),
        ("full_lookup_msgs_mean", mean(&full_msgs)),
        ("full_lookup_msgs_p90", percentile(&full_msgs, 90.0)),
        ("full_over_log2n", mean(&full_msgs).map(|m| m / log2n)),
        ("success_pct", Some(100.0 * ok as f64 / total.max(1) as f64)),
        ("gets_local", Some(local as f64)),
        ("mib_per_node_settled", Some(per_node(rss_settled))),
        ("mib_per_node_after", Some(per_node(rss_after))),
    ];
    println!();
    let mut json = serde_json::Map::new();
    for (name, v) in &rows {
        println!("{name:<24} {:>12}", fmt(*v));
        json.insert(
            (*name).into(),
            v.map_or(serde_json::Value::Null, |x| {
                serde_json::json!((x * 1000.0).round() / 1000.0)
            }),
        );
    }
    json.insert("bench".into(), "dht".into());
    json.insert("mode".into(), "scale".into());
    json.insert("settled".into(), settled.into());
    json.insert("loadavg".into(), load.into());
    json.insert("seed".into(), o.seed.into());
    println!("{}", serde_json::Value::Object(json));
    for (what, m) in [
        ("get lookups (stop at the first copy)", m_mean),
        ("full lookups (all k closest answer)", mean(&full_msgs)),
    ] {
        if let Some(m) = m {
            println!(
                "target mean messages <= 2 x log2(N) = {:.1}, {what}: {m:.1}  {}",
                2.0 * log2n,
                if m <= 2.0 * log2n { "met" } else { "NOT met" }
            );
        }
    }
    let mib = per_node(rss_after);
    println!(
        "target memory per in-process node < 2 MiB: {mib:.2} MiB  {}",
        if mib < 2.0 { "met" } else { "NOT met" }
    );
    for nd in &nodes {
        let _ = nd.client.shutdown().await;
    }
    Ok(())
}
