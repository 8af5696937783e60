//! Where log lines go: stderr, or, while a prompt is on the terminal, the
//! line editor's printer, which writes them above the prompt and redraws the
//! line being typed. The routing is process-wide, as the tracing subscriber
//! and the terminal are.

use std::io::Write;
use std::sync::Mutex;
use std::sync::mpsc::SyncSender;

use tracing_subscriber::fmt::MakeWriter;

/// The line editor's printer, while there is one.
static PRINTER: Mutex<Option<SyncSender<String>>> = Mutex::new(None);

/// Sends log lines to `printer` from now on.
pub(super) fn attach(printer: SyncSender<String>) {
    if let Ok(mut slot) = PRINTER.lock() {
        *slot = Some(printer);
    }
}

/// Sends log lines to stderr again.
pub(super) fn detach() {
    if let Ok(mut slot) = PRINTER.lock() {
        slot.take();
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

impl Drop for LogLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let printer = PRINTER.lock().ok().and_then(|slot| slot.clone());
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
