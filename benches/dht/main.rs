//! The DHT benchmark: p2pnode side by side with bmuller `kademlia` on the
//! same workload, plus an in-process scale mode.
//!
//! ```text
//! cargo bench --bench dht -- --nodes 60 --records 100     # processes, p2pnode vs bmuller
//! cargo bench --bench dht -- --nodes 20                   # the 20-node figures
//! cargo bench --bench dht -- --scale 1000                 # 1,000 in-process nodes (memory transport)
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
//! build and run bench targets as tests) it runs a small smoke version
//! (5 nodes) so the suite checks that the harness works; it answers
//! nextest's `--list` with one test, `smoke`.

mod bmuller;
mod p2p;
mod procs;
mod scale;
mod stats;

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use stats::{Summary, mean, ms, percentile};

/// How long one command may take to be answered.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a network may take to start (every process listening).
pub const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long routing tables may take to hold steady.
const SETTLE_LIMIT: Duration = Duration::from_secs(120);
/// How long the tables must stay unchanged to count as settled.
const STEADY: Duration = Duration::from_millis(1500);
/// Pause between two polls of the routing tables.
const POLL: Duration = Duration::from_millis(100);

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

/// A DHT under test: node processes driven over their stdin.
pub trait Network {
    /// The system's name.
    fn name(&self) -> &'static str;
    /// Number of nodes.
    fn size(&self) -> usize;
    /// Routing table size of every node.
    fn routing_sizes(&mut self) -> Result<Vec<usize>, String>;
    /// Stores `value` under `key` from `node`.
    fn put(&mut self, node: usize, key: &str, value: &str) -> PutOutcome;
    /// Whether `node` holds `key` in its own store (put from `putter`).
    fn holds(&mut self, node: usize, key: &str, putter: usize) -> bool;
    /// Looks `key` up from `node`.
    fn get(&mut self, node: usize, key: &str) -> GetOutcome;
    /// Resident memory of every node process.
    fn memory(&self) -> Vec<procs::Memory>;
}

/// The benchmark's options.
#[derive(Debug, Clone)]
pub struct Opts {
    nodes: usize,
    records: usize,
    gets: usize,
    seed: u64,
    bmuller: bool,
    scale: Option<usize>,
    verbose: bool,
    smoke: bool,
    binary: Option<std::path::PathBuf>,
    /// Idle connection timeout of the scale mode's nodes.
    idle: Duration,
}

