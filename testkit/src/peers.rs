//! The third-party reference peers of `../shared/peers/` (py-libp2p,
//! bmuller kademlia), run as processes on 127.0.0.1 on the kit's process
//! driver and spoken to over their stdin/stdout line protocol (see that
//! directory's README: `LISTEN <addr>` first, then one answer line per
//! command).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::process::{LineProc, free_tcp_port, free_udp_port};
use crate::wait::Ask;

/// How long one command to a reference peer may take (theirs time out at 30 s).
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(40);
/// How long a peer may take to start (Python imports, key generation).
pub const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a py-libp2p peer lives at most (it exits by itself after this).
pub const PY_LIFETIME_SECS: u32 = 150;
/// How often a start on a port someone took meanwhile is tried again.
const START_TRIES: usize = 3;
/// The pace of repeated commands.
const COMMAND_PACE: Duration = Duration::from_millis(200);

/// The peers' directory: `$P2PNODE_PEERS_DIR`, else `../shared/peers`
/// beside the repository.
pub fn dir() -> PathBuf {
    match std::env::var_os("P2PNODE_PEERS_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers"),
    }
}

/// The peers' venv: `$PEERS_VENV`, else `~/.cache/p2pnode-peers`.
pub fn venv() -> PathBuf {
    match std::env::var_os("PEERS_VENV") {
        Some(v) => PathBuf::from(v),
        None => {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/p2pnode-peers")
        }
    }
}

/// The venv's python when the peers are installed; why not otherwise.
pub fn installed() -> Result<PathBuf, String> {
    let python = venv().join("bin/python");
    let script = dir().join("py_kad_peer.py");
    if !script.exists() {
        return Err(format!(
            "{} is missing (set P2PNODE_PEERS_DIR)",
            script.display()
        ));
    }
    let imports = Command::new(&python)
        .args(["-c", "import libp2p.kad_dht, kademlia.network"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if imports {
        Ok(python)
    } else {
        Err(format!(
            "the reference peers are not installed in {} (run `bash {}`)",
            venv().display(),
            dir().join("setup.sh").display()
        ))
    }
}

/// The venv's python, running `setup.sh` first when the peers are missing.
/// Panics with what to do when they cannot be installed.
pub fn python() -> PathBuf {
    static SETUP: Mutex<()> = Mutex::new(());
    let _one_at_a_time = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    if let Ok(python) = installed() {
        return python;
    }
    let setup = dir().join("setup.sh");
    eprintln!(
        "reference peers not installed in {}; running {}",
        venv().display(),
        setup.display()
    );
    // Test processes run in parallel: flock(1) keeps two installs apart.
    let lock = std::env::temp_dir().join("p2pnode-peers-setup.lock");
    let _ = Command::new("flock")
        .arg(&lock)
        .arg("bash")
        .arg(&setup)
        .status()
        .or_else(|_| Command::new("bash").arg(&setup).status());
    installed().unwrap_or_else(|why| {
        panic!(
            "{why}; {} failed: run `bash {}` (installs py-libp2p 0.8.1 and kademlia 2.2.3 into \
             $PEERS_VENV, default ~/.cache/p2pnode-peers)",
            setup.display(),
            setup.display()
        )
    })
}

/// Spawns `script` (a file of [`dir`]) with `args`, without waiting for
/// it. Its stderr goes to the test's stderr when `verbose`, else nowhere.
pub fn spawn(
    python: &Path,
    script: &str,
    args: Vec<String>,
    verbose: bool,
) -> Result<LineProc, String> {
    let mut cmd = Command::new(python);
    cmd.arg(dir().join(script)).args(args).stderr(if verbose {
        Stdio::inherit()
    } else {
        Stdio::null()
    });
    LineProc::spawn(script, cmd).map_err(|e| format!("start {script}: {e}"))
}

/// Reads `proc`'s first `n` lines starting with `LISTEN` before `deadline`;
/// the last other line it printed when they do not come.
pub fn listening(proc: &mut LineProc, n: usize, deadline: Instant) -> Result<Vec<String>, String> {
    let mut last = String::new();
    let mut lines = Vec::new();
    while lines.len() < n {
        match proc.line_before(deadline) {
            Some(line) if line.starts_with("LISTEN") => lines.push(line),
            Some(line) => last = line,
            None => {
                return Err(format!(
                    "{} did not start (last line: {last:?})",
                    proc.name()
                ));
            }
        }
    }
    Ok(lines)
}

/// Starts `script` with the arguments `args` makes and waits for its
/// `listen_lines` `LISTEN` lines, trying again with fresh arguments (other
/// ports) when a start fails, most likely on a port taken meanwhile.
pub fn start(
    python: &Path,
    script: &str,
    args: impl Fn() -> Vec<String>,
    listen_lines: usize,
    verbose: bool,
) -> Result<(LineProc, Vec<String>), String> {
    let mut last = String::new();
    for _ in 0..START_TRIES {
        let mut proc = spawn(python, script, args(), verbose)?;
        match listening(&mut proc, listen_lines, Instant::now() + START_TIMEOUT) {
            Ok(lines) => return Ok((proc, lines)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// One py-libp2p peer (`py_kad_peer.py`).
pub struct PyPeer {
    proc: LineProc,
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
        let args = || {
            let mut a = vec![
                "--port".to_string(),
                free_tcp_port().to_string(),
                "--lifetime".to_string(),
                PY_LIFETIME_SECS.to_string(),
            ];
            if quic {
                a.extend(["--quic-port".to_string(), free_udp_port().to_string()]);
            }
            for b in bootstrap {
                a.extend(["--bootstrap".to_string(), b.to_string()]);
            }
            a
        };
        let lines = if quic { 2 } else { 1 };
        let (proc, listening) = start(&python(), "py_kad_peer.py", args, lines, false)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut peer = PyPeer {
            proc,
            addr: String::new(),
            quic: None,
            id: String::new(),
        };
        for line in listening {
            match line.split_once(' ') {
                Some(("LISTEN_QUIC", a)) => peer.quic = Some(a.to_string()),
                Some((_, a)) => peer.addr = a.to_string(),
                None => {}
            }
        }
        peer.id = peer.addr.rsplit('/').next().unwrap_or_default().to_string();
        peer
    }
}

impl Ask for PyPeer {
    type Answer = String;
    const PACE: Duration = COMMAND_PACE;

    /// Sends one command and returns its one-line answer.
    fn cmd(&mut self, line: &str) -> String {
        self.proc
            .ask(line, ANSWER_TIMEOUT)
            .unwrap_or_else(|e| panic!("py peer: {e}"))
    }

    fn who(&self) -> String {
        format!("py peer {}", self.id)
    }
}

impl Drop for PyPeer {
    fn drop(&mut self) {
        self.proc.stop(Some("quit"), Duration::from_secs(2));
    }
}
