//! The prompt on a terminal: rustyline's line editor on the stdin thread.
//! Log lines go through rustyline's external printer, so they appear above
//! the prompt and the line being typed stays intact; each history entry is
//! appended to the history file as it is typed, so no way of stopping the
//! node (`quit`, Ctrl-D, SIGTERM, Ctrl-C, `ctl quit`) loses it; and the
//! [`Session`] puts the terminal back in the mode it had before, even when
//! the node stops while the editor is still waiting for a key.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::sys::termios::{SetArg, Termios, tcgetattr, tcsetattr};
use rustyline::ExternalPrinter;
use rustyline::error::ReadlineError;
use tokio::sync::{mpsc, oneshot};

use super::log;
use crate::repl::Line;

/// The prompt shown on a terminal.
const PROMPT: &str = "p2pnode> ";

/// How many log lines may wait for the printer before they go straight to
/// stderr instead (the printer waits while a command runs).
const LOG_CAPACITY: usize = 1024;

/// Moves the cursor up to the prompt's line (rustyline ends every read with
/// a newline) and erases it (ANSI).
const ERASE_PROMPT: &str = "\x1b[A\r\x1b[2K";

/// What the editor thread and the [`Session`] both see.
#[derive(Debug, Default)]
pub(super) struct Shared {
    /// The editor is inside `readline`: the terminal is in raw mode and the
    /// prompt is on screen.
    at_prompt: AtomicBool,
}

/// The terminal while the line editor may own it. Dropping it (the node is
/// stopping) sends log lines to stderr again and, if the editor is still
/// waiting at the prompt, restores the terminal's saved mode and ends the
/// prompt's line: the stdin thread itself cannot be woken, so without this a
/// shell would get back a terminal without echo.
#[derive(Debug)]
pub struct Session {
    saved: Option<Termios>,
    shared: Arc<Shared>,
}

impl Session {
    /// Saves the terminal's mode, before the editor changes it.
    pub(super) fn begin() -> Session {
        Session {
            saved: tcgetattr(std::io::stdin()).ok(),
            shared: Arc::default(),
        }
    }

    /// The state shared with the editor thread.
    pub(super) fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        log::detach();
        if self.shared.at_prompt.load(Ordering::SeqCst) {
            if let Some(saved) = &self.saved {
                let _ = tcsetattr(std::io::stdin(), SetArg::TCSANOW, saved);
            }
            let mut out = std::io::stdout();
            let _ = out.write_all(b"\n").and_then(|()| out.flush());
        }
    }
}

/// Reads lines at the prompt until EOF, or until the command loop stops
/// answering (after `quit`). Each line waits for its answer before the next
/// prompt.
pub(super) fn edit_lines(
    tx: &mpsc::Sender<Line>,
    history: Option<PathBuf>,
    shared: &Shared,
) -> rustyline::Result<()> {
    let mut editor = rustyline::DefaultEditor::new()?;
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    // With stderr redirected the logs go there, not over the prompt.
    if std::io::stderr().is_terminal() {
        let printer = editor
            .create_external_printer()
            .map_err(|e| e.to_string())
            .and_then(|p| spawn_printer(p).map_err(|e| e.to_string()));
        match printer {
            Ok(printer) => log::attach(printer),
            Err(e) => tracing::debug!(error = %e, "no external printer: logs go to stderr"),
        }
    }
    let mut history_failed = false;
    let result = loop {
        shared.at_prompt.store(true, Ordering::SeqCst);
        let read = editor.readline(PROMPT);
        shared.at_prompt.store(false, Ordering::SeqCst);
        let text = match read {
            Ok(text) => text,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => {
                // Leave no prompt behind: the shutdown logs take its line.
                let mut out = std::io::stdout();
                let _ = out
                    .write_all(ERASE_PROMPT.as_bytes())
                    .and_then(|()| out.flush());
                break Ok(());
            }
            Err(e) => break Err(e),
        };
        if !text.trim().is_empty() {
            let _ = editor.add_history_entry(text.as_str());
            if let Some(h) = &history
                && let Err(e) = editor.append_history(h)
                && !std::mem::replace(&mut history_failed, true)
            {
                tracing::warn!(path = %h.display(), error = %e, "cannot save the command history");
            }
        }
        let (done, answered) = oneshot::channel();
        let line = Line {
            text,
            done: Some(done),
        };
        // Wait for the answer before prompting again; no answer (the
        // loop stopped, e.g. after `quit`) means no more prompts.
        if tx.blocking_send(line).is_err() || answered.blocking_recv().is_err() {
            break Ok(());
        }
    };
    log::detach();
    result
}

/// Runs the external printer on a thread of its own: in raw mode its
/// `print` waits for the editor to take the line, and the async runtime,
/// where most logs are written, must never wait for a terminal.
fn spawn_printer(
    mut printer: impl ExternalPrinter + Send + 'static,
) -> std::io::Result<log::Printer> {
    let (lines, rx) = std::sync::mpsc::sync_channel::<String>(LOG_CAPACITY);
    let thread = std::thread::Builder::new()
        .name("log-printer".into())
        .spawn(move || {
            for line in rx {
                if printer.print(line).is_err() {
                    break;
                }
            }
        })?;
    Ok(log::Printer { lines, thread })
}
