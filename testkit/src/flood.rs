//! A flood of plain TCP connections, as any host can make without a key or
//! an identity: connections that never start a libp2p handshake, held open
//! and opened again as soon as the node closes them. Bounded in time and
//! in the number of connections attempted; it stops by itself.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpSocket;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// A flood to run.
#[derive(Debug, Clone, Copy)]
pub struct TcpFlood {
    /// The node's TCP address.
    pub target: SocketAddr,
    /// The address the connections come from (e.g. 127.0.0.2, so the
    /// node can tell them from a legitimate peer on 127.0.0.1).
    pub from: IpAddr,
    /// How many connections are kept open at once.
    pub open: usize,
    /// How long the flood lasts.
    pub duration: Duration,
    /// How many connections it attempts at most.
    pub max_attempts: usize,
    /// The time between two attempts (the flood's rate).
    pub pace: Duration,
}

/// What a flood did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FloodReport {
    /// Connections attempted.
    pub attempted: usize,
    /// Connections the node's kernel accepted.
    pub connected: usize,
    /// Of those, connections the node closed while the flood lasted.
    pub closed_by_node: usize,
}

impl TcpFlood {
    /// Runs the flood to its end, counting the connections attempted in
    /// `attempts` as it goes (so a test can wait until it is under way).
    pub async fn run(self, attempts: &AtomicUsize) -> FloodReport {
        let end = Instant::now() + self.duration;
        let mut report = FloodReport::default();
        let mut set = JoinSet::new();
        let mut pace = tokio::time::interval(self.pace);
        let count = |report: &mut FloodReport, done: Result<Held, _>| match done {
            Ok(Held::Closed) => {
                report.connected += 1;
                report.closed_by_node += 1;
            }
            Ok(Held::Kept) => report.connected += 1,
            _ => {}
        };
        while Instant::now() < end {
            while let Some(done) = set.try_join_next() {
                count(&mut report, done);
            }
            if set.len() < self.open && report.attempted < self.max_attempts {
                if tokio::time::timeout_at(end, pace.tick()).await.is_err() {
                    break;
                }
                report.attempted += 1;
                attempts.fetch_add(1, Ordering::Relaxed);
                set.spawn(hold(self.target, self.from, end));
                continue;
            }
            match tokio::time::timeout_at(end, set.join_next()).await {
                Ok(Some(done)) => count(&mut report, done),
                _ => break,
            }
        }
        set.abort_all();
        report
    }
}

impl TcpFlood {
    /// Runs the flood on a thread of its own; the count of connections
    /// attempted so far, and the thread that ends with the report.
    pub fn spawn(self) -> (Arc<AtomicUsize>, std::thread::JoinHandle<FloodReport>) {
        let attempts = Arc::new(AtomicUsize::new(0));
        let counter = attempts.clone();
        let thread = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the flood")
                .block_on(self.run(&counter))
        });
        (attempts, thread)
    }
}

/// How one connection ended.
enum Held {
    /// It could not be made.
    Failed,
    /// The node closed it.
    Closed,
    /// It was still open at the end.
    Kept,
}

async fn hold(target: SocketAddr, from: IpAddr, end: Instant) -> Held {
    let socket = match from {
        IpAddr::V4(_) => TcpSocket::new_v4(),
        IpAddr::V6(_) => TcpSocket::new_v6(),
    };
    let Ok(socket) = socket else {
        return Held::Failed;
    };
    if socket.bind(SocketAddr::new(from, 0)).is_err() {
        return Held::Failed;
    }
    let connect = tokio::time::timeout_at(end, socket.connect(target)).await;
    let Ok(Ok(mut stream)) = connect else {
        return Held::Failed;
    };
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout_at(end, stream.read(&mut buf)).await {
            Err(_) => return Held::Kept,
            Ok(Ok(0) | Err(_)) => return Held::Closed,
            Ok(Ok(_)) => {}
        }
    }
}

/// How many file descriptors process `pid` has open (Linux `/proc`).
pub fn open_fds(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// Sets the soft and hard `RLIMIT_NOFILE` of process `pid` to `limit`, as
/// `prlimit --nofile` does: a node started with the common default of 1024.
pub fn set_fd_limit(pid: u32, limit: u64) -> std::io::Result<()> {
    let new = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    let pid = libc::pid_t::try_from(pid).map_err(std::io::Error::other)?;
    // SAFETY: `new` is a valid rlimit; the old value is not asked for (null).
    match unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &new, std::ptr::null_mut()) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Makes `cmd` start with soft and hard `RLIMIT_NOFILE` of `limit`, as
/// `prlimit --nofile` would.
pub fn with_fd_limit(cmd: &mut std::process::Command, limit: u64) {
    use std::os::unix::process::CommandExt;
    let new = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: setrlimit is async-signal-safe and touches no memory of the
    // parent: fine between fork and exec.
    unsafe {
        cmd.pre_exec(move || match libc::setrlimit(libc::RLIMIT_NOFILE, &new) {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        });
    }
}
