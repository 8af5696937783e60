//! The REPL's commands, in the shape of mini-redis: one [table](COMMANDS)
//! describes every command; a line is [tokenized](tokenize) (quotes and
//! escapes), parsed once into a typed [`Command`], and [`apply`]ed to the
//! node's [`Client`](crate::network::Client), which gives a
//! [`Reply`](crate::output::Reply). `p2pnode ctl` hands its arguments over
//! as a list, one token each, so they are never re-split.
//!
//! # Layout
//! - `table`: the command table and the [`Command`] enum made from it.
//! - `tokenize`: a line into [`Token`]s.
//! - [`crate::quote`] (outside, as keys and replies use it too): text back
//!   into a token, and made safe for a terminal.
//! - `parse`: tokens into a [`Command`]; how each argument is written back.
//! - `apply`: a [`Command`] run against the node.
//! - [`trace`]: `trace` and `routing`'s arguments (`--svg FILE`), run.
//! - [`error`]: [`ParseError`] and [`Rejected`], which replies carry.

mod apply;
pub mod error;
mod parse;
mod table;
mod tokenize;
pub mod trace;

use std::str::FromStr;

pub use crate::quote::{escape_controls, needs_escape, quote, quote_always};
pub use apply::{apply, reply_to};
pub use error::{ParseError, Rejected};
pub use table::{COMMANDS, Command, Spec, lookup};
pub use tokenize::{Token, tokenize};

/// How keys and values are written, for `help` and `p2pnode --help`.
pub const QUOTING: &[&str] = &[
    r#"quote a KEY or VALUE with spaces: put "my key" "some value" (or 'single quotes')"#,
    r#"inside "...": \" \\ \n \t \r \xNN \u{N} are escapes; inside '...' nothing is"#,
    r"outside quotes, a backslash keeps a space, quote or backslash in the word: my\ key",
    "an unquoted VALUE is the rest of the line: inner spaces kept as typed, outer ones dropped",
];

impl Command {
    /// Builds a command from tokens: the first names it, the rest are its
    /// arguments.
    pub fn from_tokens(tokens: Vec<Token>) -> Result<Command, Rejected> {
        let mut tokens = tokens.into_iter();
        let Some(first) = tokens.next() else {
            return Err(Rejected {
                cmd: String::new(),
                error: ParseError::Empty,
            });
        };
        let Some(spec) = lookup(&first.text) else {
            return Err(Rejected {
                cmd: first.text.to_lowercase(),
                error: ParseError::Unknown { word: first.text },
            });
        };
        (spec.parse)(parse::Args::new(spec, tokens)).map_err(|error| Rejected {
            cmd: spec.name.to_string(),
            error,
        })
    }

    /// Builds a command from an argument list (`p2pnode ctl`): each element
    /// is one token exactly, never split or unquoted again.
    pub fn from_args<S: AsRef<str>>(args: &[S]) -> Result<Command, Rejected> {
        Command::from_tokens(args.iter().map(|a| Token::arg(a.as_ref())).collect())
    }
}

/// Parses one typed line. `None` for lines that ask nothing (blank, or a
/// `#` comment), so scripts can carry comments.
pub fn parse_line(line: &str) -> Option<Result<Command, Rejected>> {
    let trimmed = line.trim_start();
    if trimmed.trim_end().is_empty() || trimmed.starts_with('#') {
        return None;
    }
    Some(match tokenize(line) {
        Ok(tokens) => Command::from_tokens(tokens),
        Err(error) => Err(Rejected {
            cmd: first_word(trimmed).to_lowercase(),
            error,
        }),
    })
}

/// The first whitespace-separated word, for naming a line that does not
/// tokenize.
fn first_word(line: &str) -> &str {
    line.split(char::is_whitespace).next().unwrap_or_default()
}

impl FromStr for Command {
    type Err = ParseError;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        Command::from_tokens(tokenize(line)?).map_err(|r| r.error)
    }
}

/// The commands (usage, help, aliases) and the quoting rules, from the
/// table: what `help` answers.
pub fn help() -> crate::output::Help {
    crate::output::Help {
        commands: COMMANDS
            .iter()
            .map(|s| crate::output::CommandHelp {
                name: s.name,
                aliases: s.aliases,
                usage: s.usage,
                about: s.help,
            })
            .collect(),
        quoting: QUOTING,
    }
}

/// The text of `help`, and the end of `p2pnode --help`.
pub fn help_text() -> String {
    crate::output::text::help(&help())
}

/// The text after clap's options in `p2pnode --help`: `examples`, then
/// what can be typed at the prompt or given to `p2pnode ctl`.
pub fn cli_after_help(examples: &str) -> String {
    format!(
        "{examples}\n\nAt the prompt, or as arguments of p2pnode ctl (each argument one word):\n{}",
        help_text()
    )
}

#[cfg(test)]
mod tests;
