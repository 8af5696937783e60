//! The command loop: lines parsed into a [`Command`](crate::command::Command)
//! (testable without a terminal), applied to a [`Client`], and answered
//! through [`output`](crate::output). The same code serves the terminal and
//! piped stdin; `p2pnode ctl` goes through [`command`] too.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use crate::command;
use crate::network::Client;
use crate::output::{Format, Reply};

/// Parses and runs one line. `None` for lines that ask nothing (blank, `#`
/// comments), so scripts can carry comments.
pub async fn handle_line(client: &Client, line: &str) -> Option<Reply> {
    Some(command::reply_to(client, command::parse_line(line)?).await)
}

async fn answer<W: AsyncWrite + Unpin>(
    client: &Client,
    line: &str,
    output: &mut W,
    format: Format,
) -> std::io::Result<bool> {
    let Some(reply) = handle_line(client, line).await else {
        return Ok(false);
    };
    let mut text = reply.render(format);
    text.push('\n');
    output.write_all(text.as_bytes()).await?;
    output.flush().await?;
    Ok(reply.is_quit())
}

/// Reads command lines from `input` until EOF or `quit`, answering each on
/// `output` in order.
pub async fn run<R, W>(
    client: &Client,
    input: R,
    mut output: W,
    format: Format,
) -> std::io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut lines = input.lines();
    while let Some(line) = lines.next_line().await? {
        if answer(client, &line, &mut output, format).await? {
            break;
        }
    }
    Ok(())
}

/// A line from a reader thread, with an optional signal sent once it has
/// been answered (so an interactive prompt appears after the answer).
#[derive(Debug)]
pub struct Line {
    /// The text.
    pub text: String,
    /// Told when the answer has been written.
    pub done: Option<oneshot::Sender<()>>,
}

/// Like [`run`], for lines delivered over a channel by a reader thread.
pub async fn run_channel<W>(
    client: &Client,
    mut lines: mpsc::Receiver<Line>,
    mut output: W,
    format: Format,
) -> std::io::Result<()>
where
    W: AsyncWrite + Unpin,
{
    while let Some(Line { text, done }) = lines.recv().await {
        let quit = answer(client, &text, &mut output, format).await?;
        if let Some(done) = done {
            let _ = done.send(());
        }
        if quit {
            break;
        }
    }
    Ok(())
}
