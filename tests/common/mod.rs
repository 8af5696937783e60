//! Shared test support: p2pnode nodes run from the built binary as real
//! processes on 127.0.0.1 with ephemeral ports, driven through their stdin
//! and `--json` stdout. Every wait is bounded; nothing sleeps for readiness.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long one command may take to be answered.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// The p2pnode binary cargo built for these tests.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_p2pnode")
}

/// One p2pnode process.
pub struct NodeProc {
    pub child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    /// Listen addresses from the `listening` events, with `/p2p/<id>`.
    pub addrs: Vec<String>,
    pub peer_id: String,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
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
}

impl Opts {
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }
    pub fn env(mut self, k: &str, v: impl Into<String>) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
    pub fn bootstrap(self, addr: impl Into<String>) -> Self {
        self.arg("--bootstrap").arg(addr)
    }
    pub fn listen(mut self, a: impl Into<String>) -> Self {
        self.listen.push(a.into());
        self
    }
    pub fn data_dir(mut self, d: &Path) -> Self {
        self.data_dir = Some(d.to_path_buf());
        self
    }
}

impl NodeProc {
    /// Starts a node and waits for its `listening` events.
    pub fn start(opts: Opts) -> NodeProc {
        let (tmp, data_dir) = match &opts.data_dir {
            Some(d) => (None, d.clone()),
            None => {
                let t = tempfile::tempdir().expect("tempdir");
                let p = t.path().join("node");
                (Some(t), p)
            }
        };
        let mut cmd = Command::new(binary());
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
        cmd.env_remove("P2P_REMOTE_HOST");
        cmd.env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        );
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn p2pnode");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut node = NodeProc {
            child,
            stdin,
            lines: rx,
            addrs: Vec::new(),
            peer_id: String::new(),
            data_dir,
            _tmp: tmp,
        };
        // One listening event per listener at least; all arrive before any reply.
        let deadline = Instant::now() + Duration::from_secs(20);
        while node.addrs.len() < listen.len() {
            let v = node
                .next_json(deadline)
                .unwrap_or_else(|| panic!("node did not report listening addresses"));
            if v["event"] == "listening" {
                node.addrs
                    .push(v["addr"].as_str().expect("addr").to_string());
            }
        }
        node.peer_id = node.addrs[0]
            .rsplit('/')
            .next()
            .expect("peer id")
            .to_string();
        node
    }

    /// The next JSON line before `deadline`; None on timeout or exit.
    pub fn next_json(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.checked_duration_since(Instant::now())?;
        let line = self.lines.recv_timeout(left).ok()?;
        match serde_json::from_str::<Value>(&line) {
            Ok(v) => Some(v),
            Err(_) => panic!("stdout line is not JSON: {line}"),
        }
    }

    /// Sends a line without waiting for the answer.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write to node stdin");
        stdin.flush().expect("flush");
    }

    /// Sends one command line and returns its JSON answer.
    pub fn cmd(&mut self, line: &str) -> Value {
        self.send(line);
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            let v = self
                .next_json(deadline)
                .unwrap_or_else(|| panic!("no answer to '{line}' within {REPLY_TIMEOUT:?}"));
            if v.get("cmd").is_some() {
                return v;
            }
        }
    }

    /// Repeats `line` until `pred` holds on its answer, within `timeout`.
    pub fn wait_for(
        &mut self,
        line: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.cmd(line);
            if pred(&v) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "condition on '{line}' not met within {timeout:?}; last answer: {v}"
            );
            // Pace the polling; the bound above, not this pause, is the wait.
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the node has at least `n` peers in its routing table.
    pub fn wait_routing(&mut self, n: u64, timeout: Duration) -> Value {
        self.wait_for("routing", timeout, |v| v["size"].as_u64().unwrap_or(0) >= n)
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
        let a = self.tcp_addr();
        let parts: Vec<&str> = a.split('/').collect();
        let i = parts.iter().position(|p| *p == "tcp").expect("tcp");
        parts[i + 1].parse().expect("port")
    }

    /// Closes stdin (EOF) and waits for the process to exit.
    pub fn close_stdin_and_wait(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        self.stdin.take();
        self.wait_exit(timeout)
    }

    /// Waits for exit within `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal (e.g. "TERM", "KILL") to the process.
    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status();
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `n` nodes: the first creates the network, the others join it
/// through the first one's TCP address.
pub fn network(n: usize) -> Vec<NodeProc> {
    let first = NodeProc::start(Opts::default());
    let seed = first.tcp_addr().to_string();
    let mut nodes = vec![first];
    for _ in 1..n {
        nodes.push(NodeProc::start(Opts::default().bootstrap(seed.clone())));
    }
    nodes
}
