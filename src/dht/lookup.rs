//! The iterative node lookup of the Kademlia paper (section 2.3), as a
//! state machine without I/O: it says which peers to ask, is told what they
//! answered, and keeps a trace of every request.
//!
//! The lookup proceeds in rounds. It starts from the k peers of the routing
//! table closest to the target and asks the alpha closest of them. A round
//! ends when all its requests have answered or failed, or when
//! [`ROUND_TIMEOUT`] has passed (slow requests keep running and are still
//! counted when they answer, in their own round). If the round learned of a
//! peer closer than any seen before, the next round asks the alpha closest
//! peers not yet asked; if not, the next round asks every one of the k
//! closest peers not yet asked. The lookup is over when the k closest peers
//! it knows have all answered (peers that fail are dropped from the
//! candidates), or when the caller stops it (a value was found).

use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};

use super::key::{Distance, Point};
use super::wire::PeerAddrs;

/// How long a round waits for its slowest request before the next one
/// starts (the slow request keeps running).
pub const ROUND_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Known, not asked yet.
    New,
    /// Asked in a round; the index of its step in the trace.
    Waiting(usize),
    /// Answered.
    Answered,
    /// Failed or timed out: no longer a candidate.
    Failed,
}

#[derive(Debug, Clone)]
struct Candidate {
    peer: PeerId,
    distance: Distance,
    addrs: Vec<Multiaddr>,
    state: State,
}

/// What happened to one request, for the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The peer answered, naming these peers as closer to the target.
    Answered {
        /// The peers it returned.
        returned: Vec<PeerId>,
        /// Whether its answer held the value (GET_VALUE) or providers.
        had_value: bool,
    },
    /// The request failed (dial failure, timeout, bad answer).
    Failed(String),
}

/// Why a round asked the peers it asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The previous round came closer to the target (or this is the
    /// first round): the alpha closest peers not yet asked.
    Converging,
    /// The previous round came no closer: every one of the k closest peers
    /// not yet asked.
    Finishing,
}

/// One request of the lookup.
#[derive(Debug, Clone)]
pub struct Step {
    /// The round it was sent in (from 1).
    pub round: u32,
    /// The peer asked.
    pub peer: PeerId,
    /// The peer's XOR distance to the target.
    pub distance: Distance,
    /// When it was sent.
    pub sent: Instant,
    /// Its round-trip time and result; `None` while it is running.
    pub outcome: Option<(Duration, Outcome)>,
}

/// One lookup; see the module docs.
#[derive(Debug)]
pub struct Lookup {
    target: Point,
    k: usize,
    alpha: usize,
    candidates: Vec<Candidate>,
    round: u32,
    round_started: Option<Instant>,
    /// The closest distance known when the current round started.
    best_at_round_start: Option<Distance>,
    finishing: bool,
    stopped: bool,
    steps: Vec<Step>,
    phases: Vec<Phase>,
    local: PeerId,
    started: Instant,
}

impl Lookup {
    /// A lookup of `target` by the node `local`, starting from `seeds`
    /// (the routing table's closest peers), with parameters `k` and `alpha`.
    pub fn new(
        target: Point,
        local: PeerId,
        k: usize,
        alpha: usize,
        seeds: impl IntoIterator<Item = (PeerId, Vec<Multiaddr>)>,
        now: Instant,
    ) -> Lookup {
        let mut l = Lookup {
            target,
            k: k.max(1),
            alpha: alpha.max(1),
            candidates: Vec::new(),
            round: 0,
            round_started: None,
            best_at_round_start: None,
            finishing: false,
            stopped: false,
            steps: Vec::new(),
            phases: Vec::new(),
            local,
            started: now,
        };
        for (peer, addrs) in seeds {
            l.learn(peer, addrs);
        }
        l
    }

    fn learn(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) {
        if peer == self.local {
            return;
        }
        if let Some(c) = self.candidates.iter_mut().find(|c| c.peer == peer) {
            for a in addrs {
                if !c.addrs.contains(&a) {
                    c.addrs.push(a);
                }
            }
            return;
        }
        let distance = Point::of_peer(&peer).distance(&self.target);
        let at = self.candidates.partition_point(|c| c.distance <= distance);
        self.candidates.insert(
            at,
            Candidate {
                peer,
                distance,
                addrs,
                state: State::New,
            },
        );
    }

    /// The k closest candidates that have not failed.
    fn top_k(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates
            .iter()
            .filter(|c| c.state != State::Failed)
            .take(self.k)
    }

    fn best(&self) -> Option<Distance> {
        self.top_k().next().map(|c| c.distance)
    }

    fn waiting_in_round(&self, round: u32) -> usize {
        self.candidates
            .iter()
            .filter(|c| matches!(c.state, State::Waiting(i) if self.steps[i].round == round))
            .count()
    }

