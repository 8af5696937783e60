//! Why a connection failed, in one word: the `cause` label of
//! `p2pnode_connection_errors_total`, and what the logs and dial errors
//! say. A swarm key mismatch is found by type ([`KeyMismatch`]); the
//! others by the operating system's and libp2p's own words.

use libp2p::swarm::{DialError, ListenError};

use super::pnet_check::KeyMismatch;

/// Why a connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The peer uses another swarm key, or none (private networks).
    SwarmKeyMismatch,
    /// Nothing listens there (TCP RST).
    Refused,
    /// No answer in time.
    Timeout,
    /// No route to the address.
    Unreachable,
    /// The name did not resolve.
    Dns,
    /// The address is this node itself.
    SelfDial,
    /// Another node answered with this node's own peer ID.
    SamePeerId,
    /// A different peer than the one asked for answered.
    WrongPeerId,
    /// The security or multiplexer handshake failed.
    Handshake,
    /// The connection was denied (limits) or aborted.
    Denied,
    /// Anything else.
    Other,
}

impl Cause {
    /// Every cause, for metrics that start at zero.
    pub const ALL: [Cause; 11] = [
        Cause::SwarmKeyMismatch,
        Cause::Refused,
        Cause::Timeout,
        Cause::Unreachable,
        Cause::Dns,
        Cause::SelfDial,
        Cause::SamePeerId,
        Cause::WrongPeerId,
        Cause::Handshake,
        Cause::Denied,
        Cause::Other,
    ];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Cause::SwarmKeyMismatch => "swarm_key_mismatch",
            Cause::Refused => "refused",
            Cause::Timeout => "timeout",
            Cause::Unreachable => "unreachable",
            Cause::Dns => "dns",
            Cause::SelfDial => "self_dial",
            Cause::SamePeerId => "same_peer_id",
            Cause::WrongPeerId => "wrong_peer_id",
            Cause::Handshake => "handshake",
            Cause::Denied => "denied",
            Cause::Other => "other",
        }
    }

    /// The cause of a transport error, from its type or its text.
    pub fn of(e: &(dyn std::error::Error + 'static)) -> Cause {
        if KeyMismatch::find(e).is_some() {
            return Cause::SwarmKeyMismatch;
        }
        Cause::of_text(&error_chain(e))
    }

    /// The cause named in an error's text.
    pub fn of_text(text: &str) -> Cause {
        let lower = text.to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
        if has(&["swarm key mismatch"]) {
            Cause::SwarmKeyMismatch
        } else if has(&["connection refused"]) {
            Cause::Refused
        } else if has(&["timed out", "timeout"]) {
            Cause::Timeout
        } else if has(&["no route to host", "network is unreachable", "unreachable"]) {
            Cause::Unreachable
        } else if has(&["failed to lookup address", "no record found", "resolve"]) {
            Cause::Dns
        } else if has(&["noise", "multistream", "negotiat", "handshake", "yamux"]) {
            Cause::Handshake
        } else {
            Cause::Other
        }
    }

    /// The cause of a failed dial.
    pub fn of_dial(e: &DialError) -> Cause {
        match e {
            DialError::LocalPeerId { .. } => Cause::SelfDial,
            DialError::WrongPeerId { .. } => Cause::WrongPeerId,
            DialError::Denied { .. } | DialError::Aborted => Cause::Denied,
            DialError::Transport(errors) => errors
                .iter()
                .map(|(_, e)| Cause::of(e))
                .find(|c| *c != Cause::Other)
                .unwrap_or(Cause::Other),
            _ => Cause::Other,
        }
    }

    /// The cause of a failed incoming connection.
    pub fn of_listen(e: &ListenError) -> Cause {
        match e {
            ListenError::LocalPeerId { .. } => Cause::SelfDial,
            ListenError::WrongPeerId { .. } => Cause::WrongPeerId,
            ListenError::Denied { .. } | ListenError::Aborted => Cause::Denied,
            ListenError::Transport(t) => Cause::of(t),
        }
    }
}

/// An error with its sources, on one line: what logs and dial errors
/// show, and the text [`Cause::of_text`] reads.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !text.is_empty() && !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_named_from_the_errors_words() {
        assert_eq!(
            Cause::of_text("Connection refused (os error 111)"),
            Cause::Refused
        );
        assert_eq!(Cause::of_text("dial timed out"), Cause::Timeout);
        assert_eq!(
            Cause::of_text("failed to lookup address information"),
            Cause::Dns
        );
        assert_eq!(Cause::of_text("noise: decrypt error"), Cause::Handshake);
        assert_eq!(Cause::of_text("what"), Cause::Other);
        let e = std::io::Error::other(KeyMismatch::Garbled);
        assert_eq!(Cause::of(&e), Cause::SwarmKeyMismatch);
        assert_eq!(Cause::SwarmKeyMismatch.label(), "swarm_key_mismatch");
    }
}
