//! `get`: answered from the local store when it holds a current copy;
//! otherwise a lookup sends GET_VALUE to the closest peers until the quorum
//! of copies is found (Kademlia's FIND_VALUE stops at the first). The
//! newest copy wins (see [`crate::dht::record`]); peers that answered with
//! an older copy are sent the newest (read repair), and so is this node's
//! own store.

use std::cmp::Ordering;
use std::time::Instant;

use libp2p::PeerId;
use tokio::sync::oneshot;

use super::EventLoop;
use super::query::{Kind, Stage};
use crate::dht::lookup::Lookup;
use crate::dht::record::newer;
use crate::dht::wire::{Message, MessageType};
use crate::dht::{Record, RecordKey, owned};
use crate::error::Error;
use crate::reports::{Found, GetReport, Quorum};
use crate::store::Refusal;

/// A `get` in flight.
pub(super) struct GetQuery {
    pub key: RecordKey,
    pub quorum: Quorum,
    pub reply: oneshot::Sender<Result<GetReport, Error>>,
    /// Every copy seen: `None` for this node's own.
    pub copies: Vec<(Option<PeerId>, Record)>,
    /// Whether a network copy is needed before answering (the local copy
    /// was loaded from disk and not yet checked).
    pub need_network: bool,
    /// Answers too large for this node's limits.
    pub oversized: usize,
}

impl GetQuery {
    /// Whether the lookup can stop now: enough copies for the quorum (a
    /// copy from the network among them when the local one is unchecked).
    /// `all` is never satisfied early: it asks every live closest peer.
    fn satisfied(&self) -> bool {
        let network = self.copies.iter().filter(|(p, _)| p.is_some()).count();
        if self.need_network && network == 0 {
            return false;
        }
        !matches!(self.quorum, Quorum::All) && get_quorum_met(self.quorum, self.copies.len())
    }
}

/// Whether a finished `get` met its quorum with `copies` copies (this
/// node's own included): `N` needs N of them, the default and `all` one
/// (`all` asked every live closest peer, whatever they held).
fn get_quorum_met(quorum: Quorum, copies: usize) -> bool {
    match quorum {
        Quorum::Default | Quorum::All => copies > 0,
        Quorum::N(n) => copies >= n.get(),
    }
}

impl EventLoop {
    /// Starts a `get` (or answers it at once from a current local copy).
    pub(super) fn start_get(
        &mut self,
        key: RecordKey,
        quorum: Quorum,
        reply: oneshot::Sender<Result<GetReport, Error>>,
    ) {
        let started = Instant::now();
        if let Err(refusal) = self.store.check_key(&key) {
            let _ = reply.send(Err(Error::Refused(refusal)));
            return;
        }
        let local = self
            .store
            .get(&key)
            .map(|h| (h.record.clone(), h.confirmed));
        if let (Some((record, true)), Quorum::Default) = (&local, quorum) {
            let report = report(key, vec![(None, record.clone())], true, 0, started, 0);
            let _ = reply.send(Ok(report));
            return;
        }
        let need_network = local.as_ref().is_some_and(|(_, confirmed)| !confirmed);
        let copies = local.map(|(r, _)| vec![(None, r)]).unwrap_or_default();
        let message = Message::request(MessageType::GetValue, key.to_vec());
        let target = key.to_vec();
        let id = self.new_query(
            &target,
            message,
            Kind::Get(GetQuery {
                key,
                quorum,
                reply,
                copies,
                need_network,
                oversized: 0,
            }),
        );
        self.advance(id);
    }

    /// The record in a GET_VALUE answer, when this node accepts it under
    /// `key`; `Ok(None)` when the answer holds none (or another key's).
    pub(super) fn record_in_answer(
        &self,
        key: &RecordKey,
        m: &Message,
    ) -> Result<Option<Record>, Refusal> {
        let Some(w) = &m.record else {
            return Ok(None);
        };
        if w.key != key.as_ref() && !w.key.is_empty() {
            return Ok(None);
        }
        let mut record = super::put::from_wire(key, w, self.settings.timings.record_ttl);
        self.store.check_record(&mut record)?;
        Ok(Some(record))
    }

    /// A GET_VALUE answer: keeps a valid copy; true when it held one.
    pub(super) fn get_answer(
        &mut self,
        g: &mut GetQuery,
        peer: &PeerId,
        m: &Message,
        lookup: &mut Lookup,
    ) -> bool {
        let record = match self.record_in_answer(&g.key, m) {
            Ok(Some(record)) => record,
            Ok(None) => return false,
            Err(Refusal::ValueTooLarge { .. }) => {
                g.oversized += 1;
                return false;
            }
            Err(_) => return false,
        };
        g.copies.push((Some(*peer), record));
        if g.satisfied() {
            lookup.stop();
        }
        true
    }

    /// The lookup is over: answer, then repair stale copies.
    pub(super) fn get_done(&mut self, g: GetQuery, lookup: &Lookup) {
        let asked = lookup.steps().len() as u32;
        let GetQuery {
            key,
            quorum,
            reply,
            copies,
            oversized,
            ..
        } = g;
        let newest = copies
            .iter()
            .map(|(_, r)| r)
            .filter(|r| r.version.is_some())
            .max_by(|a, b| newer(a, b))
            .cloned();
        if let Some(best) = &newest {
            self.repair(&copies, best);
        }
        let met = get_quorum_met(quorum, copies.len());
        let report = report(key, copies, met, asked, lookup.started(), oversized);
        let _ = reply.send(Ok(report));
    }

