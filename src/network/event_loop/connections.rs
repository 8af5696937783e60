//! Connections that failed to open, both ways: counted by cause
//! ([`Cause`]), answered to a `dial` in one line, logged where a person
//! can act (rate-limited per remote address: a remote peer must not
//! control the log's volume), and two causes looked at closely.
//!
//! - A swarm key mismatch is said on both sides: the dialer's `dial` error
//!   names it, and the listener logs it at info.
//! - A connection to this node's own peer ID is either this node dialling
//!   itself (its address in its own bootstrap list, under a name) or
//!   another node using the same identity (a restored copy of the data
//!   directory running beside its original). A self-dial shows on both
//!   ends in this process within moments: an outgoing and an incoming
//!   failure. One end alone, after [`CLASH_WINDOW`], is another node with
//!   our peer ID: warned about, on each node.

use std::time::{Duration, Instant};

use libp2p::swarm::{ConnectionId, DialError, ListenError};
use libp2p::{Multiaddr, PeerId};
use tracing::{debug, info, warn};

use super::EventLoop;
use crate::address::{is_own_address, strip_p2p};
use crate::error::Error;
use crate::network::cause::Cause;
use crate::network::cause::error_chain;
use crate::network::ratelimit::Limiter;

/// How long the two ends of a self-dial may be apart.
const CLASH_WINDOW: Duration = Duration::from_secs(2);
/// How often one remote address's failures are logged.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// A connection that reached this node's own peer ID, not yet explained.
struct Unmatched {
    at: Instant,
    /// Our dial (with its id), or `None` for an incoming connection.
    dial: Option<ConnectionId>,
    addr: Multiaddr,
}

/// Connections to our own peer ID waiting for their other end, and the
/// log limiter.
pub(super) struct Failures {
    unmatched: Vec<Unmatched>,
    log: Limiter<String>,
}

impl Default for Failures {
    fn default() -> Self {
        Failures {
            unmatched: Vec::new(),
            log: Limiter::new(LOG_EVERY),
        }
    }
}

impl EventLoop {
    fn count_failure(&self, direction: &'static str, cause: Cause) {
        if let Some(m) = &self.metrics {
            m.connection_error(direction, cause.label());
        }
    }

    pub(super) fn dial_failed(
        &mut self,
        connection_id: ConnectionId,
        peer_id: Option<PeerId>,
        error: &DialError,
    ) {
        let why = dial_error(error);
        if let Some(reply) = self.pending_dial.remove(&connection_id) {
            let _ = reply.send(Err(Error::Dial(why.clone())));
        }
        if let DialError::LocalPeerId { address } = error {
            self.own_peer_id(Some(connection_id), address.clone());
            return;
        }
        self.count_failure("outgoing", Cause::of_dial(error));
        if !self.join_failed(connection_id, &why) {
            debug!(peer = ?peer_id, error = %why, "outgoing connection failed");
        }
    }

    pub(super) fn incoming_failed(&mut self, from: Multiaddr, error: &ListenError) {
        if let ListenError::LocalPeerId { .. } = error {
            self.own_peer_id(None, from);
            return;
        }
        let cause = Cause::of_listen(error);
        self.count_failure("incoming", cause);
        let text = error_chain(error);
        if cause == Cause::SwarmKeyMismatch && self.connection_failures.log.due(ip_of(&from)) {
            info!(from = %from, "a peer tried to connect without this network's swarm key (it uses another key, or none); refused (logged at most once a minute per address)");
        } else {
            debug!(from = %from, error = %text, "incoming connection failed");
        }
    }

    /// A connection reached our own peer ID: a self-dial if its other end
    /// shows too, else (after [`CLASH_WINDOW`]) a clash.
    fn own_peer_id(&mut self, dial: Option<ConnectionId>, addr: Multiaddr) {
        if let Some(id) = dial
            && is_own_address(&addr, &self.listening)
        {
            self.count_failure("outgoing", Cause::SelfDial);
            return self.join_is_self(id, &addr);
        }
        let now = Instant::now();
        let other_end = self.connection_failures.unmatched.iter().position(|u| {
            u.dial.is_some() != dial.is_some() && now.saturating_duration_since(u.at) < CLASH_WINDOW
        });
        let Some(i) = other_end else {
            self.connection_failures.unmatched.push(Unmatched {
                at: now,
                dial,
                addr,
            });
            return;
        };
        let other = self.connection_failures.unmatched.remove(i);
        self.count_failure("outgoing", Cause::SelfDial);
        let (id, addr) = match (dial, other.dial) {
            (Some(id), _) => (id, addr),
            (None, Some(id)) => (id, other.addr),
            (None, None) => return,
        };
        self.join_is_self(id, &addr);
    }

