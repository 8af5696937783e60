//! The p2pnode binary as a process: started on 127.0.0.1 with an ephemeral
//! port, driven through stdin and its `--json` stdout. Every wait is bounded.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Signal;
use crate::process::{Finished, LineProc, run_bounded};
use crate::wait::Ask;

/// How long one command may take to be answered.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a node may take to report its listen addresses.
pub const LISTEN_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a start-up that must fail may take to exit.
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a graceful shutdown may take (the node's own bound is 10 s).
pub const SHUTDOWN_BOUND: Duration = Duration::from_secs(12);
/// How long the store may take to write what it holds (committed every tick).
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);
/// The pace of repeated commands (each is a round trip already).
const COMMAND_PACE: Duration = Duration::from_millis(100);

/// The p2pnode binary cargo built: tests and benches hand in
/// `env!("CARGO_BIN_EXE_p2pnode")`, which only they can see.
#[derive(Debug, Clone)]
pub struct Binary(Cow<'static, str>);

impl Binary {
    /// The binary at `path` (a constant: `env!` gives one).
    pub const fn new(path: &'static str) -> Binary {
        Binary(Cow::Borrowed(path))
    }

    /// The binary at `path` (another build, say).
    pub fn at(path: &Path) -> Binary {
        Binary(Cow::Owned(path.to_string_lossy().into_owned()))
    }

    /// Its path; `P2PNODE_TEST_BINARY` overrides it, to run a test against
    /// another build (say, the previous release, to see a test fail there).
    pub fn path(&self) -> PathBuf {
        match std::env::var_os("P2PNODE_TEST_BINARY") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => PathBuf::from(self.0.as_ref()),
        }
    }

    /// A command for it with the test environment: no `P2P_REMOTE_HOST`
    /// from the caller's shell, `RUST_LOG` passed on (default `info`).
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(self.path());
        cmd.env_remove("P2P_REMOTE_HOST").env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        );
        cmd
    }

    /// Runs it with `args` to completion (stdin null), within [`EXIT_TIMEOUT`].
    pub fn run(&self, args: &[&str]) -> Finished {
        let mut cmd = self.command();
        cmd.args(args).env("RUST_LOG", "warn");
        run_bounded(cmd, EXIT_TIMEOUT)
    }

    /// Runs a node on `data_dir` with `args` that must stop at start-up;
    /// its exit code and stderr.
    pub fn run_to_exit(&self, args: &[&str], data_dir: &Path) -> (Option<i32>, String) {
        let dir = data_dir.display().to_string();
        let mut all = vec!["--data-dir", &dir];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert!(out.status.is_some(), "p2pnode {args:?} did not exit: {out}");
        (out.code(), out.stderr)
    }

    /// Starts a node and waits for its `listening` events.
    pub fn start(&self, opts: Opts) -> NodeProc {
        let mut node = self
            .spawn(opts)
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.0));
        node.await_listening(Instant::now() + LISTEN_TIMEOUT)
            .unwrap_or_else(|e| panic!("{e}"));
        node
    }

    /// Starts a node without waiting for it (see [`NodeProc::await_listening`]),
    /// so many can start at once.
    pub fn spawn(&self, opts: Opts) -> std::io::Result<NodeProc> {
        let (tmp, data_dir) = match &opts.data_dir {
            Some(d) => (None, d.clone()),
            None => {
                let t = tempfile::tempdir()?;
                let p = t.path().join("node");
                (Some(t), p)
            }
        };
        let mut cmd = crate::kubo::wrapped(self.command(), &opts.wrap);
        cmd.arg("--json").arg("--data-dir").arg(&data_dir);
        let listen = if opts.listen.is_empty() {
            vec!["/ip4/127.0.0.1/tcp/0".to_string()]
        } else {
            opts.listen.clone()
        };
        for l in &listen {
            cmd.arg("--listen").arg(l);
        }
        cmd.args(&opts.args);
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        cmd.stderr(match (&opts.log_file, opts.quiet) {
            (Some(path), _) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            ),
            (None, true) => Stdio::null(),
            (None, false) => Stdio::inherit(),
        });
        Ok(NodeProc {
            proc: LineProc::spawn(format!("p2pnode {}", data_dir.display()), cmd)?,
            listeners: listen.len(),
            addrs: Vec::new(),
            peer_id: String::new(),
            data_dir,
            _tmp: tmp,
        })
    }

    /// Starts `n` nodes: the first creates the network, the others join it
    /// through the first one's TCP address.
    pub fn network(&self, n: usize) -> Vec<NodeProc> {
        let first = self.start(Opts::default());
        let seed = first.tcp_addr().to_string();
        let mut nodes = vec![first];
        for _ in 1..n {
            nodes.push(self.start(Opts::default().bootstrap(seed.clone())));
        }
        nodes
    }
}

