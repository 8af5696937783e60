//! The third-party reference peers of `../shared/peers/` (py-libp2p,
//! bmuller kademlia), run as processes on 127.0.0.1 and driven over their
//! stdin/stdout line protocol (see that directory's README).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

/// How long a reference peer lives at most (it exits by itself after this).
pub const LIFETIME_SECS: u32 = 150;
/// How long one command to a reference peer may take (theirs time out at 30 s).
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(40);
/// How long a peer may take to start (Python imports, key generation).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// `../shared/peers`, relative to the repository.
pub fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peers")
}

fn venv() -> PathBuf {
    match std::env::var_os("PEERS_VENV") {
        Some(v) => PathBuf::from(v),
        None => {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/p2pnode-peers")
        }
    }
}

/// The venv's python, running `setup.sh` first when the venv is missing.
/// Panics with what to do when the peers cannot be installed.
pub fn python() -> PathBuf {
    static SETUP: Mutex<()> = Mutex::new(());
    let _one_at_a_time = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    let python = venv().join("bin/python");
    let ready = |p: &Path| {
        Command::new(p)
            .args(["-c", "import libp2p.kad_dht, kademlia.network"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready(&python) {
        return python;
    }
    let setup = peers_dir().join("setup.sh");
    eprintln!(
        "interop: reference peers not installed in {}; running {}",
        venv().display(),
        setup.display()
    );
    // Test processes run in parallel: flock(1) keeps two installs apart.
    let lock = std::env::temp_dir().join("p2pnode-peers-setup.lock");
    let status = Command::new("flock")
        .arg(&lock)
        .arg("bash")
        .arg(&setup)
        .status()
        .or_else(|_| Command::new("bash").arg(&setup).status());
    assert!(
        status.is_ok_and(|s| s.success()) && ready(&python),
        "the interop reference peers are missing and {} failed: run `bash ../shared/peers/setup.sh` \
         (installs py-libp2p 0.8.1 and kademlia 2.2.3 into $PEERS_VENV, default ~/.cache/p2pnode-peers)",
        setup.display()
    );
    python
}

/// A TCP port on 127.0.0.1 that was free a moment ago (the peers need a
/// number; a lost race shows up as a failed start and is retried).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port on 127.0.0.1")
}

/// One py-libp2p peer (`py_kad_peer.py`).
pub struct PyPeer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    /// `/ip4/127.0.0.1/tcp/P/p2p/ID`.
    pub addr: String,
    /// `/ip4/127.0.0.1/udp/Q/quic-v1/p2p/ID`, when started with QUIC.
    pub quic: Option<String>,
    /// Its peer id.
    pub id: String,
}

impl PyPeer {
    /// Starts a py-libp2p peer bootstrapping from `bootstrap` (full
    /// multiaddrs with `/p2p/`), with a QUIC listener too when `quic`.
    pub fn start(bootstrap: &[&str], quic: bool) -> PyPeer {
        let python = python();
        let mut last = String::new();
        for _ in 0..3 {
            let mut cmd = Command::new(&python);
            cmd.arg(peers_dir().join("py_kad_peer.py"))
                .args(["--port", &free_port().to_string()])
                .args(["--lifetime", &LIFETIME_SECS.to_string()]);
            if quic {
                cmd.args(["--quic-port", &free_udp_port().to_string()]);
            }
            for b in bootstrap {
                cmd.args(["--bootstrap", b]);
            }
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null());
            let mut child = cmd.spawn().expect("start py_kad_peer.py");
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
            let mut peer = PyPeer {
                child,
                stdin,
                lines: rx,
                addr: String::new(),
                quic: None,
                id: String::new(),
            };
            let deadline = Instant::now() + START_TIMEOUT;
            let wanted = if quic { 2 } else { 1 };
            let mut seen = 0;
            while seen < wanted {
                let Some(line) = peer.line_before(deadline) else {
                    break;
                };
                if let Some(a) = line.strip_prefix("LISTEN_QUIC ") {
                    peer.quic = Some(a.to_string());
                    seen += 1;
                } else if let Some(a) = line.strip_prefix("LISTEN ") {
                    peer.addr = a.to_string();
                    seen += 1;
                } else {
                    last = line;
                }
            }
            if seen == wanted {
                peer.id = peer.addr.rsplit('/').next().unwrap_or_default().to_string();
                return peer;
            }
            // Most likely a port taken meanwhile: try other ports.
        }
        panic!("py_kad_peer.py did not start (last line: {last:?})");
    }

    fn line_before(&mut self, deadline: Instant) -> Option<String> {
        let left = deadline.checked_duration_since(Instant::now())?;
        self.lines.recv_timeout(left).ok()
    }

    /// Sends one command and returns its one-line answer.
    pub fn cmd(&mut self, line: &str) -> String {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}")
            .and_then(|_| stdin.flush())
            .expect("write to py peer");
        self.line_before(Instant::now() + ANSWER_TIMEOUT)
            .unwrap_or_else(|| panic!("py peer: no answer to '{line}' within {ANSWER_TIMEOUT:?}"))
    }

    /// Repeats `line` until `pred` holds on the answer, within `timeout`.
    pub fn wait_for(
        &mut self,
        line: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let a = self.cmd(line);
            if pred(&a) {
                return a;
            }
            assert!(
                Instant::now() < deadline,
                "py peer: '{line}' never satisfied within {timeout:?}; last answer: {a}"
            );
            // Pace the polling; the bound above, not this pause, is the wait.
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for PyPeer {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = writeln!(stdin, "quit");
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
