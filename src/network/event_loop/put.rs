//! `put`, republishing and replication: the record goes into the local
//! store (on disk before `put` answers), a lookup finds the k closest
//! peers, and each is sent PUT_VALUE. Only peers that answer with the
//! record stored count as `replicated`; a refusal (with its reason, from a
//! p2pnode peer) or no answer does not.

use std::collections::HashMap;
use std::time::Instant;

use libp2p::PeerId;
use tokio::sync::oneshot;

use super::query::{Kind, QueryId};
use super::{Ack, EventLoop};
use crate::dht::lookup::Lookup;
use crate::dht::record::expiry_on_arrival;
use crate::dht::wire::{Message, MessageType, WireRecord};
use crate::dht::{Record, RecordKey, Version, owned};
use crate::error::Error;
use crate::reports::{PutReport, Quorum, Refused};
use crate::store::{Refusal, Stored};

/// A PUT_VALUE request carrying `record` with its remaining lifetime.
pub(super) fn put_message(record: &Record, now: Instant) -> Message {
    let mut m = Message::request(MessageType::PutValue, record.key.to_vec());
    m.record = Some(to_wire(record, now));
    m
}

/// `record` as the wire carries it.
pub(super) fn to_wire(record: &Record, now: Instant) -> WireRecord {
    WireRecord {
        key: record.key.to_vec(),
        value: record.value.clone(),
        time_received: String::new(),
        publisher: record.publisher.map(|p| p.to_bytes()).unwrap_or_default(),
        ttl: record.wire_ttl(now),
        version: record.version.0,
        ttl_ms: record.wire_ttl_ms(now),
    }
}

/// A record from the wire, received now, under `key`.
pub(super) fn from_wire(key: &RecordKey, w: &WireRecord, local_ttl: std::time::Duration) -> Record {
    Record {
        key: key.clone(),
        value: w.value.clone(),
        publisher: PeerId::from_bytes(&w.publisher).ok(),
        version: Version(w.version),
        expires: Some(expiry_on_arrival(
            Instant::now(),
            w.ttl,
            w.ttl_ms,
            local_ttl,
        )),
    }
}

/// A put, republication or replication in flight.
pub(super) struct PutQuery {
    pub record: Record,
    pub quorum: Quorum,
    pub replicated: usize,
    pub replicated_to: Vec<PeerId>,
    pub refused: Vec<Refused>,
    pub unreachable: usize,
    /// How many peers the store phase was sent to (the live closest).
    pub wanted: usize,
    pub started: Instant,
}

/// Whether a `put` met its quorum: `replicated` peers confirmed storing
/// the record, out of `wanted` (the live closest peers it was sent to).
/// The default is met by the local store alone; `N` needs N confirmations;
/// `all` needs every one of the `wanted`, and at least one (a node alone
/// in its network has not replicated anything).
fn put_quorum_met(quorum: Quorum, replicated: usize, wanted: usize) -> bool {
    match quorum {
        Quorum::Default => true,
        Quorum::N(n) => replicated >= n.get(),
        Quorum::All => wanted > 0 && replicated >= wanted,
    }
}

/// This node's own put, waiting for the network and for the disk.
pub(super) struct OwnPut {
    reply: oneshot::Sender<Result<PutReport, Error>>,
    report: Option<PutReport>,
    disk: Option<Result<(), String>>,
}

/// The own puts in flight, by query.
pub(super) type OwnPuts = HashMap<QueryId, OwnPut>;

impl PutQuery {
    /// The PUT_VALUE sent to the closest peers.
    pub fn store_request(&self) -> Message {
        put_message(&self.record, Instant::now())
    }

    /// Counts one answer to PUT_VALUE; returns the newer record a
    /// refusing p2pnode peer sent back, if any.
    pub fn on_store_answer(&mut self, peer: &PeerId, response: Option<&Message>) -> Option<Record> {
        let Some(m) = response else {
            self.unreachable += 1;
            return None;
        };
        let echoed = m
            .record
            .as_ref()
            .is_some_and(|r| r.key == self.record.key.as_ref() && r.value == self.record.value);
        match &m.refused {
            None if echoed => {
                self.replicated += 1;
                self.replicated_to.push(*peer);
                None
            }
            refused => {
                let reason = refused
                    .clone()
                    .unwrap_or_else(|| "answered with another record".into());
                self.refused.push(Refused {
                    peer: *peer,
                    reason: reason.replace('\n', " "),
                });
                let newer = m
                    .record
                    .as_ref()
                    .filter(|r| r.version > self.record.version.0)?;
                Some(Record {
                    key: self.record.key.clone(),
                    value: newer.value.clone(),
                    publisher: PeerId::from_bytes(&newer.publisher).ok(),
                    version: Version(newer.version),
                    expires: None,
                })
            }
        }
    }
}

