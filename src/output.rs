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
//! - `trace`: `trace` as text and JSON.
//! - [`svg`]: the pictures `--svg FILE` writes ([`Picture`]).

use std::time::Duration;

mod json;
mod ops;
pub mod svg;
pub mod text;
mod trace;

use libp2p::PeerId;

use crate::command::error::{ParseError, Rejected};
use crate::keys::UserKey;
use crate::reports::{
    Bucket, Close, GetReport, NodeInfo, PeerInfo, ProvideReport, ProvidersReport, PutReport, Stats,
};

pub use json::{listening_event, metrics_event};
pub use svg::Picture;
pub use text::show_value;

pub use crate::config::Format;

/// What a command produced.
#[derive(Debug)]
pub enum Body {
    /// `put`.
    Put(PutReport),
    /// `get` (no values: not found).
    Get(GetReport),
    /// `provide`.
    Provide(ProvideReport),
    /// `providers`.
    Providers(ProvidersReport),
    /// `trace`.
    Trace(Box<crate::reports::trace::TraceReport>),
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
    /// `health`.
    Health(crate::health::Health),
    /// `delete`: whether this node held the key.
    Delete(bool),
    /// `compact`.
    Compact(crate::store::Compacted),
    /// `backup`.
    Backup(crate::store::BackedUp),
    /// `config`.
    Config(Box<crate::Config>),
    /// `log-level`: the filter now in force.
    LogLevel(String),
    /// `help`.
    Help(Help),
    /// `quit`.
    Quit,
}

/// What `help` shows: every command and how keys and values are written,
/// as the command table ([`crate::command::COMMANDS`]) describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Help {
    /// The commands, in the table's order.
    pub commands: Vec<CommandHelp>,
    /// The quoting rules, one line each.
    pub quoting: &'static [&'static str],
}

/// One command's row of [`Help`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandHelp {
    /// Its name, as typed.
    pub name: &'static str,
    /// Other names accepted for it.
    pub aliases: &'static [&'static str],
    /// How it is written, with its arguments.
    pub usage: &'static str,
    /// What it does, in one line.
    pub about: &'static str,
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
    /// `get`: no usable copy, but peers answered with copies too large
    /// for this node.
    #[error(
        "not found: {oversized} peer(s) answered with a value over this node's limit (--max-value-size)"
    )]
    Oversized {
        /// How many peers did.
        oversized: usize,
    },
    /// `put`: fewer peers than the quorum asked for stored it.
    #[error("quorum not met: stored locally, replicated to {replicated} peer(s){refused}")]
    PutQuorum {
        /// How many did.
        replicated: usize,
        /// Why others refused, when they said (`; N refused: reason`).
        refused: String,
    },
    /// `health`: a check failed (the reasons, joined).
    #[error("unhealthy: {0}")]
    Unhealthy(String),
    /// `--svg FILE`: the picture could not be written (the reply has the
    /// command's answer all the same).
    #[error("cannot write the picture to {path}: {reason}")]
    Picture {
        /// The file.
        path: String,
        /// Why.
        reason: String,
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
            refused: refusals(p).map(|r| format!("; {r}")).unwrap_or_default(),
        }),
        Body::Get(g) if g.values.is_empty() && g.oversized > 0 => Some(Failure::Oversized {
            oversized: g.oversized,
        }),
        Body::Get(g) if g.values.is_empty() => Some(Failure::NotFound),
        Body::Get(g) if !g.quorum_met => Some(Failure::GetQuorum { copies: g.copies }),
        Body::Health(h) if !h.healthy => Some(Failure::Unhealthy(h.reasons())),
        _ => None,
    }
}

/// "N refused: reason" for a put some peers refused (the most common
/// reason, and how many gave another).
pub(crate) fn refusals(p: &PutReport) -> Option<String> {
    let first = p.refused.first()?;
    let same = p
        .refused
        .iter()
        .filter(|r| r.reason == first.reason)
        .count();
    let others = p.refused.len() - same;
    let mut s = format!("{} refused: {}", p.refused.len(), first.reason);
    if others > 0 {
        s.push_str(&format!(" ({others} for other reasons)"));
    }
    Some(s)
}

/// The answer to one command line.
#[derive(Debug)]
pub struct Reply {
    cmd: String,
    key: Option<UserKey>,
    body: Option<Body>,
    failure: Option<Failure>,
    picture: Option<Picture>,
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
            picture: None,
        }
    }

    /// The reply with the picture its command wrote (`--svg FILE`); a
    /// picture that could not be written makes the reply a failure.
    pub fn with_picture(mut self, picture: Option<Picture>) -> Reply {
        if let Some(Picture {
            path,
            written: Err(reason),
        }) = &picture
            && self.failure.is_none()
        {
            self.failure = Some(Failure::Picture {
                path: path.display().to_string(),
                reason: reason.clone(),
            });
        }
        self.picture = picture;
        self
    }

    /// The picture written for this reply, if one was asked for.
    pub fn picture(&self) -> Option<&Picture> {
        self.picture.as_ref()
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

    /// The outcome in one word, the `outcome` label of the
    /// `p2pnode_commands_total` metric: `ok`, or why the command failed.
    pub fn outcome(&self) -> &'static str {
        use crate::Error;
        match &self.failure {
            None => "ok",
            Some(Failure::Parse(_)) => "invalid",
            Some(Failure::NotFound | Failure::Oversized { .. }) => "not_found",
            Some(Failure::PutQuorum { .. } | Failure::GetQuorum { .. }) => "quorum_not_met",
            Some(Failure::Unhealthy(_)) => "unhealthy",
            Some(Failure::Picture { .. }) => "picture_not_written",
            Some(Failure::Node(e)) => match e {
                Error::Invalid(_) => "invalid",
                Error::Refused(_) => "refused",
                Error::StoreWrite { .. } => "store_error",
                Error::Stopped => "stopped",
                Error::Dial(_) => "dial_error",
                Error::Network(_) => "network_error",
            },
        }
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

#[cfg(test)]
mod tests;
