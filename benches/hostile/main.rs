//! The hostile-peer benchmark: what a flood does to one node, measured on
//! whichever p2pnode binary it is given, so a build before and after a
//! change can be compared with the same command.
//!
//! ```text
//! cargo bench --bench hostile -- --binary PATH [--puts N] [--rogues N] [--connections N]
//! ```
//!
//! - Put flood: a node with the default limits, and `--rogues` rogue peers
//!   (fresh identities, speaking the kad-dht protocol from this process)
//!   that push `--puts` values of 64 KiB in all, 16 in flight each. Figures:
//!   the node's RSS before and after, its database file, records held,
//!   what was stored or refused, and whether its own `put` still works.
//! - Connection flood: a node limited to 1024 file descriptors (the usual
//!   default), and `--connections` plain TCP connections from 127.0.0.2
//!   held open for 20 s (opened again as the node closes them, one every
//!   200 µs at most). Meanwhile a legitimate node on 127.0.0.1 dials it and
//!   stores a record. Figures: the node's descriptors and RSS at their
//!   highest, and how long the legitimate peer took, or why it failed.
//!
//! Every loop is bounded (a count, a duration); everything stays on
//! loopback. Under the test runner (no `--bench`) it is one small smoke run
//! that checks the harness works.

mod conns;
mod puts;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use p2pnode_testkit::harness::{self, test};

/// What to run.
#[derive(Debug, Clone)]
pub struct Opts {
    /// The p2pnode binary to measure.
    pub binary: PathBuf,
    /// Values of 64 KiB pushed in the put flood, in all (0: no put flood).
    pub puts: usize,
    /// Rogue peers sharing the put flood.
    pub rogues: usize,
    /// Connections the connection flood holds open (0: no connection flood).
    pub connections: usize,
}

impl Opts {
    fn parse(args: &[String]) -> Result<Opts, String> {
        let mut o = Opts {
            binary: PathBuf::from(env!("CARGO_BIN_EXE_p2pnode")),
            puts: 17_000,
            rogues: 1,
            connections: 5_000,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || it.next().ok_or(format!("{a} needs a value"));
            match a.as_str() {
                "--bench" => {}
                "--binary" => o.binary = PathBuf::from(value()?),
                "--puts" => o.puts = number(a, value()?)?,
                "--rogues" => o.rogues = number(a, value()?)?.max(1),
                "--connections" => o.connections = number(a, value()?)?,
                other => {
                    return Err(format!(
                        "unknown argument {other}; see benches/hostile/main.rs"
                    ));
                }
            }
        }
        Ok(o)
    }
}

fn number(flag: &str, v: &str) -> Result<usize, String> {
    v.parse().map_err(|_| format!("{flag} {v}: not a number"))
}

/// Megabytes from KiB, for the figures.
pub fn mb(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 * 1024.0 / 1e6)
}

/// The size of a file in MB, or `?`.
pub fn file_mb(path: &Path) -> String {
    std::fs::metadata(path).map_or("?".into(), |m| format!("{:.1} MB", m.len() as f64 / 1e6))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        return harness::main(vec![test("smoke", || {
            let o = Opts {
                binary: PathBuf::from(env!("CARGO_BIN_EXE_p2pnode")),
                puts: 50,
                rogues: 2,
                connections: 300,
            };
            puts::run(&o).unwrap_or_else(|e| panic!("put flood: {e}"));
            conns::run(&o).unwrap_or_else(|e| panic!("connection flood: {e}"));
        })]);
    }
    let o = match Opts::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    println!("binary: {}", o.binary.display());
    let mut result = Ok(());
    if o.puts > 0 {
        result = result.and_then(|()| puts::run(&o));
    }
    if o.connections > 0 {
        result = result.and_then(|()| conns::run(&o));
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            ExitCode::FAILURE
        }
    }
}