    /// Sends `best` to every peer that answered with an older copy, and
    /// keeps it here if this node's copy is older (or confirms ours).
    fn repair(&mut self, copies: &[(Option<PeerId>, Record)], best: &Record) {
        let mut repaired = Vec::new();
        for (from, r) in copies {
            if r.same_write(best) {
                if from.is_none() {
                    self.store.confirm(&best.key);
                }
                continue;
            }
            match from {
                None => {
                    // Kept as if pushed by the peer it came from: the write
                    // policy and that peer's quota apply.
                    let source = copies.iter().find(|(_, c)| c.same_write(best));
                    let source = source.and_then(|(p, _)| *p);
                    let _ = self.store.accept(best.clone(), source);
                }
                Some(p) if !repaired.contains(p) => repaired.push(*p),
                Some(_) => {}
            }
        }
        if self
            .store
            .get(&best.key)
            .is_none_or(|h| h.record.same_write(best))
        {
            self.store.confirm(&best.key);
        }
        for peer in repaired {
            let m = super::put::put_message(best, Instant::now());
            // Fire and forget: answers to repairs are not waited for.
            self.send(u64::MAX, peer, Vec::new(), m, Stage::Store);
        }
    }
}

/// Builds the report: distinct values, newest first; copies without a
/// version rank last and, with no versioned copy, are a conflict when
/// they differ.
fn report(
    key: RecordKey,
    copies: Vec<(Option<PeerId>, Record)>,
    quorum_met: bool,
    peers_queried: u32,
    started: Instant,
    oversized: usize,
) -> GetReport {
    let mut sorted: Vec<&(Option<PeerId>, Record)> = copies.iter().collect();
    sorted.sort_by(|a, b| match newer(&b.1, &a.1) {
        // Same write: this node's own copy first.
        Ordering::Equal => a.0.is_some().cmp(&b.0.is_some()),
        o => o,
    });
    let mut values: Vec<Found> = Vec::new();
    for (from, r) in &sorted {
        // An owned record's value is inside its envelope, verified on arrival.
        let (value, owner) = match owned::open(r.key.as_ref(), &r.value) {
            Ok(o) => (o.value, Some(o.owner)),
            Err(_) => (r.value.clone(), None),
        };
        if values.iter().any(|f| f.value == value) {
            continue;
        }
        values.push(Found {
            value,
            from: *from,
            version: r.version,
            publisher: r.publisher,
            owner,
        });
    }
    let versioned = values.iter().any(|f| f.version.is_some());
    let conflict = !versioned && values.len() > 1;
    let stale = match sorted.first() {
        Some((_, best)) if versioned => copies.iter().filter(|(_, r)| !r.same_write(best)).count(),
        _ => 0,
    };
    if versioned {
        // Only the newest is the answer; older values are not listed.
        values.truncate(1);
    }
    GetReport {
        key,
        values,
        conflict,
        copies: copies.len(),
        stale,
        oversized,
        quorum_met: quorum_met && !copies.is_empty(),
        elapsed: started.elapsed(),
        peers_queried,
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use super::*;

    fn n(n: usize) -> Quorum {
        Quorum::N(NonZeroUsize::new(n).unwrap())
    }

    /// A `get` in flight holding this node's own copy (when `local`) and
    /// `network` copies from peers.
    fn query(quorum: Quorum, local: bool, network: usize, need_network: bool) -> GetQuery {
        let record = Record::new(RecordKey::new("k"), b"v".to_vec());
        let mut copies = Vec::new();
        if local {
            copies.push((None, record.clone()));
        }
        for _ in 0..network {
            copies.push((Some(PeerId::random()), record.clone()));
        }
        GetQuery {
            key: record.key.clone(),
            quorum,
            reply: oneshot::channel().0,
            copies,
            need_network,
            oversized: 0,
        }
    }

    #[test]
    fn the_default_quorum_stops_at_the_first_copy() {
        assert!(!query(Quorum::Default, false, 0, false).satisfied());
        assert!(query(Quorum::Default, true, 0, false).satisfied());
        assert!(query(Quorum::Default, false, 1, false).satisfied());
    }

    #[test]
    fn an_unchecked_local_copy_waits_for_one_from_the_network() {
        assert!(!query(Quorum::Default, true, 0, true).satisfied());
        assert!(query(Quorum::Default, true, 1, true).satisfied());
        // Counted copies include the local one once a peer has answered.
        assert!(query(n(2), true, 1, true).satisfied());
    }

    #[test]
    fn a_quorum_of_n_stops_at_n_copies_and_all_never_early() {
        assert!(!query(n(3), true, 1, false).satisfied());
        assert!(query(n(3), true, 2, false).satisfied());
        assert!(query(n(3), false, 4, false).satisfied());
        assert!(!query(Quorum::All, true, 5, false).satisfied());
    }

    #[test]
    fn a_finished_get_meets_its_quorum_with_enough_copies() {
        for quorum in [Quorum::Default, Quorum::All] {
            assert!(!get_quorum_met(quorum, 0), "{quorum:?}");
            assert!(get_quorum_met(quorum, 1), "{quorum:?}");
        }
        assert!(!get_quorum_met(n(2), 1));
        assert!(get_quorum_met(n(2), 2));
        assert!(get_quorum_met(n(2), 3));
    }
}
