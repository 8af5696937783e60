//! Stdin and stdout for the command loop. A pipe (scripts, harnesses) is
//! read and written on the runtime itself, like a socket: the fastest path,
//! and cancellable. Anything else is read on a dedicated thread: a pending
//! tokio stdin read cannot be cancelled and would hang shutdown, a thread
//! can simply be left behind. On a terminal, rustyline gives line editing
//! and history (`editor`), and log lines are printed above the prompt
//! ([`log`]); a file is read plainly, line by line, in order.

mod editor;
pub mod log;

use std::io::{BufRead, IsTerminal};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::unix::pipe;
use tokio::sync::mpsc;

pub use editor::Session;

use crate::repl::Line;

/// How many lines may wait for the command loop.
const LINE_CAPACITY: usize = 256;

/// What stdin is, which decides whether the REPL reads it by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdin {
    /// A terminal: a person types at a prompt.
    Terminal,
    /// A pipe, a socket or a regular file: a script, answered line by line;
    /// its end shuts the node down.
    Script,
    /// `/dev/null` (what `docker run -d`, compose, Kubernetes and service
    /// managers give), another device, or no descriptor at all: nothing to
    /// read commands from.
    Absent,
}

impl Stdin {
    /// Looks at descriptor 0.
    pub fn detect() -> Stdin {
        use std::os::unix::fs::FileTypeExt;
        if std::io::stdin().is_terminal() {
            return Stdin::Terminal;
        }
        let Some(meta) = dup_fd(0).and_then(|fd| std::fs::File::from(fd).metadata().ok()) else {
            return Stdin::Absent;
        };
        let kind = meta.file_type();
        if kind.is_fifo() || kind.is_socket() || kind.is_file() {
            Stdin::Script
        } else {
            Stdin::Absent
        }
    }
}

/// Starts the reader thread; lines arrive on the returned channel, which
/// closes at EOF (Ctrl-D). On a terminal, the returned [`Session`] puts the
/// terminal back as it was when dropped, whatever the thread is doing.
pub fn spawn_reader(history: Option<PathBuf>) -> (mpsc::Receiver<Line>, Option<Session>) {
    let (tx, rx) = mpsc::channel(LINE_CAPACITY);
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let session = interactive.then(Session::begin);
    let shared = session.as_ref().map(Session::shared);
    let spawned = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            if let Some(shared) = shared {
                if let Err(e) = editor::edit_lines(&tx, history, &shared) {
                    tracing::warn!(error = %e, "line editor failed; reading stdin plainly");
                    plain_lines(&tx);
                }
            } else {
                plain_lines(&tx);
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the stdin reader");
    }
    (rx, session)
}

fn plain_lines(tx: &mpsc::Sender<Line>) {
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(text) = line else { break };
        if tx.blocking_send(Line { text, done: None }).is_err() {
            break;
        }
    }
}

/// Where the command loop reads its lines from.
pub enum Input {
    /// Stdin is a pipe (a script, a test harness): read it on the runtime
    /// itself, registered with epoll like any socket. No thread hop per line,
    /// and unlike tokio's `stdin()` a pending read is simply dropped at
    /// shutdown.
    Pipe(tokio::io::BufReader<Restoring<pipe::Receiver>>),
    /// A terminal or a regular file: lines from the reader thread, and on a
    /// terminal the session that restores it.
    Thread(mpsc::Receiver<Line>, Option<Session>),
}

/// Opens stdin for the command loop: a pipe directly, anything else through
/// [`spawn_reader`]. Must be called within the runtime.
pub fn open_input(history: Option<PathBuf>) -> Input {
    if !std::io::stdin().is_terminal()
        && let Some(rx) = dup_fd(0).and_then(|fd| pipe::Receiver::from_owned_fd(fd).ok())
    {
        return Input::Pipe(tokio::io::BufReader::new(Restoring(Some(rx))));
    }
    let (lines, session) = spawn_reader(history);
    Input::Thread(lines, session)
}

/// Stdout for the answers: a pipe is written on the runtime directly (no
/// blocking-pool round trip per answer); a terminal or a file goes through
/// tokio's `stdout()`.
pub fn open_output() -> Box<dyn AsyncWrite + Send + Unpin> {
    // Non-blocking mode belongs to the pipe, not to the descriptor: with
    // `2>&1` the logs would share it and could be dropped when it is full.
    if !std::io::stdout().is_terminal()
        && !same_file(1, 2)
        && let Some(tx) = dup_fd(1).and_then(|fd| pipe::Sender::from_owned_fd(fd).ok())
    {
        return Box::new(Restoring(Some(tx)));
    }
    Box::new(tokio::io::stdout())
}

/// A duplicate of a standard descriptor, so the pipe types can own it.
fn dup_fd(fd: i32) -> Option<OwnedFd> {
    // SAFETY: the standard descriptors (0, 1, 2) stay open for the life of
    // the process; the borrow ends with this statement, the duplicate is ours.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    borrowed.try_clone_to_owned().ok()
}

/// Whether two standard descriptors are the same file (or pipe); true when
/// that cannot be told.
fn same_file(a: i32, b: i32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let meta = |fd| dup_fd(fd).and_then(|fd| std::fs::File::from(fd).metadata().ok());
    match (meta(a), meta(b)) {
        (Some(a), Some(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => true,
    }
}

/// A pipe end that puts its descriptor back in blocking mode when dropped:
/// the mode belongs to the pipe, which the process that gave it to us (or
/// runs after us) may still use.
pub struct Restoring<P: IntoBlocking>(Option<P>);

/// The tokio pipe ends, which can give their descriptor back in blocking mode.
pub trait IntoBlocking {
    /// Returns the descriptor, blocking again.
    fn restore(self);
}

impl IntoBlocking for pipe::Receiver {
    fn restore(self) {
        let _ = self.into_blocking_fd();
    }
}

impl IntoBlocking for pipe::Sender {
    fn restore(self) {
        let _ = self.into_blocking_fd();
    }
}

impl<P: IntoBlocking> Drop for Restoring<P> {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            p.restore();
        }
    }
}

impl<P: IntoBlocking + AsyncRead + Unpin> AsyncRead for Restoring<P> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.0.as_mut() {
            Some(p) => Pin::new(p).poll_read(cx, buf),
            None => Poll::Ready(Ok(())),
        }
    }
}

impl<P: IntoBlocking + AsyncWrite + Unpin> AsyncWrite for Restoring<P> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.0.as_mut() {
            Some(p) => Pin::new(p).poll_write(cx, buf),
            None => Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.0.as_mut() {
            Some(p) => Pin::new(p).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.0.as_mut() {
            Some(p) => Pin::new(p).poll_shutdown(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}
