//! The command loop: lines parsed into a [`Command`] (testable without a
//! terminal), executed against a [`Client`], and answered through
//! [`output`](crate::output). The same code serves the terminal, piped
//! stdin, and `p2pnode ctl`.

use std::num::NonZeroUsize;
use std::str::FromStr;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use crate::bootstrap::Target;
use crate::keys;
use crate::network::{Client, Quorum};
use crate::output::{Body, Format, Reply};

/// One parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Store a value.
    Put {
        /// The key, as typed.
        key: String,
        /// The value: the rest of the line.
        value: String,
        /// How many peers must confirm.
        quorum: Quorum,
    },
    /// Look a key up.
    Get {
        /// The key, as typed.
        key: String,
        /// How many copies to wait for.
        quorum: Quorum,
    },
    /// Announce this node as a provider.
    Provide {
        /// The key.
        key: String,
    },
    /// Find providers.
    Providers {
        /// The key.
        key: String,
    },
    /// List connected peers.
    Peers,
    /// Show our identity and addresses.
    Id,
    /// Show the routing table.
    Routing,
    /// The closest known peers to a key.
    Closest {
        /// The key.
        key: String,
    },
    /// Connect to a peer.
    Dial {
        /// Where.
        target: Target,
    },
    /// Re-run bootstrap.
    Bootstrap,
    /// Show counters.
    Stats,
    /// List the commands.
    Help,
    /// Shut down.
    Quit,
}

impl Command {
    /// The command's name, as in the JSON `"cmd"` field.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Put { .. } => "put",
            Command::Get { .. } => "get",
            Command::Provide { .. } => "provide",
            Command::Providers { .. } => "providers",
            Command::Peers => "peers",
            Command::Id => "id",
            Command::Routing => "routing",
            Command::Closest { .. } => "closest",
            Command::Dial { .. } => "dial",
            Command::Bootstrap => "bootstrap",
            Command::Stats => "stats",
            Command::Help => "help",
            Command::Quit => "quit",
        }
    }

    fn key(&self) -> Option<&str> {
        match self {
            Command::Put { key, .. }
            | Command::Get { key, .. }
            | Command::Provide { key }
            | Command::Providers { key }
            | Command::Closest { key } => Some(key),
            _ => None,
        }
    }
}

/// Why a line is not a command: the command's name (or the first word) and
/// a one-line message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The command word.
    pub cmd: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

fn parse_quorum(text: &str) -> Result<Quorum, String> {
    if text.eq_ignore_ascii_case("all") {
        return Ok(Quorum::All);
    }
    text.parse::<NonZeroUsize>()
        .map(Quorum::N)
        .map_err(|_| format!("bad quorum '{text}': a number from 1, or 'all'"))
}

/// Splits a trailing `--quorum N` off `rest`.
fn take_quorum(rest: &str) -> Result<(&str, Quorum), String> {
    let trimmed = rest.trim_end();
    if let Some((before, after)) = trimmed.rsplit_once("--quorum")
        && (before.is_empty() || before.ends_with(char::is_whitespace))
        && !after.trim().is_empty()
        && !after.trim().contains(char::is_whitespace)
    {
        return Ok((before.trim_end(), parse_quorum(after.trim())?));
    }
    if trimmed.ends_with("--quorum") {
        return Err("--quorum needs a number or 'all'".into());
    }
    Ok((rest, Quorum::Default))
}

/// Splits off the first whitespace-separated word.
fn first_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

fn checked_key(key: &str) -> Result<String, String> {
    keys::parse(key)?;
    Ok(key.to_string())
}

impl FromStr for Command {
    type Err = ParseError;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let (word, rest) = first_word(line.trim_end_matches(['\r', '\n']));
        let cmd = word.to_ascii_lowercase();
        let err = |message: String| ParseError {
            cmd: cmd.clone(),
            message,
        };
        let usage = |u: &str| err(format!("usage: {u}"));
        let one_key = |rest: &str, u: &str| -> Result<String, ParseError> {
            let (key, extra) = first_word(rest);
            if key.is_empty() || !extra.trim().is_empty() {
                return Err(usage(u));
            }
            checked_key(key).map_err(err)
        };
        let no_args = |c: Command| {
            if rest.trim().is_empty() {
                Ok(c)
            } else {
                Err(err(format!("'{cmd}' takes no arguments")))
            }
        };
        match cmd.as_str() {
            "put" | "set" => {
                let (key, value) = first_word(rest);
                if key.is_empty() {
                    return Err(usage("put KEY VALUE [--quorum N|all]"));
                }
                let key = checked_key(key).map_err(err)?;
                let (value, quorum) = take_quorum(value).map_err(err)?;
                // One separator after the key; the rest of the line is the value.
                let value = value
                    .strip_prefix(|c: char| c.is_whitespace())
                    .unwrap_or(value);
                if value.is_empty() {
                    return Err(err("missing VALUE: put KEY VALUE".into()));
                }
                Ok(Command::Put {
                    key,
                    value: value.to_string(),
                    quorum,
                })
            }
            "get" => {
                let (rest, quorum) = take_quorum(rest).map_err(err)?;
                let key = one_key(rest, "get KEY [--quorum N|all]")?;
                Ok(Command::Get { key, quorum })
            }
            "provide" => Ok(Command::Provide {
                key: one_key(rest, "provide KEY")?,
            }),
            "providers" => Ok(Command::Providers {
                key: one_key(rest, "providers KEY")?,
            }),
            "closest" => Ok(Command::Closest {
                key: one_key(rest, "closest KEY")?,
            }),
            "dial" => {
                let (addr, extra) = first_word(rest);
                if addr.is_empty() || !extra.trim().is_empty() {
                    return Err(usage("dial ADDR"));
                }
                Ok(Command::Dial {
                    target: addr.parse().map_err(err)?,
                })
            }
            "peers" => no_args(Command::Peers),
            "id" => no_args(Command::Id),
            "routing" => no_args(Command::Routing),
            "bootstrap" => no_args(Command::Bootstrap),
            "stats" => no_args(Command::Stats),
            "help" | "?" => Ok(Command::Help),
            "quit" | "exit" => no_args(Command::Quit),
            "" => Err(err("empty command".into())),
            _ => Err(err(format!(
                "unknown command '{word}'; type 'help' for the list"
            ))),
        }
    }
}

