//! [`ParseError`]: why a command line (or a `ctl` argument list) is not a
//! command. Every message is one line a person can act on; text the user
//! typed is shown quoted, so it cannot break the line.

use crate::keys::KeyError;
use crate::quote::{escape_controls, quote};

/// Why input is not a command.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// A line or list with no command in it.
    #[error("empty command")]
    Empty,
    /// A quote opened and never closed.
    #[error("unterminated {quote} quote: close it, or put a backslash before it")]
    Unterminated {
        /// The quote character (`"` or `'`).
        quote: char,
    },
    /// A backslash inside double quotes followed by something it cannot escape.
    #[error(
        "unknown escape '{}' in double quotes: use \\\" \\\\ \\n \\t \\r \\xNN or \\u{{N}}",
        escape_controls(.escape)
    )]
    BadEscape {
        /// The backslash and what followed it.
        escape: String,
    },
    /// The first word is no command's name or alias.
    #[error("unknown command {}; type 'help' for the list", quote(.word))]
    Unknown {
        /// The word as given.
        word: String,
    },
    /// Missing or extra arguments.
    #[error("usage: {usage}")]
    Usage {
        /// The command's usage line.
        usage: &'static str,
    },
    /// A command that stores a value was given none.
    #[error("missing VALUE: {usage}")]
    MissingValue {
        /// The command's usage line.
        usage: &'static str,
    },
    /// Arguments given to a command that takes none.
    #[error("'{cmd}' takes no arguments")]
    NoArguments {
        /// The command's name.
        cmd: &'static str,
    },
    /// An option given without its value (`--svg` with no FILE).
    #[error("{option} needs {what}")]
    OptionValue {
        /// The option.
        option: &'static str,
        /// What must follow it.
        what: &'static str,
    },
    /// Text given where a peer ID must be.
    #[error("not a peer ID: {} ({})", quote(.text), escape_controls(.reason))]
    PeerId {
        /// The text.
        text: String,
        /// Why it is not one.
        reason: String,
    },
    /// `--quorum` with no count after it.
    #[error("--quorum needs a number or 'all'")]
    QuorumMissing,
    /// `--quorum` followed by something that is not a count.
    #[error("bad quorum {}: a number from 1, or 'all'", quote(.text))]
    Quorum {
        /// What followed `--quorum`.
        text: String,
    },
    /// The key cannot be used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The address given to `dial` cannot be used.
    #[error("{}", escape_controls(.reason))]
    Address {
        /// Why not (from [`Target`](crate::bootstrap::Target)'s parser).
        reason: String,
    },
}

/// A line or argument list that is not a command: the word it started with
/// (the JSON `"cmd"` of the error reply) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// The command's name when it was recognised, else the first word.
    pub cmd: String,
    /// What is wrong.
    pub error: ParseError,
}
