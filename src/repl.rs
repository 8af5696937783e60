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

/// Answers one line on `output`; `None` when the line asked nothing, else
/// whether it was `quit`.
async fn answer<W: AsyncWrite + Unpin>(
    client: &Client,
    line: &str,
    output: &mut W,
    format: Format,
) -> std::io::Result<Option<bool>> {
    let Some(reply) = handle_line(client, line).await else {
        return Ok(None);
    };
    let mut text = reply.render(format);
    text.push('\n');
    output.write_all(text.as_bytes()).await?;
    output.flush().await?;
    Ok(Some(reply.is_quit()))
}

/// Why a command loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The input ended (EOF, Ctrl-D).
    Eof,
    /// The user typed `quit`.
    Quit,
}

/// Reads command lines from `input` until EOF or `quit`, answering each on
/// `output` in order.
pub async fn run<R, W>(client: &Client, input: R, output: W, format: Format) -> std::io::Result<End>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    serve(client, Lines::Stream(input.lines()), output, format).await
}

/// A line from a reader thread, with an optional signal sent once it has
/// been answered (so an interactive prompt appears after the answer). The
/// signal is dropped unsent when the loop stops at this line (`quit`): the
/// reader then stops prompting.
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
    lines: mpsc::Receiver<Line>,
    output: W,
    format: Format,
) -> std::io::Result<End>
where
    W: AsyncWrite + Unpin,
{
    serve(client, Lines::<&[u8]>::Channel(lines), output, format).await
}

/// Where the one command loop gets its lines.
enum Lines<R> {
    Stream(tokio::io::Lines<R>),
    Channel(mpsc::Receiver<Line>),
}

impl<R: AsyncBufRead + Unpin> Lines<R> {
    async fn next(&mut self) -> std::io::Result<Option<Line>> {
        Ok(match self {
            Lines::Stream(lines) => lines
                .next_line()
                .await?
                .map(|text| Line { text, done: None }),
            Lines::Channel(lines) => lines.recv().await,
        })
    }
}

/// The command loop: each line answered in order, until the input ends or
/// the user quits.
async fn serve<R, W>(
    client: &Client,
    mut lines: Lines<R>,
    mut output: W,
    format: Format,
) -> std::io::Result<End>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    while let Some(Line { text, done }) = lines.next().await? {
        if answer(client, &text, &mut output, format).await? == Some(true) {
            return Ok(End::Quit);
        }
        if let Some(done) = done {
            let _ = done.send(());
        }
    }
    Ok(End::Eof)
}