impl EventLoop {
    /// Starts the user's `put` of `value` under `key`.
    pub(super) fn start_put(
        &mut self,
        key: RecordKey,
        value: Vec<u8>,
        quorum: Quorum,
        reply: oneshot::Sender<Result<PutReport, Error>>,
    ) {
        let now = Instant::now();
        let held = self.store.get(&key).map(|h| h.record.version);
        let version = Version::next_after(held);
        let value = match self.sign_if_owned(&key, version, value) {
            Ok(value) => value,
            Err(refusal) => {
                let _ = reply.send(Err(Error::Refused(refusal)));
                return;
            }
        };
        let record = Record {
            key: key.clone(),
            value,
            publisher: Some(*self.swarm.local_peer_id()),
            version,
            expires: Some(now + self.settings.timings.record_ttl),
        };
        let seq = match self.store.put_own(record.clone()) {
            Ok(Stored::Written(seq) | Stored::Same(seq)) => seq,
            Err(refusal) => {
                let _ = reply.send(Err(Error::Refused(refusal)));
                return;
            }
        };
        self.jobs.published(&key, now);
        let id = self.put_query(record, quorum);
        self.own_puts.insert(
            id,
            OwnPut {
                reply,
                report: None,
                disk: None,
            },
        );
        self.ack_after(seq, Ack::Own(id));
        self.advance(id);
    }

    /// The value to store under `key`: `value` itself for a plain key; for
    /// an owned key of this node, `value` signed at sequence `version`
    /// (see [`crate::dht::owned`]); another peer's owned key is refused.
    fn sign_if_owned(
        &self,
        key: &RecordKey,
        version: Version,
        value: Vec<u8>,
    ) -> Result<Vec<u8>, Refusal> {
        let Some(split) = owned::split(key.as_ref()) else {
            return Ok(value);
        };
        let (owner, _) = split.map_err(Refusal::NotOwner)?;
        if owner != *self.swarm.local_peer_id() {
            return Err(Refusal::OwnedByOther { owner });
        }
        // A value over the limit is refused by the store; no need to sign it.
        self.store.check_key(key)?;
        let limit = self.settings.limits.max_value_bytes;
        if value.len() > limit {
            let size = value.len();
            return Err(Refusal::ValueTooLarge { size, limit });
        }
        owned::seal(&self.signer, key, version, &value).map_err(Refusal::NotOwner)
    }

    /// Starts the lookup and store phases of a put of `record` (the caller
    /// calls [`EventLoop::advance`]).
    pub(super) fn put_query(&mut self, record: Record, quorum: Quorum) -> QueryId {
        let key = record.key.to_vec();
        let message = Message::request(MessageType::FindNode, key.clone());
        self.new_query(
            &key,
            message,
            Kind::Put(PutQuery {
                record,
                quorum,
                replicated: 0,
                replicated_to: Vec::new(),
                refused: Vec::new(),
                unreachable: 0,
                wanted: 0,
                started: Instant::now(),
            }),
        )
    }

    /// The store phase is over.
    pub(super) fn put_network_done(&mut self, id: QueryId, p: PutQuery, _lookup: &Lookup) {
        let quorum_met = put_quorum_met(p.quorum, p.replicated, p.wanted);
        let report = PutReport {
            key: p.record.key.clone(),
            version: p.record.version,
            replicated: p.replicated,
            replicated_to: p.replicated_to,
            refused: p.refused,
            unreachable: p.unreachable,
            quorum: p.quorum,
            quorum_met,
            wanted: p.wanted,
            elapsed: p.started.elapsed(),
        };
        if let Some(own) = self.own_puts.get_mut(&id) {
            own.report = Some(report);
            self.complete_own_put(id);
        }
    }

    /// The own put's record reached the disk (or did not).
    pub(super) fn own_write_done(&mut self, id: QueryId, error: Option<String>) {
        if let Some(own) = self.own_puts.get_mut(&id) {
            own.disk = Some(match error {
                None => Ok(()),
                Some(e) => Err(e),
            });
            self.complete_own_put(id);
        }
    }

    fn complete_own_put(&mut self, id: QueryId) {
        let ready = self
            .own_puts
            .get(&id)
            .is_some_and(|o| o.report.is_some() && o.disk.is_some());
        if !ready {
            return;
        }
        let Some(own) = self.own_puts.remove(&id) else {
            return;
        };
        let answer = match (own.report, own.disk) {
            (Some(report), Some(Ok(()))) => Ok(report),
            (Some(report), Some(Err(reason))) => {
                Err(self.store_write_error(reason, report.replicated))
            }
            _ => return,
        };
        let _ = own.reply.send(answer);
    }

    /// A peer sent back a newer copy of a key we pushed: keep it (it
    /// replaces ours only if it is newer, by the ordering rule).
    pub(super) fn learn_newer(&mut self, record: Record, from: PeerId) {
        let record = Record {
            expires: Some(Instant::now() + self.settings.timings.record_ttl),
            ..record
        };
        let _ = self.store.accept(record, Some(from));
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use super::*;

    #[test]
    fn the_default_quorum_is_met_by_the_local_store_alone() {
        assert!(put_quorum_met(Quorum::Default, 0, 0));
        assert!(put_quorum_met(Quorum::Default, 0, 20));
    }

    #[test]
    fn a_quorum_of_n_needs_n_confirmations() {
        let two = Quorum::N(NonZeroUsize::new(2).unwrap());
        assert!(!put_quorum_met(two, 0, 20));
        assert!(!put_quorum_met(two, 1, 20));
        assert!(put_quorum_met(two, 2, 20));
        assert!(put_quorum_met(two, 3, 20));
    }

    #[test]
    fn all_needs_every_live_closest_peer_and_at_least_one() {
        assert!(!put_quorum_met(Quorum::All, 0, 0));
        assert!(!put_quorum_met(Quorum::All, 1, 0));
        assert!(!put_quorum_met(Quorum::All, 2, 3));
        assert!(put_quorum_met(Quorum::All, 3, 3));
        assert!(put_quorum_met(Quorum::All, 1, 1));
    }
}