/// Runs one command against the node.
pub async fn execute(client: &Client, command: Command) -> Reply {
    let cmd = command.name().to_string();
    let key = command.key().map(str::to_string);
    let parse_key = |k: &str| keys::parse(k).map_err(crate::Error::Invalid);
    let body = async {
        Ok(match command {
            Command::Put { key, value, quorum } => Body::Put(
                client
                    .put(parse_key(&key)?, value.into_bytes(), quorum)
                    .await?,
            ),
            Command::Get { key, quorum } => Body::Get(client.get(parse_key(&key)?, quorum).await?),
            Command::Provide { key } => Body::Provide(client.provide(parse_key(&key)?).await?),
            Command::Providers { key } => {
                Body::Providers(client.providers(parse_key(&key)?).await?)
            }
            Command::Peers => Body::Peers(client.peers().await?),
            Command::Id => Body::Id(client.info().await?),
            Command::Routing => Body::Routing(client.routing().await?),
            Command::Closest { key } => Body::Closest(client.closest(parse_key(&key)?).await?),
            Command::Dial { target } => Body::Dial(client.dial(target).await?),
            Command::Bootstrap => Body::Bootstrap(client.bootstrap().await?),
            Command::Stats => Body::Stats(client.stats().await?),
            Command::Help => Body::Help,
            Command::Quit => Body::Quit,
        })
    }
    .await
    .map_err(|e: crate::Error| e.to_string());
    Reply { cmd, key, body }
}

/// Parses and runs one line. `None` for lines that ask nothing (blank, `#`
/// comments), so scripts can carry comments.
pub async fn handle_line(client: &Client, line: &str) -> Option<Reply> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    Some(match line.parse::<Command>() {
        Ok(command) => execute(client, command).await,
        Err(e) => Reply {
            cmd: e.cmd,
            key: None,
            body: Err(e.message),
        },
    })
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
    Ok(Some(matches!(reply.body, Ok(Body::Quit))))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Command, ParseError> {
        s.parse()
    }

    #[test]
    fn put_takes_the_rest_of_the_line() {
        assert_eq!(
            p("put greeting hello  big world").unwrap(),
            Command::Put {
                key: "greeting".into(),
                value: "hello  big world".into(),
                quorum: Quorum::Default
            }
        );
        assert_eq!(
            p("PUT k v --quorum 3").unwrap(),
            Command::Put {
                key: "k".into(),
                value: "v".into(),
                quorum: Quorum::N(NonZeroUsize::new(3).unwrap())
            }
        );
        assert_eq!(
            p("put k a--quorum b").unwrap(),
            Command::Put {
                key: "k".into(),
                value: "a--quorum b".into(),
                quorum: Quorum::Default
            }
        );
    }

    #[test]
    fn get_with_quorum() {
        assert_eq!(
            p("get k").unwrap(),
            Command::Get {
                key: "k".into(),
                quorum: Quorum::Default
            }
        );
        assert_eq!(
            p("get k --quorum all").unwrap(),
            Command::Get {
                key: "k".into(),
                quorum: Quorum::All
            }
        );
        assert!(p("get k --quorum 0").is_err());
        assert!(p("get k --quorum").is_err());
        assert!(p("get k extra").is_err());
    }

    #[test]
    fn malformed_lines_are_one_line_errors() {
        for (line, cmd) in [
            ("put", "put"),
            ("put k", "put"),
            ("get", "get"),
            ("frobnicate x", "frobnicate"),
            ("dial /ip4/1.2.3.4", "dial"),
            ("dial", "dial"),
            ("peers now", "peers"),
            ("get hex:zz", "get"),
        ] {
            let e = p(line).unwrap_err();
            assert_eq!(e.cmd, cmd, "{line}");
            assert!(!e.message.contains('\n'), "{line}: {}", e.message);
        }
    }

    #[test]
    fn simple_commands() {
        assert_eq!(p("peers").unwrap(), Command::Peers);
        assert_eq!(p("  routing ").unwrap(), Command::Routing);
        assert_eq!(p("exit").unwrap(), Command::Quit);
        assert!(matches!(
            p("dial 127.0.0.1:4001").unwrap(),
            Command::Dial { .. }
        ));
        assert!(matches!(
            p("closest mh:x").unwrap(),
            Command::Closest { .. }
        ));
    }
}
