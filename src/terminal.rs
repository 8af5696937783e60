//! Reading commands from stdin on a dedicated thread: a pending tokio stdin
//! read cannot be cancelled and would hang shutdown, a thread can simply be
//! left behind. On a terminal, rustyline gives line editing and history
//! (kept in the data directory); piped input is read plainly, line by line,
//! in order.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use tokio::sync::{mpsc, oneshot};

use crate::repl::Line;

/// How many lines may wait for the command loop.
const LINE_CAPACITY: usize = 256;

/// The prompt shown on a terminal.
const PROMPT: &str = "p2pnode> ";

/// Starts the reader thread; lines arrive on the returned channel, which
/// closes at EOF (Ctrl-D).
pub fn spawn_reader(history: Option<PathBuf>) -> mpsc::Receiver<Line> {
    let (tx, rx) = mpsc::channel(LINE_CAPACITY);
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let spawned = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            if interactive {
                if let Err(e) = edit_lines(&tx, history) {
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
    rx
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

fn edit_lines(tx: &mpsc::Sender<Line>, history: Option<PathBuf>) -> rustyline::Result<()> {
    use rustyline::error::ReadlineError;
    let mut editor = rustyline::DefaultEditor::new()?;
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    loop {
        match editor.readline(PROMPT) {
            Ok(text) => {
                if !text.trim().is_empty() {
                    let _ = editor.add_history_entry(text.as_str());
                }
                let (done, answered) = oneshot::channel();
                if tx
                    .blocking_send(Line {
                        text,
                        done: Some(done),
                    })
                    .is_err()
                {
                    break;
                }
                // Wait for the answer before prompting again.
                if answered.blocking_recv().is_err() {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e),
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(())
}