/// How to start a node.
#[derive(Default, Clone)]
pub struct Opts {
    /// Extra arguments.
    pub args: Vec<String>,
    /// Environment variables to set (P2P_REMOTE_HOST is cleared otherwise).
    pub env: Vec<(String, String)>,
    /// Use this data directory instead of a fresh temporary one.
    pub data_dir: Option<PathBuf>,
    /// Listen addresses; default `/ip4/127.0.0.1/tcp/0`.
    pub listen: Vec<String>,
    /// Send the node's logs nowhere instead of the test's stderr.
    pub quiet: bool,
    /// Write the node's logs to this file (appended), for tests that read
    /// what a node logged.
    pub log_file: Option<PathBuf>,
    /// Run it through this command (see [`Opts::wrap`]).
    pub wrap: Vec<String>,
}

impl Opts {
    /// One more argument.
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }
    /// More arguments.
    pub fn args(self, args: &[&str]) -> Self {
        args.iter().fold(self, |o, a| o.arg(*a))
    }
    /// An environment variable.
    pub fn env(mut self, k: &str, v: impl Into<String>) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
    /// `--bootstrap ADDR`.
    pub fn bootstrap(self, addr: impl Into<String>) -> Self {
        self.arg("--bootstrap").arg(addr)
    }
    /// A listen address instead of the default.
    pub fn listen(mut self, a: impl Into<String>) -> Self {
        self.listen.push(a.into());
        self
    }
    /// This data directory.
    pub fn data_dir(mut self, d: &Path) -> Self {
        self.data_dir = Some(d.to_path_buf());
        self
    }
    /// Logs to nowhere.
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }
    /// Logs appended to `path` (read them with [`read_log`]).
    pub fn log_to(mut self, path: &Path) -> Self {
        self.log_file = Some(path.to_path_buf());
        self
    }
    /// The same as [`Opts::log_to`].
    pub fn log_file(self, path: &Path) -> Self {
        self.log_to(path)
    }
}

/// What a node started with [`Opts::log_to`] has logged so far.
pub fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// One p2pnode process.
pub struct NodeProc {
    proc: LineProc,
    listeners: usize,
    /// Listen addresses from the `listening` events, with `/p2p/<id>`.
    pub addrs: Vec<String>,
    /// Its peer ID.
    pub peer_id: String,
    /// Its data directory.
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl NodeProc {
    /// Reads `listening` events until every listener has reported (all
    /// arrive before any reply).
    pub fn await_listening(&mut self, deadline: Instant) -> Result<(), String> {
        while self.addrs.len() < self.listeners {
            let v = self
                .next_json(deadline)
                .ok_or_else(|| format!("{}: no listening addresses in time", self.proc.name()))?;
            if v["event"] == "listening" {
                let addr = v["addr"].as_str().ok_or(format!("no addr in {v}"))?;
                self.addrs.push(addr.to_string());
            }
        }
        let id = self.addrs[0].rsplit('/').next().unwrap_or_default();
        self.peer_id = id.to_string();
        Ok(())
    }

    /// The next JSON line before `deadline`; None on timeout or exit.
    pub fn next_json(&mut self, deadline: Instant) -> Option<Value> {
        let line = self.proc.line_before(deadline)?;
        match serde_json::from_str::<Value>(&line) {
            Ok(v) => Some(v),
            Err(_) => panic!("stdout line is not JSON: {line}"),
        }
    }

    /// Sends a line without waiting for the answer.
    pub fn send(&mut self, line: &str) {
        self.proc.send(line).unwrap_or_else(|e| panic!("{e}"));
    }

    /// The next JSON line on which `pred` holds, within `timeout` (lines
    /// before it are passed over).
    pub fn next_where(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Result<Value, String> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.next_json(deadline) {
                Some(v) if pred(&v) => return Ok(v),
                Some(_) => {}
                None => return Err(format!("{}: nothing within {timeout:?}", self.proc.name())),
            }
        }
    }

