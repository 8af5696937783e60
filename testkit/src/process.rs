//! Child processes. [`LineProc`] drives one process over a line protocol on
//! stdin/stdout: a pump thread forwards stdout lines over a bounded channel,
//! so every read has a deadline, a line has a size bound, and a process that
//! never answers fails the test instead of hanging it. [`run_bounded`] runs
//! a command to completion within a bound.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::wait::Wait;

/// Stdout lines buffered ahead of the reader (the pump waits beyond that).
pub const PUMP_CAPACITY: usize = 4096;
/// The longest stdout line read as one line; a longer one arrives in pieces.
pub const MAX_LINE_BYTES: u64 = 8 << 20;
/// How often an exit is polled.
const EXIT_PACE: Duration = Duration::from_millis(20);

/// One child process driven line by line. Killed when dropped.
pub struct LineProc {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl LineProc {
    /// Spawns `cmd` with stdin and stdout piped (stderr as the caller set
    /// it); `name` says who it is in failure messages.
    pub fn spawn(name: impl Into<String>, mut cmd: Command) -> std::io::Result<LineProc> {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut child = cmd.spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout pipe"))?;
        let (tx, rx) = mpsc::sync_channel(PUMP_CAPACITY);
        std::thread::spawn(move || pump(stdout, tx));
        let stdin = child.stdin.take();
        Ok(LineProc {
            name: name.into(),
            child,
            stdin,
            lines: rx,
        })
    }

    /// Who this is, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The next stdout line before `deadline`; `None` on timeout or exit.
    pub fn line_before(&mut self, deadline: Instant) -> Option<String> {
        let left = deadline.checked_duration_since(Instant::now())?;
        self.lines.recv_timeout(left).ok()
    }

    /// Writes one line to stdin.
    pub fn send(&mut self, line: &str) -> Result<(), String> {
        let name = &self.name;
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| format!("{name}: stdin closed"))?;
        writeln!(stdin, "{line}")
            .and_then(|_| stdin.flush())
            .map_err(|e| format!("{name}: write '{line}': {e}"))
    }

    /// Sends `line` and returns the next stdout line, within `timeout`
    /// (for peers that answer every command with exactly one line).
    pub fn ask(&mut self, line: &str, timeout: Duration) -> Result<String, String> {
        self.send(line)?;
        self.line_before(Instant::now() + timeout)
            .ok_or_else(|| format!("{}: no answer to '{line}' within {timeout:?}", self.name))
    }

    /// Closes stdin: the process reads EOF.
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let child = &mut self.child;
        Wait::new(timeout)
            .pace(EXIT_PACE)
            .until(|| child.try_wait().ok().flatten())
    }

    /// Sends `signal` to the process.
    pub fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.id()).expect("a pid fits in i32"));
        kill(pid, signal).unwrap_or_else(|e| panic!("{}: kill -{signal}: {e}", self.name));
    }

    /// Sends `quit` (when given), closes stdin, waits up to `timeout` for
    /// the exit, then kills the process.
    pub fn stop(&mut self, quit: Option<&str>, timeout: Duration) {
        if let Some(line) = quit {
            let _ = self.send(line);
        }
        self.close_stdin();
        if self.wait_exit(timeout).is_none() {
            self.kill();
        }
    }

    /// Kills the process and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Resident memory of the process (see [`Memory`]).
    pub fn memory(&self) -> Option<Memory> {
        memory(self.id())
    }
}

impl Drop for LineProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Forwards stdout lines, each read with a size bound, until EOF or until
/// nobody listens.
fn pump(stdout: impl Read, tx: mpsc::SyncSender<String>) {
    let mut reader = BufReader::new(stdout);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match (&mut reader)
            .take(MAX_LINE_BYTES)
            .read_until(b'\n', &mut buf)
        {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        if tx.send(String::from_utf8_lossy(&buf).into_owned()).is_err() {
            return;
        }
    }
}

/// What a command run to completion did.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status; `None` when it could not start or was killed at the bound.
    pub status: Option<ExitStatus>,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr (plus why, when it could not start or was killed).
    pub stderr: String,
}

impl Finished {
    /// Whether it exited with status 0.
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// Its exit code, when it exited.
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }
}

impl std::fmt::Display for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}; stdout: {}; stderr: {}",
            self.code(),
            self.stdout.trim(),
            self.stderr.trim()
        )
    }
}

/// Runs `cmd` (stdin null, stdout and stderr captured) to completion,
/// killing it after `timeout`.
pub fn run_bounded(cmd: Command, timeout: Duration) -> Finished {
    run_bounded_with(cmd, Stdio::null(), timeout)
}

/// [`run_bounded`] with `stdin` (a file, say) as the command's stdin.
pub fn run_bounded_with(mut cmd: Command, stdin: impl Into<Stdio>, timeout: Duration) -> Finished {
    let what = format!("{cmd:?}");
    let spawned = cmd
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return Finished {
                status: None,
                stdout: String::new(),
                stderr: format!("cannot run {what}: {e}"),
            };
        }
    };
    // Drain both pipes on threads so a chatty command cannot block on a full pipe.
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let status = Wait::new(timeout)
        .pace(EXIT_PACE)
        .until(|| child.try_wait().ok().flatten());
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let stdout = out.join().unwrap_or_default();
    let mut stderr = err.join().unwrap_or_default();
    if status.is_none() {
        stderr.push_str(&format!("\n[killed after {timeout:?}: {what}]"));
    }
    Finished {
        status,
        stdout,
        stderr,
    }
}

/// Reads a child's pipe to the end on a thread of its own.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_string(&mut s);
        }
        s
    })
}

/// A process's resident memory, KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// VmRSS: every resident page mapped, shared ones (the binary's code) included.
    pub rss: u64,
    /// RssAnon: the process's own heap, stacks and other private memory.
    pub anon: u64,
    /// Pss: RSS with each shared page divided among the processes sharing it.
    pub pss: u64,
}

fn kib(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// VmRSS of a process, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    kib(
        &std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        "VmRSS:",
    )
}

/// The resident memory of a process, from /proc/PID/status and smaps_rollup.
pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    Some(Memory {
        rss: kib(&status, "VmRSS:")?,
        anon: kib(&status, "RssAnon:").unwrap_or(0),
        pss: kib(&rollup, "Pss:").unwrap_or(0),
    })
}

/// A TCP port on 127.0.0.1 that was free a moment ago (for programs that
/// need a number; a lost race shows as a failed start).
pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free TCP port on 127.0.0.1")
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port on 127.0.0.1")
}
