//! What `trace` answers: every request of one iterative Kademlia lookup,
//! round by round, as the lookup recorded it ([`crate::dht::lookup::Step`]).
//!
//! The requests are real: the event loop sends each one itself as a
//! `/ipfs/kad/1.0.0` request (libp2p request-response over p2pnode's codec)
//! to the peer named, whatever its implementation (p2pnode, go-libp2p,
//! py-libp2p), and the lookup records the answer or failure of each. So a
//! trace shows the wire traffic of the lookup, not a simulation of it.

use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};

use crate::dht::lookup::{Lookup, Outcome, Phase};
use crate::dht::{Distance, Point, RecordKey};

/// What a trace looks for, and so which request it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceTarget {
    /// A record: GET_VALUE, stopping at the first peer that holds it
    /// (Kademlia's FIND_VALUE).
    Value(RecordKey),
    /// A peer: FIND_NODE for its ID, run until the k closest peers have
    /// answered.
    Peer(PeerId),
    /// Provider records: GET_PROVIDERS, run until the k closest peers have
    /// answered.
    Providers(RecordKey),
}

impl TraceTarget {
    /// The bytes the lookup's target point is the SHA-256 of.
    pub fn key_bytes(&self) -> Vec<u8> {
        match self {
            TraceTarget::Value(k) | TraceTarget::Providers(k) => k.to_vec(),
            TraceTarget::Peer(p) => p.to_bytes(),
        }
    }

    /// The request sent, by its name in the kad-dht spec.
    pub fn request(&self) -> &'static str {
        match self {
            TraceTarget::Value(_) => "GET_VALUE",
            TraceTarget::Peer(_) => "FIND_NODE",
            TraceTarget::Providers(_) => "GET_PROVIDERS",
        }
    }
}

/// One request of the lookup.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceStep {
    /// The peer asked.
    pub peer: PeerId,
    /// Its XOR distance to the target.
    pub distance: Distance,
    /// The peers its answer named (closer peers, up to its k).
    pub returned: Vec<PeerId>,
    /// Whether its answer held what the trace looks for (the value, the
    /// peer, providers).
    pub had_value: bool,
    /// Round-trip time, when it answered or failed.
    pub rtt: Option<Duration>,
    /// Why it gave no answer: a failure or timeout, or still waiting when
    /// the trace ended.
    pub error: Option<String>,
}

/// One round of the lookup.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceRound {
    /// Its number, from 1.
    pub round: u32,
    /// Why it asked whom it asked (see [`Phase`]).
    pub phase: Phase,
    /// The requests it sent, closest peer first.
    pub queried: Vec<TraceStep>,
}

impl TraceRound {
    /// The smallest distance among the peers asked in this round.
    pub fn closest(&self) -> Option<Distance> {
        self.queried.iter().map(|s| s.distance).min()
    }
}

/// What one `trace` saw.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceReport {
    /// What was looked for.
    pub target: TraceTarget,
    /// The target's point in the ID space (SHA-256 of its bytes).
    pub point: Point,
    /// The node that ran the lookup.
    pub from: PeerId,
    /// Kademlia's k and alpha the lookup ran with.
    pub k: usize,
    /// See `k`.
    pub alpha: usize,
    /// Every round, in order.
    pub rounds: Vec<TraceRound>,
    /// The first peer whose answer held what was looked for, and its round.
    pub holder: Option<(PeerId, u32)>,
    /// The value the holder returned (value traces).
    pub value: Option<Vec<u8>>,
    /// Every provider named (provider traces).
    pub providers: Vec<PeerId>,
    /// The addresses learnt for the peer looked for (peer traces).
    pub addrs: Vec<Multiaddr>,
    /// How long the trace took.
    pub elapsed: Duration,
}

impl TraceReport {
    /// How many requests the lookup sent.
    pub fn peers_queried(&self) -> usize {
        self.rounds.iter().map(|r| r.queried.len()).sum()
    }
}

/// The lookup's steps grouped into rounds, each round closest peer first.
/// A request still running at `now` is reported with no round-trip time
/// and an error saying how long it had waited.
pub fn rounds(lookup: &Lookup, now: Instant) -> Vec<TraceRound> {
    let mut rounds: Vec<TraceRound> = (1..=lookup.rounds())
        .map(|round| TraceRound {
            round,
            phase: lookup.phase(round).unwrap_or(Phase::Converging),
            queried: Vec::new(),
        })
        .collect();
    for step in lookup.steps() {
        let (returned, had_value, rtt, error) = match &step.outcome {
            Some((
                rtt,
                Outcome::Answered {
                    returned,
                    had_value,
                },
            )) => (returned.clone(), *had_value, Some(*rtt), None),
            Some((rtt, Outcome::Failed(why))) => (Vec::new(), false, Some(*rtt), Some(why.clone())),
            None => {
                let waited = now.saturating_duration_since(step.sent).as_millis();
                let why = format!("no answer yet after {waited} ms when the trace ended");
                (Vec::new(), false, None, Some(why))
            }
        };
        let Some(r) = rounds.get_mut(step.round.saturating_sub(1) as usize) else {
            continue;
        };
        r.queried.push(TraceStep {
            peer: step.peer,
            distance: step.distance,
            returned,
            had_value,
            rtt,
            error,
        });
    }
    for r in &mut rounds {
        r.queried.sort_by_key(|s| s.distance);
    }
    rounds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dht::wire::PeerAddrs;

    #[test]
    fn steps_are_grouped_by_round_with_outcomes_and_pending_requests() {
        let me = PeerId::random();
        let peers: Vec<PeerId> = (0..4).map(|_| PeerId::random()).collect();
        let target = Point::of_bytes(b"key");
        let t0 = Instant::now();
        let seeds = peers[..3].iter().map(|p| (*p, Vec::new()));
        let mut l = Lookup::new(target, me, 3, 2, seeds, t0);
        let first = l.next_requests(t0);
        assert_eq!(first.len(), 2);
        let later = t0 + Duration::from_millis(5);
        let closer = vec![PeerAddrs {
            peer: peers[3],
            addrs: Vec::new(),
        }];
        l.on_answer(&first[0].0, closer, true, later);
        l.on_failure(&first[1].0, "timeout".into(), later);
        let second = l.next_requests(later);
        assert!(!second.is_empty());

        let rs = rounds(&l, later + Duration::from_millis(7));
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[0].phase, Phase::Converging);
        assert_eq!(rs[0].queried.len(), 2);
        let answered = rs[0].queried.iter().find(|s| s.peer == first[0].0).unwrap();
        assert_eq!(answered.returned, vec![peers[3]]);
        assert!(answered.had_value && answered.error.is_none());
        assert_eq!(answered.rtt, Some(Duration::from_millis(5)));
        let failed = rs[0].queried.iter().find(|s| s.peer == first[1].0).unwrap();
        assert_eq!(failed.error.as_deref(), Some("timeout"));
        let pending = &rs[1].queried[0];
        assert_eq!(pending.rtt, None);
        assert!(pending.error.as_deref().unwrap().contains("7 ms"));
        assert!(rs[0].queried[0].distance <= rs[0].queried[1].distance);
        assert_eq!(rs[0].closest(), Some(rs[0].queried[0].distance));
    }
}