    /// The answer to a line sent earlier with `send` (so several nodes can
    /// work at once), within `timeout`.
    pub fn try_reply(&mut self, timeout: Duration) -> Result<Value, String> {
        self.next_where(timeout, |v| v.get("cmd").is_some())
    }

    /// The next event named `event` (`{"event": ...}` lines), within `timeout`.
    pub fn wait_event(&mut self, event: &str, timeout: Duration) -> Value {
        self.next_where(timeout, |v| v["event"] == event)
            .unwrap_or_else(|e| panic!("no {event} event: {e}"))
    }

    /// The answer to a line sent earlier with `send`.
    pub fn reply(&mut self) -> Value {
        self.try_reply(REPLY_TIMEOUT)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Sends one command line and returns its JSON answer, within `timeout`.
    pub fn try_cmd(&mut self, line: &str, timeout: Duration) -> Result<Value, String> {
        self.proc.send(line)?;
        self.try_reply(timeout)
            .map_err(|e| format!("{e} (to '{line}')"))
    }

    /// Waits until the node has at least `n` peers in its routing table.
    pub fn wait_routing(&mut self, n: u64, timeout: Duration) -> Value {
        self.wait_for("routing", timeout, |v| v["size"].as_u64().unwrap_or(0) >= n)
    }

    /// Waits until the node's store has written everything to disk, so a
    /// SIGKILL loses nothing it holds.
    pub fn wait_flushed(&mut self) {
        self.wait_for("stats", FLUSH_TIMEOUT, |v| v["unflushed"] == 0);
    }

    /// A numeric field of `stats`.
    pub fn stat(&mut self, field: &str) -> u64 {
        let s = self.cmd("stats");
        assert_eq!(s["ok"], true, "expected ok: {s}");
        s[field]
            .as_u64()
            .unwrap_or_else(|| panic!("no {field} in {s}"))
    }

    /// The `from` of a successful `get`, or None when it failed.
    pub fn get_from(&mut self, key: &str) -> Option<String> {
        let v = self.cmd(&format!("get {key}"));
        (v["ok"] == true).then(|| v["from"].as_str().unwrap_or("").to_string())
    }

    /// The first TCP listen address.
    pub fn tcp_addr(&self) -> &str {
        self.addrs
            .iter()
            .find(|a| a.contains("/tcp/"))
            .expect("a tcp address")
    }

    /// The TCP port.
    pub fn tcp_port(&self) -> u16 {
        let parts: Vec<&str> = self.tcp_addr().split('/').collect();
        let i = parts.iter().position(|p| *p == "tcp").expect("tcp");
        parts[i + 1].parse().expect("port")
    }

    /// Closes stdin (EOF) and waits for the process to exit.
    pub fn close_stdin_and_wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.proc.close_stdin();
        self.proc.wait_exit(timeout)
    }

    /// Waits for exit within `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.proc.wait_exit(timeout)
    }

    /// Sends `signal` to the process.
    pub fn signal(&self, signal: Signal) {
        self.proc.signal(signal);
    }

    /// SIGKILL, then waits for the exit (the data directory stays).
    pub fn kill(&mut self) {
        self.signal(Signal::SIGKILL);
        self.wait_exit(SHUTDOWN_BOUND).expect("killed");
    }

    /// Sends `quit`, then EOF; kills the process if it has not exited within `timeout`.
    pub fn stop(&mut self, timeout: Duration) {
        self.proc.stop(Some("quit"), timeout);
    }

    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.proc.id()
    }

    /// The process's resident memory.
    pub fn memory(&self) -> Option<crate::process::Memory> {
        self.proc.memory()
    }
}

impl Ask for NodeProc {
    type Answer = Value;
    const PACE: Duration = COMMAND_PACE;

    /// Sends one command line and returns its JSON answer.
    fn cmd(&mut self, line: &str) -> Value {
        self.try_cmd(line, REPLY_TIMEOUT)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn who(&self) -> String {
        self.proc.name().to_string()
    }
}