    /// The requests to send now, each to a peer with the addresses known
    /// for it. Call after every answer or failure, and on a timer.
    pub fn next_requests(&mut self, now: Instant) -> Vec<(PeerId, Vec<Multiaddr>)> {
        if self.is_finished() {
            return Vec::new();
        }
        let round_over = match self.round_started {
            None => true,
            Some(t) => {
                self.waiting_in_round(self.round) == 0
                    || now.saturating_duration_since(t) >= ROUND_TIMEOUT
            }
        };
        if !round_over {
            return Vec::new();
        }
        let best = self.best();
        if self.round > 0 {
            let improved = match (best, self.best_at_round_start) {
                (Some(b), Some(before)) => b < before,
                (Some(_), None) => true,
                _ => false,
            };
            self.finishing = !improved;
        }
        let fresh: Vec<usize> = self
            .candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.state != State::Failed)
            .take(self.k)
            .filter(|(_, c)| c.state == State::New)
            .map(|(i, _)| i)
            .collect();
        if fresh.is_empty() {
            return Vec::new();
        }
        let take = if self.finishing {
            fresh.len()
        } else {
            self.alpha.min(fresh.len())
        };
        self.round += 1;
        self.phases.push(if self.finishing {
            Phase::Finishing
        } else {
            Phase::Converging
        });
        self.round_started = Some(now);
        self.best_at_round_start = best;
        let mut out = Vec::with_capacity(take);
        for &i in &fresh[..take] {
            let c = &mut self.candidates[i];
            c.state = State::Waiting(self.steps.len());
            self.steps.push(Step {
                round: self.round,
                peer: c.peer,
                distance: c.distance,
                sent: now,
                outcome: None,
            });
            out.push((c.peer, c.addrs.clone()));
        }
        out
    }

    fn finish_step(&mut self, peer: &PeerId, now: Instant, outcome: Outcome, state: State) -> bool {
        let Some(c) = self.candidates.iter_mut().find(|c| c.peer == *peer) else {
            return false;
        };
        let State::Waiting(i) = c.state else {
            return false;
        };
        c.state = state;
        let step = &mut self.steps[i];
        step.outcome = Some((now.saturating_duration_since(step.sent), outcome));
        true
    }

    /// `peer` answered with `closer` peers (`had_value`: its answer also
    /// held what the query looks for). Ignored if it was not asked.
    pub fn on_answer(
        &mut self,
        peer: &PeerId,
        closer: Vec<PeerAddrs>,
        had_value: bool,
        now: Instant,
    ) {
        let returned = closer.iter().map(|p| p.peer).collect();
        if !self.finish_step(
            peer,
            now,
            Outcome::Answered {
                returned,
                had_value,
            },
            State::Answered,
        ) {
            return;
        }
        if self.stopped {
            return;
        }
        for p in closer {
            self.learn(p.peer, p.addrs);
        }
    }

    /// The request to `peer` failed; it is no longer a candidate.
    pub fn on_failure(&mut self, peer: &PeerId, error: String, now: Instant) {
        self.finish_step(peer, now, Outcome::Failed(error), State::Failed);
    }

    /// Ends the lookup now (the query has what it wanted).
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Whether the lookup is over: stopped, or the k closest candidates
    /// have all answered (or there are none left).
    pub fn is_finished(&self) -> bool {
        self.stopped || self.top_k().all(|c| c.state == State::Answered)
    }

    /// Whether requests are still running.
    pub fn has_waiting(&self) -> bool {
        self.candidates
            .iter()
            .any(|c| matches!(c.state, State::Waiting(_)))
    }

    /// The `n` closest peers that answered, closest first, with addresses.
    pub fn answered_closest(&self, n: usize) -> Vec<(PeerId, Vec<Multiaddr>)> {
        self.candidates
            .iter()
            .filter(|c| c.state == State::Answered)
            .take(n)
            .map(|c| (c.peer, c.addrs.clone()))
            .collect()
    }

    /// Every request so far, in the order sent.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Why round `round` (from 1) asked whom it asked.
    pub fn phase(&self, round: u32) -> Option<Phase> {
        self.phases.get(round.checked_sub(1)? as usize).copied()
    }

    /// The number of rounds started.
    pub fn rounds(&self) -> u32 {
        self.round
    }

    /// The target.
    pub fn target(&self) -> &Point {
        &self.target
    }

    /// When the lookup started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The addresses known for `peer` in this lookup.
    pub fn addrs_of(&self, peer: &PeerId) -> Option<&[Multiaddr]> {
        self.candidates
            .iter()
            .find(|c| c.peer == *peer)
            .map(|c| c.addrs.as_slice())
    }
}

#[cfg(test)]
mod tests;
