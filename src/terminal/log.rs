//! Where log lines go: stderr, or, while a prompt is on the terminal, the
//! line editor's printer, which writes them above the prompt and redraws the
//! line being typed. The routing is process-wide, as the tracing subscriber
//! and the terminal are.

use std::io::Write;
use std::sync::Mutex;
use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::MakeWriter;

/// How long [`detach`] waits for the printer to write what it was given, so
/// those lines still come before the ones written to stderr next.
const DRAIN_TIMEOUT: Duration = Duration::from_millis(250);

/// The line editor's printer: the lines for it, and the thread writing them.
#[derive(Debug)]
pub(super) struct Printer {
    /// Log lines to print.
    pub lines: SyncSender<String>,
    /// Ends once `lines` is closed and drained.
    pub thread: JoinHandle<()>,
}

/// The line editor's printer, while there is one.
static PRINTER: Mutex<Option<Printer>> = Mutex::new(None);

/// Sends log lines to `printer` from now on.
pub(super) fn attach(printer: Printer) {
    if let Ok(mut slot) = PRINTER.lock() {
        *slot = Some(printer);
    }
}

/// Sends log lines to stderr again, once the printer has written the lines
/// it holds (waiting at most [`DRAIN_TIMEOUT`]).
pub(super) fn detach() {
    let printer = PRINTER.lock().ok().and_then(|mut slot| slot.take());
    let Some(Printer { lines, thread }) = printer else {
        return;
    };
    drop(lines);
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while !thread.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The tracing writer for the `p2pnode` binary: give it to
/// `tracing_subscriber::fmt().with_writer(..)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogWriter;

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine(Vec::new())
    }
}

/// One formatted log event, collected and sent whole when dropped, so a
/// line is never split between the printer and stderr.
#[derive(Debug)]
pub struct LogLine(Vec<u8>);

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogLine {
    /// One event, one line: newlines and carriage returns inside it (an
    /// error's text, a peer's string) are written as `\n` and `\r`.
    fn one_line(&mut self) {
        let body = self.0.strip_suffix(b"\n").unwrap_or(&self.0);
        if !body.iter().any(|b| *b == b'\n' || *b == b'\r') {
            return;
        }
        let mut line = Vec::with_capacity(self.0.len() + 8);
        for &b in body {
            match b {
                b'\n' => line.extend_from_slice(b"\\n"),
                b'\r' => line.extend_from_slice(b"\\r"),
                other => line.push(other),
            }
        }
        line.push(b'\n');
        self.0 = line;
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        self.one_line();
        let printer = PRINTER
            .lock()
            .ok()
            .and_then(|slot| slot.as_ref().map(|p| p.lines.clone()));
        if let Some(printer) = printer {
            let text = String::from_utf8_lossy(&self.0).into_owned();
            // Full (the printer waits while a command runs) or gone: stderr.
            if printer.try_send(text).is_ok() {
                return;
            }
        }
        let _ = std::io::stderr().lock().write_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::LogLine;

    #[test]
    fn an_event_with_newlines_stays_one_line() {
        let mut l = LogLine(b"WARN failed: first\nsecond\r\n".to_vec());
        l.one_line();
        assert_eq!(l.0, b"WARN failed: first\\nsecond\\r\n");
        let mut plain = LogLine(b"INFO fine\n".to_vec());
        plain.one_line();
        assert_eq!(plain.0, b"INFO fine\n");
        l.0.clear();
        plain.0.clear();
    }
}
