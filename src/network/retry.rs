//! [`Retries`]: the bootstrap peers given by the user, dialled until they
//! answer, with exponential backoff, so a node started before its neighbour
//! (or while the network is down) keeps serving and joins when it can.

use std::time::{Duration, Instant};

use libp2p::Swarm;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, DialError};
use tracing::{debug, info, warn};

use super::behaviour::Behaviour;
use crate::bootstrap::Target;

/// The first wait after a failed dial; doubled after each failure.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between two dials of one bootstrap peer.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

#[derive(Debug)]
enum State {
    Waiting { next: Instant, backoff: Duration },
    Dialing { id: ConnectionId, backoff: Duration },
    Connected,
}

/// The bootstrap targets and where each one stands.
#[derive(Debug)]
pub struct Retries {
    targets: Vec<(Target, State)>,
}

impl Retries {
    /// All targets due for a dial now; the same address given twice is
    /// dialled once.
    pub fn new(mut targets: Vec<Target>) -> Self {
        let now = Instant::now();
        let mut seen = Vec::new();
        targets.retain(|t| {
            if seen.contains(&t.addr) {
                return false;
            }
            seen.push(t.addr.clone());
            true
        });
        Retries {
            targets: targets
                .into_iter()
                .map(|t| {
                    (
                        t,
                        State::Waiting {
                            next: now,
                            backoff: FIRST_BACKOFF,
                        },
                    )
                })
                .collect(),
        }
    }

    /// Whether any bootstrap peer was configured.
    pub fn has_targets(&self) -> bool {
        !self.targets.is_empty()
    }

    /// The targets given by host name (`/dns/...`).
    pub fn named_targets(&self) -> Vec<Target> {
        self.targets
            .iter()
            .map(|(t, _)| t)
            .filter(|t| {
                t.addr.iter().any(|p| {
                    matches!(
                        p,
                        libp2p::multiaddr::Protocol::Dns(_)
                            | libp2p::multiaddr::Protocol::Dns4(_)
                            | libp2p::multiaddr::Protocol::Dns6(_)
                    )
                })
            })
            .cloned()
            .collect()
    }

    /// How many bootstrap peers there are to join through.
    pub fn count(&self) -> usize {
        self.targets.len()
    }

    /// Drops the targets `is_own` says are this node's own address;
    /// returns them.
    pub fn drop_where(&mut self, mut is_own: impl FnMut(&Target) -> bool) -> Vec<Target> {
        let mut dropped = Vec::new();
        self.targets.retain(|(t, _)| {
            if is_own(t) {
                dropped.push(t.clone());
                false
            } else {
                true
            }
        });
        dropped
    }

    /// Drops the target whose dial `id` reached this node itself.
    pub fn drop_dial(&mut self, id: ConnectionId) -> Option<Target> {
        let i = self
            .targets
            .iter()
            .position(|(_, s)| matches!(s, State::Dialing { id: d, .. } if *d == id))?;
        Some(self.targets.remove(i).0)
    }

    /// Whether every target has failed at least once since the last reset
    /// (or there are none): nothing can be joined through right now.
    pub fn all_failed(&self) -> bool {
        self.targets
            .iter()
            .all(|(_, s)| matches!(s, State::Waiting { backoff, .. } if *backoff > FIRST_BACKOFF))
    }

    /// Whether a dial of a target is under way.
    pub fn any_dialing(&self) -> bool {
        self.targets
            .iter()
            .any(|(_, s)| matches!(s, State::Dialing { .. }))
    }

    /// Dials every target whose wait is over.
    pub fn dial_due(&mut self, swarm: &mut Swarm<Behaviour>) {
        let now = Instant::now();
        for (target, state) in &mut self.targets {
            let State::Waiting { next, backoff } = *state else {
                continue;
            };
            if next > now {
                continue;
            }
            let opts = match target.peer {
                Some(peer) => DialOpts::peer_id(peer)
                    .addresses(vec![target.addr.clone()])
                    .condition(PeerCondition::DisconnectedAndNotDialing)
                    .build(),
                None => DialOpts::unknown_peer_id()
                    .address(target.addr.clone())
                    .build(),
            };
            let id = opts.connection_id();
            match swarm.dial(opts) {
                Ok(()) => *state = State::Dialing { id, backoff },
                Err(DialError::DialPeerConditionFalse(_)) => {
                    // Already connected (or dialling) to that peer.
                    *state = State::Connected;
                }
                Err(e) => {
                    warn!(peer = %target, error = %e, retry_in = ?backoff, "cannot dial bootstrap peer");
                    *state = State::Waiting {
                        next: now + backoff,
                        backoff: (backoff * 2).min(MAX_BACKOFF),
                    };
                }
            }
        }
    }

    /// A connection was established; true when it was one of our dials.
    pub fn connected(&mut self, id: ConnectionId) -> bool {
        for (_, state) in &mut self.targets {
            if matches!(state, State::Dialing { id: d, .. } if *d == id) {
                *state = State::Connected;
                return true;
            }
        }
        false
    }

    /// A dial failed; true when it was one of ours (and it is rescheduled).
    pub fn failed(&mut self, id: ConnectionId, error: &str) -> bool {
        for (target, state) in &mut self.targets {
            if let State::Dialing { id: d, backoff } = *state
                && d == id
            {
                if backoff == FIRST_BACKOFF {
                    warn!(peer = %target, error, "bootstrap peer unreachable; the node keeps serving and retries with backoff");
                } else {
                    debug!(peer = %target, error, retry_in = ?backoff, "bootstrap peer still unreachable");
                }
                *state = State::Waiting {
                    next: Instant::now() + backoff,
                    backoff: (backoff * 2).min(MAX_BACKOFF),
                };
                return true;
            }
        }
        false
    }

    /// Dials every target again now (lost all peers, or `bootstrap` asked).
    pub fn reset(&mut self, swarm: &mut Swarm<Behaviour>) {
        let now = Instant::now();
        let mut any = false;
        for (_, state) in &mut self.targets {
            if !matches!(state, State::Dialing { .. }) {
                *state = State::Waiting {
                    next: now,
                    backoff: FIRST_BACKOFF,
                };
                any = true;
            }
        }
        if any {
            info!("dialling bootstrap peers");
            self.dial_due(swarm);
        }
    }
}
