//! The benchmark's command line (`cargo bench --bench dht -- ...`).

use std::time::Duration;

use p2pnode_testkit::rng::clock_seed;

/// The benchmark's options.
#[derive(Debug, Clone)]
pub struct Opts {
    /// Nodes per network.
    pub nodes: usize,
    /// Records put.
    pub records: usize,
    /// Gets per record.
    pub gets: usize,
    /// Seed of the choices of nodes.
    pub seed: u64,
    /// Whether to run the bmuller comparison.
    pub bmuller: bool,
    /// Scale mode with this many in-process nodes.
    pub scale: Option<usize>,
    /// Flood mode: this many records pushed into one node.
    pub flood: Option<usize>,
    /// Show the nodes' stderr.
    pub verbose: bool,
    /// Another p2pnode binary than the one cargo built.
    pub binary: Option<std::path::PathBuf>,
    /// Idle connection timeout of the scale mode's nodes.
    pub idle: Duration,
    /// Trace mode: lookups traced in networks of these sizes.
    pub trace: bool,
    /// Trace mode's network sizes.
    pub trace_nodes: Vec<usize>,
    /// Trace mode's k (`--replication-factor`).
    pub k: usize,
}

impl Opts {
    /// The benchmark's defaults.
    pub fn bench() -> Opts {
        Opts {
            nodes: 60,
            records: 100,
            gets: 3,
            seed: clock_seed(),
            bmuller: true,
            scale: None,
            flood: None,
            verbose: false,
            binary: None,
            idle: Duration::from_secs(600),
            trace: false,
            trace_nodes: vec![16, 32, 64],
            k: 3,
        }
    }

    /// The smoke run under the test runner: small and quick.
    pub fn smoke() -> Opts {
        Opts {
            nodes: 5,
            records: 4,
            gets: 2,
            ..Opts::bench()
        }
    }
}

pub const USAGE: &str = "\
usage: cargo bench --bench dht -- [--nodes N] [--records R] [--gets G] [--seed S]
                                 [--no-bmuller] [--scale N] [--trace [--trace-nodes N,N] [--k K]]
                                 [--binary PATH] [--verbose]
  --nodes N     nodes per network (processes on 127.0.0.1), default 60
  --records R   records put, default 100
  --gets G      gets per record, each from a different node without a local copy, default 3
  --seed S      seed for the choice of nodes (same for both systems), default: time
  --no-bmuller  skip the bmuller kademlia comparison
  --scale N     instead: N in-process p2pnode nodes over the memory transport
  --flood R     instead: R records pushed into one node by four peers (durable acknowledgements)
  --binary PATH run this p2pnode binary instead of the one cargo built (before/after runs)
  --idle-timeout S  scale mode: close connections idle for S seconds (default 600, as p2pnode)
  --trace       instead: networks of --trace-nodes processes with k = --k; R records put,
                each traced from G random nodes, and R x G traces of keys nobody holds
  --trace-nodes N,N,..  trace mode's network sizes, default 16,32,64
  --k K         trace mode's k (--replication-factor), default 3
  --verbose     show the nodes' stderr";

/// Parses the options after `--bench`.
pub fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts::bench();
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
            "--flood" => o.flood = Some(number(it.next(), a)? as usize),
            "--idle-timeout" => o.idle = Duration::from_secs(number(it.next(), a)?),
            "--no-bmuller" => o.bmuller = false,
            "--trace" => o.trace = true,
            "--k" => o.k = number(it.next(), a)? as usize,
            "--trace-nodes" => {
                let list = it
                    .next()
                    .ok_or(format!("--trace-nodes needs N,N,..\n{USAGE}"))?;
                o.trace_nodes = list
                    .split(',')
                    .map(|n| {
                        n.trim()
                            .parse()
                            .map_err(|_| format!("--trace-nodes: {n}\n{USAGE}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--binary" => {
                o.binary = Some(
                    it.next()
                        .ok_or(format!("--binary needs a path\n{USAGE}"))?
                        .into(),
                )
            }
            "--verbose" => o.verbose = true,
            "--help" | "-h" => return Err(USAGE.into()),
            // Passed by cargo bench.
            "--bench" => {}
            other if other.starts_with("--") => {
                return Err(format!("unknown option {other}\n{USAGE}"));
            }
            _ => {}
        }
    }
    if o.nodes < 2 || o.records == 0 {
        return Err(format!("need at least 2 nodes and 1 record\n{USAGE}"));
    }
    Ok(o)
}
