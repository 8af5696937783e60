//! Replies rendered for people (friendly text) or for programs (`--json`:
//! exactly one JSON object per line, with at least `"cmd"` and `"ok"`, and
//! `"error"` on failure). Whether a command succeeded, and its error, are
//! decided here once, when the [`Reply`] is made ([`Reply::new`]); both
//! renderings only read that verdict.
//!
//! # Layout
//! - `json`: the `--json` objects (and the start-up events).
//! - `text`: the friendly text, with everything from users or peers
//!   escaped so it cannot fake a line or move the cursor.

mod json;
mod text;

use std::time::Duration;

use libp2p::PeerId;

use crate::command::{ParseError, Rejected};
use crate::keys::UserKey;
use crate::network::client::{
    Bucket, Close, GetReport, NodeInfo, PeerInfo, ProvidersReport, PutReport, Stats,
};

pub use json::{listening_event, metrics_event};
pub use text::show_value;

/// How replies are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Friendly text.
    Human,
    /// One JSON object per line.
    Json,
}

/// What a command produced.
#[derive(Debug)]
pub enum Body {
    /// `put`.
    Put(PutReport),
    /// `get` (no values: not found).
    Get(GetReport),
    /// `provide`.
    Provide(Duration),
    /// `providers`.
    Providers(ProvidersReport),
    /// `peers`.
    Peers(Vec<PeerInfo>),
    /// `id`.
    Id(NodeInfo),
    /// `routing`.
    Routing(Vec<Bucket>),
    /// `closest`.
    Closest(Vec<Close>),
    /// `dial`.
    Dial(PeerId),
    /// `bootstrap`: the routing table's size afterwards.
    Bootstrap(usize),
    /// `stats`.
    Stats(Stats),
    /// `help`.
    Help,
    /// `quit`.
    Quit,
}

/// Why a command failed: the `"error"` of its reply.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The line was not a command.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The node refused or could not do it.
    #[error(transparent)]
    Node(#[from] crate::Error),
    /// `get`: no peer asked had the key.
    #[error("not found")]
    NotFound,
    /// `put`: fewer peers than the quorum asked for stored it.
    #[error("quorum not met: stored locally, replicated to {replicated} peer(s)")]
    PutQuorum {
        /// How many did.
        replicated: usize,
    },
    /// `get`: fewer copies than the quorum asked for were found.
    #[error("quorum not met: found {copies} copies")]
    GetQuorum {
        /// How many were.
        copies: usize,
    },
}

/// The one decision of whether a command that ran succeeded.
fn verdict(body: &Body) -> Option<Failure> {
    match body {
        Body::Put(p) if !p.quorum_met => Some(Failure::PutQuorum {
            replicated: p.replicated,
        }),
        Body::Get(g) if g.values.is_empty() => Some(Failure::NotFound),
        Body::Get(g) if !g.quorum_met => Some(Failure::GetQuorum { copies: g.copies }),
        _ => None,
    }
}

/// The answer to one command line.
#[derive(Debug)]
pub struct Reply {
    cmd: String,
    key: Option<UserKey>,
    body: Option<Body>,
    failure: Option<Failure>,
}

impl Reply {
    /// The reply to command `cmd` (on `key`, if it takes one) that ran and
    /// gave `result`; whether it succeeded is decided here.
    pub fn new(cmd: &str, key: Option<UserKey>, result: Result<Body, Failure>) -> Reply {
        let (body, failure) = match result {
            Ok(body) => {
                let failure = verdict(&body);
                (Some(body), failure)
            }
            Err(failure) => (None, Some(failure)),
        };
        Reply {
            cmd: cmd.to_string(),
            key,
            body,
            failure,
        }
    }

    /// The reply to input that was not a command.
    pub fn rejected(rejected: Rejected) -> Reply {
        Reply::new(&rejected.cmd, None, Err(rejected.error.into()))
    }

    /// The command's name (`put`, `get`, ...; the first word when unknown).
    pub fn cmd(&self) -> &str {
        &self.cmd
    }

    /// The key the command acted on, as the user typed it.
    pub fn key(&self) -> Option<&UserKey> {
        self.key.as_ref()
    }

    /// What the command produced; `None` when it could not run.
    pub fn body(&self) -> Option<&Body> {
        self.body.as_ref()
    }

    /// Why it failed, if it did.
    pub fn failure(&self) -> Option<&Failure> {
        self.failure.as_ref()
    }

    /// Whether the command succeeded (the `"ok"` of its JSON).
    pub fn ok(&self) -> bool {
        self.failure.is_none()
    }

    /// Whether this is the answer to `quit`: the node should stop.
    pub fn is_quit(&self) -> bool {
        matches!(self.body, Some(Body::Quit))
    }

    /// Renders the reply: one JSON line, or text (possibly several lines).
    /// The result never ends with a newline.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => self.to_json().to_string(),
            Format::Human => text::render(self),
        }
    }

    /// The JSON object for this reply.
    pub fn to_json(&self) -> serde_json::Value {
        json::render(self)
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// The length in bits of the prefix a peer's ID hash shares with a key's
/// hash: 256 for the same hash, else 255 - log2(XOR distance).
fn common_prefix_bits(close: &Close) -> u32 {
    close.bucket.map_or(256, |log2| 255 - log2.min(255))
}

#[cfg(test)]
mod tests;
