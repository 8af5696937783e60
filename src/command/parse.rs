//! From tokens to a [`Command`]: the argument helpers the table's parsers
//! use, and [`LineArg`], how each argument type is written back to a line.
//!
//! The rule for `put`'s VALUE: the tokens after the key (less a trailing
//! `--quorum N`). One token is the value exactly (a quoted one keeps its
//! spaces). Several are joined by the whitespace typed between them, so an
//! unquoted value is the rest of the line with the spaces around it dropped
//! and the spaces inside kept as typed. `ctl` gives one token per argument,
//! joined by one space.

use std::collections::VecDeque;
use std::fmt;
use std::num::NonZeroUsize;

use crate::bootstrap::DialTarget;
use crate::command::table::{Command, Spec};
use crate::command::{ParseError, Token};
use crate::keys::UserKey;
use crate::network::Quorum;
use crate::quote::{QUORUM_OPTION, quote};

/// A command's arguments (the tokens after its name) and its table row,
/// for usage errors.
#[derive(Debug)]
pub struct Args {
    spec: &'static Spec,
    tokens: VecDeque<Token>,
}

impl Args {
    pub(crate) fn new(spec: &'static Spec, tokens: impl IntoIterator<Item = Token>) -> Args {
        Args {
            spec,
            tokens: tokens.into_iter().collect(),
        }
    }

    fn usage(&self) -> ParseError {
        ParseError::Usage {
            usage: self.spec.usage,
        }
    }

    /// `command`, when no argument was given.
    pub(crate) fn none(self, command: Command) -> Result<Command, ParseError> {
        match self.tokens.is_empty() {
            true => Ok(command),
            false => Err(ParseError::NoArguments {
                cmd: self.spec.name,
            }),
        }
    }

    /// Exactly one argument, a key, made into a command by `make`.
    pub(crate) fn key_only(mut self, make: fn(UserKey) -> Command) -> Result<Command, ParseError> {
        let key = self.key()?;
        self.end(make(key))
    }

    /// Exactly one argument, a word (a path, a filter), made into a
    /// command by `make`.
    pub(crate) fn one_word(mut self, make: fn(String) -> Command) -> Result<Command, ParseError> {
        let word = self.next()?.text;
        self.end(make(word))
    }

    /// Exactly one argument, a content key (a bare `Qm...`/`baf...` word is
    /// a CID: [`UserKey::parse_content`]), made into a command by `make`.
    pub(crate) fn content_key_only(
        mut self,
        make: fn(UserKey) -> Command,
    ) -> Result<Command, ParseError> {
        let key = UserKey::parse_content(&self.next()?.text)?;
        self.end(make(key))
    }

    /// `value`, when every argument has been used.
    pub(crate) fn end(self, value: Command) -> Result<Command, ParseError> {
        match self.tokens.is_empty() {
            true => Ok(value),
            false => Err(self.usage()),
        }
    }

    pub(crate) fn next(&mut self) -> Result<Token, ParseError> {
        self.tokens.pop_front().ok_or_else(|| self.usage())
    }

    /// Takes the option `name` (an unquoted word, anywhere) and the word
    /// after it out of the arguments; `what` names that word in the error
    /// when it is missing.
    pub(crate) fn take_option(
        &mut self,
        name: &'static str,
        what: &'static str,
    ) -> Result<Option<String>, ParseError> {
        let Some(at) = self.tokens.iter().position(|t| !t.quoted && t.text == name) else {
            return Ok(None);
        };
        self.tokens.remove(at);
        match self.tokens.remove(at) {
            Some(t) => Ok(Some(t.text)),
            None => Err(ParseError::OptionValue { option: name, what }),
        }
    }

    /// Takes the unquoted word `name` when it is the next argument.
    pub(crate) fn take_flag(&mut self, name: &str) -> bool {
        let here = self
            .tokens
            .front()
            .is_some_and(|t| !t.quoted && t.text == name);
        if here {
            self.tokens.pop_front();
        }
        here
    }

    /// The next argument, as a key.
    pub(crate) fn key(&mut self) -> Result<UserKey, ParseError> {
        Ok(UserKey::parse(&self.next()?.text)?)
    }

    /// A trailing `--quorum N|all`, taken off the end; the default without.
    fn quorum(&mut self) -> Result<Quorum, ParseError> {
        let option = |t: Option<&Token>| t.is_some_and(|t| !t.quoted && t.text == QUORUM_OPTION);
        let n = self.tokens.len();
        if option(self.tokens.back()) {
            return Err(ParseError::QuorumMissing);
        }
        if n < 2 || !option(self.tokens.get(n - 2)) {
            return Ok(Quorum::Default);
        }
        let text = self.tokens.pop_back().map(|t| t.text).unwrap_or_default();
        self.tokens.pop_back();
        if text.eq_ignore_ascii_case("all") {
            return Ok(Quorum::All);
        }
        text.parse::<NonZeroUsize>()
            .map(Quorum::N)
            .map_err(|_| ParseError::Quorum { text })
    }

    /// The remaining arguments as one value (see the module documentation).
    fn value(&mut self) -> Result<String, ParseError> {
        let Some(first) = self.tokens.pop_front() else {
            return Err(ParseError::MissingValue {
                usage: self.spec.usage,
            });
        };
        let mut value = first.text;
        for token in self.tokens.drain(..) {
            value.push_str(&token.gap);
            value.push_str(&token.text);
        }
        Ok(value)
    }
}

/// `put KEY VALUE [--quorum N|all]`.
pub(crate) fn put(mut args: Args) -> Result<Command, ParseError> {
    let quorum = args.quorum()?;
    let key = args.key()?;
    let value = args.value()?;
    Ok(Command::Put { key, value, quorum })
}

/// `get KEY [--quorum N|all]`.
pub(crate) fn get(mut args: Args) -> Result<Command, ParseError> {
    let quorum = args.quorum()?;
    let key = args.key()?;
    args.end(Command::Get { key, quorum })
}

/// `dial ADDR|PEER_ID`.
pub(crate) fn dial(mut args: Args) -> Result<Command, ParseError> {
    let text = args.next()?.text;
    let target = text
        .parse()
        .map_err(|reason| ParseError::Address { reason })?;
    args.end(Command::Dial { target })
}

/// How an argument is written back into a command line (each with its
/// leading space), and whether it is the command's key.
pub(crate) trait LineArg {
    fn write_arg(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;

    fn as_key(&self) -> Option<&UserKey> {
        None
    }
}

impl LineArg for UserKey {
    fn write_arg(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " {self}")
    }

    fn as_key(&self) -> Option<&UserKey> {
        Some(self)
    }
}

/// A value: one word as it is, anything else as one quoted token, so it
/// reads back exactly.
impl LineArg for String {
    fn write_arg(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " {}", quote(self))
    }
}

impl LineArg for Quorum {
    fn write_arg(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quorum::Default => Ok(()),
            Quorum::All => write!(f, " {QUORUM_OPTION} all"),
            Quorum::N(n) => write!(f, " {QUORUM_OPTION} {n}"),
        }
    }
}

impl LineArg for DialTarget {
    fn write_arg(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " {}", quote(&self.to_string()))
    }
}