/// A small deterministic generator (SplitMix64), so both systems see the
/// same choices of nodes for the same seed.
pub struct Rng(u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// Shuffles `v` in place.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

const USAGE: &str = "\
usage: cargo bench --bench dht -- [--nodes N] [--records R] [--gets G] [--seed S]
                                 [--no-bmuller] [--scale N] [--binary PATH] [--verbose]
  --nodes N     nodes per network (processes on 127.0.0.1), default 60
  --records R   records put, default 100
  --gets G      gets per record, each from a different node without a local copy, default 3
  --seed S      seed for the choice of nodes (same for both systems), default: time
  --no-bmuller  skip the bmuller kademlia comparison
  --scale N     instead: N in-process p2pnode nodes over the memory transport
  --binary PATH run this p2pnode binary instead of the one cargo built (before/after runs)
  --idle-timeout S  scale mode: close connections idle for S seconds (default 600, as p2pnode)
  --verbose     show the nodes' stderr";

fn parse_args() -> Result<Option<Opts>, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // nextest lists the tests of every target it builds, benches included.
    if args.iter().any(|a| a == "--list") {
        if !args.iter().any(|a| a == "--ignored") {
            println!("smoke: test");
        }
        return Ok(None);
    }
    let bench = args.iter().any(|a| a == "--bench");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    let mut o = if bench {
        Opts {
            nodes: 60,
            records: 100,
            gets: 3,
            seed,
            bmuller: true,
            scale: None,
            verbose: false,
            smoke: false,
            binary: None,
            idle: Duration::from_secs(600),
        }
    } else {
        Opts {
            nodes: 5,
            records: 4,
            gets: 2,
            seed,
            bmuller: true,
            scale: None,
            verbose: false,
            smoke: true,
            binary: None,
            idle: Duration::from_secs(600),
        }
    };
    let mut it = args.iter();
    let number = |v: Option<&String>, name: &str| -> Result<u64, String> {
        v.and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("{name} needs a number\n{USAGE}"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--nodes" => o.nodes = number(it.next(), a)? as usize,
            "--records" => o.records = number(it.next(), a)? as usize,
            "--gets" => o.gets = number(it.next(), a)? as usize,
            "--seed" => o.seed = number(it.next(), a)?,
            "--scale" => o.scale = Some(number(it.next(), a)? as usize),
            "--idle-timeout" => o.idle = Duration::from_secs(number(it.next(), a)?),
            "--no-bmuller" => o.bmuller = false,
            "--binary" => {
                o.binary = Some(
                    it.next()
                        .ok_or(format!("--binary needs a path\n{USAGE}"))?
                        .into(),
                )
            }
            "--verbose" => o.verbose = true,
            "--help" | "-h" => return Err(USAGE.into()),
            // Passed by cargo bench / the test harness protocol.
            "--bench" | "--nocapture" | "--exact" | "--quiet" | "-q" | "smoke"
            | "--test-threads" => {}
            other if other.starts_with("--") => {
                return Err(format!("unknown option {other}\n{USAGE}"));
            }
            _ => {}
        }
    }
    if o.nodes < 2 || o.records == 0 {
        return Err(format!("need at least 2 nodes and 1 record\n{USAGE}"));
    }
    Ok(Some(o))
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(Some(o)) => o,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(n) = opts.scale {
        return match scale::run(n, &opts) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("scale mode failed: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match run_processes(&opts) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The 1-minute load average, to tell a loaded machine in the figures.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn run_processes(o: &Opts) -> Result<bool, String> {
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
    let binary = o
        .binary
        .as_deref()
        .unwrap_or(Path::new(env!("CARGO_BIN_EXE_p2pnode")));
    let (mut net, start, joiners) = p2p::P2pNet::start(binary, o.nodes, o.verbose)?;
    let p2p = measure(&mut net, o, start, joiners);
    net.stop();
    let p2p = p2p?;

    let bm = if o.bmuller {
        match bmuller::Peers::find() {
            Some(peers) => {
                let (mut net, start, joiners) = bmuller::BmNet::start(&peers, o.nodes, o.verbose)?;
                let s = measure(&mut net, o, start, joiners);
                net.stop();
                Some(s?)
            }
            None => {
                println!(
                    "bmuller kademlia not installed: run `bash ../shared/peers/setup.sh` (venv at $PEERS_VENV, \
                     default ~/.cache/p2pnode-peers) for the comparison"
                );
                None
            }
        }
    } else {
        None
    };
    report(o, &load, &p2p, bm.as_ref());
    if o.smoke {
        // Under the test runner: the harness must work end to end.
        let all_ok =
            p2p.success_pct() == 100.0 && bm.as_ref().is_none_or(|b| b.success_pct() == 100.0);
        if !all_ok {
            eprintln!("smoke run: not every operation succeeded");
        }
        return Ok(all_ok);
    }
    Ok(true)
}

/// Waits for the tables to settle, then runs the workload.
fn measure(
    net: &mut dyn Network,
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
            net.name()
        );
    }
    workload(net, o, &mut s);
    let memory = net.memory();
    s.rss_kib = memory.iter().map(|m| m.rss as f64).collect();
    s.anon_kib = memory.iter().map(|m| m.anon as f64).collect();
    s.pss_kib = memory.iter().map(|m| m.pss as f64).collect();
    Ok(s)
}

/// Polls the routing tables until they have held steady for [`STEADY`];
/// answers whether they did, when they last changed (since `since`), and
/// their mean size.
fn settle(net: &mut dyn Network, since: Instant) -> Result<(bool, Duration, f64), String> {
    let mut last: Vec<usize> = Vec::new();
    let mut last_change = Instant::now();
    loop {
        let sizes = net.routing_sizes()?;
        let now = Instant::now();
        let avg = mean(&sizes.iter().map(|&s| s as f64).collect::<Vec<_>>()).unwrap_or(0.0);
        if sizes != last {
            last = sizes;
            last_change = now;
        } else if now - last_change >= STEADY && last.iter().all(|&s| s > 0) {
            return Ok((true, last_change - since, avg));
        }
        if now - since > SETTLE_LIMIT {
            return Ok((false, last_change - since, avg));
        }
        std::thread::sleep(POLL);
    }
}

fn workload(net: &mut dyn Network, o: &Opts, s: &mut Summary) {
    let n = net.size();
    let mut rng = Rng(o.seed);
    let mut records = Vec::with_capacity(o.records);
    let mut shown = 0;
    let name = net.name();
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

fn fmt(v: Option<f64>) -> String {
    match v {
        Some(x) if x.abs() >= 100.0 => format!("{x:.0}"),
        Some(x) if x.abs() >= 10.0 => format!("{x:.1}"),
        Some(x) => format!("{x:.2}"),
        None => "-".into(),
    }
}

fn report(o: &Opts, load: &str, p: &Summary, b: Option<&Summary>) {
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

/// The issue's targets, checked on this run's figures.
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