    /// Every tick: what waited longer than [`CLASH_WINDOW`] for its other
    /// end is another node with this node's peer ID.
    pub(super) fn clashes_tick(&mut self, now: Instant) {
        let (old, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.connection_failures.unmatched)
            .into_iter()
            .partition(|u| now.saturating_duration_since(u.at) >= CLASH_WINDOW);
        self.connection_failures.unmatched = keep;
        for u in old {
            let direction = if u.dial.is_some() {
                "outgoing"
            } else {
                "incoming"
            };
            self.count_failure(direction, Cause::SamePeerId);
            if self
                .connection_failures
                .log
                .due(format!("clash {}", ip_of(&u.addr)))
            {
                let me = *self.swarm.local_peer_id();
                match u.dial {
                    Some(_) => {
                        warn!(address = %u.addr, peer = %me, "another node at this address answers with this node's own peer ID: two nodes share one identity (a copy of this data directory running elsewhere?); give each node its own data directory")
                    }
                    None => {
                        warn!(from = %u.addr, peer = %me, "a node connected from this address with this node's own peer ID: two nodes share one identity (a copy of this data directory running elsewhere?); give each node its own data directory")
                    }
                }
            }
            if let Some(id) = u.dial {
                self.join_drop_clash(id);
            }
        }
    }
}

/// The address without its port (an incoming connection's port is
/// ephemeral), for rate-limiting.
fn ip_of(addr: &Multiaddr) -> String {
    addr.iter()
        .next()
        .map_or_else(|| addr.to_string(), |p| p.to_string())
}

/// A failed dial, in one line a person can act on.
fn dial_error(error: &DialError) -> String {
    match error {
        DialError::Transport(errors) => {
            let parts: Vec<String> = errors
                .iter()
                .map(|(addr, e)| {
                    let addr = strip_p2p(addr.clone());
                    let chain = error_chain(e);
                    debug!(%addr, error = %chain, "dial failed");
                    let text = match Cause::of(e) {
                        Cause::SwarmKeyMismatch => crate::network::pnet_check::KeyMismatch::find(e)
                            .map_or_else(|| transport_reason(&addr, &chain), |m| m.to_string()),
                        _ => transport_reason(&addr, &chain),
                    };
                    format!("{addr}: {text}")
                })
                .collect();
            parts.join("; ")
        }
        DialError::LocalPeerId { address } => {
            format!("{address} answers with this node's own peer ID")
        }
        DialError::WrongPeerId { obtained, address } => {
            format!("{address} is peer {obtained}, not the one asked for")
        }
        DialError::NoAddresses => "no known address for that peer".into(),
        other => error_chain(other),
    }
}

/// The reason a transport gave for a failed dial, in a few words.
pub(crate) fn transport_reason(addr: &Multiaddr, chain: &str) -> String {
    use libp2p::multiaddr::Protocol;
    if let Some(i) = chain.find("swarm key mismatch") {
        return chain[i..].to_string();
    }
    let lower = chain.to_lowercase();
    for (needle, reason) in [
        ("connection refused", "connection refused"),
        ("timed out", "timed out"),
        ("no route to host", "no route to host"),
        ("network is unreachable", "network unreachable"),
        ("connection reset", "connection reset"),
    ] {
        if lower.contains(needle) {
            return reason.to_string();
        }
    }
    let host = addr.iter().find_map(|p| match p {
        Protocol::Dns(h) | Protocol::Dns4(h) | Protocol::Dns6(h) => Some(h.to_string()),
        _ => None,
    });
    if let Some(host) = host {
        return format!("cannot resolve host \"{host}\"");
    }
    lower
        .rsplit(": ")
        .find(|part| !part.trim().is_empty())
        .unwrap_or(&lower)
        .trim()
        .trim_start_matches("- ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Multiaddr {
        s.parse().unwrap()
    }

    #[test]
    fn dial_failures_read_as_one_short_reason() {
        let tcp = a("/ip4/127.0.0.1/tcp/34999");
        assert_eq!(
            transport_reason(
                &tcp,
                "Failed to negotiate transport protocol(s): [(/ip4/127.0.0.1/tcp/34999: : Connection refused (os error 111))]"
            ),
            "connection refused"
        );
        let dns = a("/dns/nodex/tcp/4001");
        let r = transport_reason(
            &dns,
            ": Multiple dial errors occurred:  - no connections available",
        );
        assert_eq!(r, "cannot resolve host \"nodex\"");
        let r = transport_reason(
            &dns,
            "proto error: no record found for Query { name: Name(\"nodex.\"), query_type: AAAA }",
        );
        assert!(
            !r.contains('\n') && r.starts_with("cannot resolve host"),
            "{r}"
        );
        assert_eq!(
            transport_reason(&tcp, "a: b: the handshake failed"),
            "the handshake failed"
        );
    }
}
