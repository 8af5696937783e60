//! Helpers shared by the durability, lifecycle, limits, churn and pnet
//! tests, on top of `common` (which runs the nodes).
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{NodeProc, Opts, binary};

/// How long a network may take to settle (routing tables filled).
pub const SETTLE: Duration = Duration::from_secs(60);

/// How long a graceful shutdown may take (the node's own bound is 10 s).
pub const SHUTDOWN_BOUND: Duration = Duration::from_secs(12);

/// Panics unless the reply says `"ok": true`.
pub fn assert_ok(v: &Value) {
    assert_eq!(v["ok"], true, "expected ok: {v}");
}

/// A numeric field of `stats`.
pub fn stat(node: &mut NodeProc, field: &str) -> u64 {
    let s = node.cmd("stats");
    assert_ok(&s);
    s[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no {field} in {s}"))
}

/// Waits until the node's store has written everything to disk, so a
/// SIGKILL loses nothing it holds.
pub fn wait_flushed(node: &mut NodeProc) {
    node.wait_for("stats", Duration::from_secs(10), |v| v["unflushed"] == 0);
}

/// The answer to a line sent earlier with `send` (so several nodes can
/// work at once).
pub fn reply(node: &mut NodeProc) -> Value {
    let deadline = Instant::now() + crate::common::REPLY_TIMEOUT;
    loop {
        let v = node.next_json(deadline).expect("an answer in time");
        if v.get("cmd").is_some() {
            return v;
        }
    }
}

/// Starts a node joining through `seed`'s TCP address with extra args.
pub fn join(seed: &NodeProc, args: &[&str]) -> NodeProc {
    let mut opts = Opts::default().bootstrap(seed.tcp_addr());
    for a in args {
        opts = opts.arg(*a);
    }
    NodeProc::start(opts)
}

/// Starts a node with extra args and no bootstrap peer.
pub fn alone(args: &[&str]) -> NodeProc {
    let mut opts = Opts::default();
    for a in args {
        opts = opts.arg(*a);
    }
    NodeProc::start(opts)
}

/// The `from` of a successful `get`, or None when it failed.
pub fn get_from(node: &mut NodeProc, key: &str) -> Option<String> {
    let v = node.cmd(&format!("get {key}"));
    (v["ok"] == true).then(|| v["from"].as_str().unwrap_or("").to_string())
}

/// Runs the binary with `args` to completion (bounded) and returns its exit
/// code and stderr: for start-up errors.
pub fn run_to_exit(args: &[&str], data_dir: &Path) -> (Option<i32>, String) {
    let mut child = Command::new(binary())
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("P2P_REMOTE_HOST")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn p2pnode");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .expect("stderr")
                .read_to_string(&mut err)
                .expect("read stderr");
            return (status.code(), err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("p2pnode {args:?} did not exit within 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Writes a swarm key file (`/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits).
pub fn write_swarm_key(path: &Path, byte: u8) {
    let hex: String = (0..32u8)
        .map(|i| format!("{:02x}", i.wrapping_mul(7) ^ byte))
        .collect();
    std::fs::write(path, format!("/key/swarm/psk/1.0.0/\n/base16/\n{hex}\n")).expect("write key");
}

/// A small deterministic PRNG (xorshift64*), so runs can be replayed from
/// the printed seed.
pub struct Rng(u64);

impl Rng {
    /// Seeded from `P2PNODE_TEST_SEED` or the clock; prints the seed.
    pub fn from_env(name: &str) -> Rng {
        let seed = std::env::var("P2PNODE_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        eprintln!("{name}: P2PNODE_TEST_SEED={seed}");
        Rng(seed.max(1))
    }

    /// The next number.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// `k` distinct indices below `n`.
    pub fn choose(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + self.below(n - i);
            all.swap(i, j);
        }
        all.truncate(k);
        all
    }
}
