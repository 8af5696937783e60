//! Child processes that speak a line protocol on stdin/stdout: one reader
//! thread per process forwards stdout lines over a channel, so every wait
//! is bounded by a timeout.

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One child process driven line by line.
pub struct LineProc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl LineProc {
    /// Spawns `cmd` with piped stdin/stdout (stderr as the caller set it).
    pub fn spawn(mut cmd: Command) -> std::io::Result<LineProc> {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut child = cmd.spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout"))?;
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
        Ok(LineProc {
            child,
            stdin,
            lines: rx,
        })
    }

    /// The next stdout line before `deadline`; `None` on timeout or exit.
    pub fn line_before(&mut self, deadline: Instant) -> Option<String> {
        let left = deadline.checked_duration_since(Instant::now())?;
        self.lines.recv_timeout(left).ok()
    }

    /// Writes one line to stdin.
    pub fn send(&mut self, line: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("stdin closed")?;
        writeln!(stdin, "{line}")
            .and_then(|_| stdin.flush())
            .map_err(|e| format!("write to child: {e}"))
    }

    /// Resident memory of the process (see [`Memory`]).
    pub fn memory(&self) -> Option<Memory> {
        memory(self.child.id())
    }

    /// Closes stdin and waits up to `timeout` for the process to exit, then kills it.
    pub fn stop(&mut self, timeout: Duration) {
        self.stdin.take();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for LineProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

/// A UDP port on 127.0.0.1 that was free a moment ago.
pub fn free_udp_port() -> Option<u16> {
    let s = UdpSocket::bind("127.0.0.1:0").ok()?;
    s.local_addr().ok().map(|a| a.port())
}
