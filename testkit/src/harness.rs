//! A test harness (libtest's command line, through `libtest-mimic`) for
//! tests that need something the machine may lack: a Docker engine, the
//! reference peers. A test runner cannot mark a running test skipped, so
//! the check happens when the runner lists the tests: where a prerequisite
//! is absent, its tests are listed as ignored, which `cargo nextest run`
//! reports as SKIP and `cargo test` as `ignored`, never as passed. With the
//! prerequisite's `P2PNODE_REQUIRE_*` variable set (CI sets it), they are
//! not ignored: they run and fail, naming what is missing.

use std::collections::HashMap;
use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};

/// Something the machine must provide for a test to mean anything.
#[derive(Debug, Clone, Copy)]
pub struct Prerequisite {
    /// What it is, for messages ("a Docker engine").
    pub what: &'static str,
    /// The variable that makes its absence a failure (e.g. `P2PNODE_REQUIRE_DOCKER`).
    pub required_by: &'static str,
    /// Whether it is there: `Err(why)` when not.
    pub check: fn() -> Result<(), String>,
}

impl Prerequisite {
    /// Whether its variable is set (non-empty, not `0`).
    pub fn required(&self) -> bool {
        std::env::var(self.required_by).is_ok_and(|v| !v.is_empty() && v != "0")
    }
}

/// One test: a name, what it needs, and its body (which fails by panicking).
pub struct Test {
    name: &'static str,
    needs: Vec<Prerequisite>,
    body: Box<dyn FnOnce() + Send>,
}

/// A test named `name` running `body`.
pub fn test(name: &'static str, body: impl FnOnce() + Send + 'static) -> Test {
    Test {
        name,
        needs: Vec::new(),
        body: Box::new(body),
    }
}

impl Test {
    /// It needs `p`.
    pub fn needs(mut self, p: Prerequisite) -> Test {
        self.needs.push(p);
        self
    }
}

/// Runs `tests` with libtest's command line (`--list`, `--ignored`,
/// `--exact`, filters, ...); the process's exit code.
pub fn main(tests: Vec<Test>) -> ExitCode {
    let args = Arguments::from_args();
    let mut checked: HashMap<&'static str, Result<(), String>> = HashMap::new();
    let mut trials = Vec::new();
    for t in tests {
        let mut missing = Vec::new();
        for p in &t.needs {
            let state = checked.entry(p.what).or_insert_with(|| (p.check)());
            if let Err(why) = state {
                missing.push((*p, why.clone()));
            }
        }
        let ignored = !missing.is_empty() && missing.iter().all(|(p, _)| !p.required());
        let body = t.body;
        let first = missing.first().cloned();
        let trial = Trial::test(t.name, move || match first {
            Some((p, why)) => Err(Failed::from(format!("it needs {}: {why}", p.what))),
            None => {
                body();
                Ok(())
            }
        })
        .with_ignored_flag(ignored);
        if ignored && !args.list && !args.is_filtered_out(&trial) {
            for (p, why) in &missing {
                eprintln!(
                    "SKIPPED `{}`: it needs {}: {why} (set {}=1 to make this a failure)",
                    t.name, p.what, p.required_by
                );
            }
        }
        trials.push(trial);
    }
    libtest_mimic::run(&args, trials).exit_code()
}

/// Whether this process holds CAP_NET_ADMIN (bit 12 of its effective set):
/// what creating network interfaces and namespaces takes.
pub fn net_admin() -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    let caps = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .ok_or("no CapEff in /proc/self/status")?;
    if caps & (1 << 12) != 0 {
        Ok(())
    } else {
        Err(format!(
            "effective capabilities {caps:#x} lack CAP_NET_ADMIN"
        ))
    }
}
