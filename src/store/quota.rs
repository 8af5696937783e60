//! What the records held cost, who placed them, and whether one more fits.
//!
//! Every record is held in memory (and written through to disk), so the
//! store's budgets bound the node's memory: a count (`--max-records`) and
//! a byte budget (`--max-store-bytes`) for the whole store, a share of both
//! that other peers' records may fill (the rest, a quarter rounded up, is
//! kept for this node's own records, so its own puts keep working when
//! peers fill theirs), and a quota per remote peer
//! (`--max-records-per-peer`, `--max-bytes-per-peer`) counted against the
//! peer that pushed each copy. A record's cost is what holding it takes:
//! its key twice (map key and record), its value, and [`PER_RECORD`] bytes
//! of bookkeeping. Expired records never count: the store drops them before
//! it refuses anything.

use std::collections::HashMap;
use std::time::Instant;

use libp2p::PeerId;

use super::refusal::Measure;
use super::{Held, Refusal, Store};
use crate::dht::{Record, RecordKey};

/// The memory one record takes besides its key and value: the record and
/// its copy's metadata, the map entry, allocator rounding.
pub const PER_RECORD: usize = 384;

/// How much of each budget is kept for the node's own records: one part
/// in this many, rounded up.
const OWN_RESERVE_PARTS: usize = 4;

/// Who a copy held is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Holder {
    /// This node's own write (its user's put, or its own record loaded
    /// from disk).
    Own,
    /// A copy pushed by this peer.
    Peer(PeerId),
    /// Another peer's record whose pusher is not known (loaded from disk).
    Unattributed,
}

/// A count of records and their cost in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Records.
    pub records: usize,
    /// Their cost in bytes.
    pub bytes: usize,
}

impl Tally {
    fn add(&mut self, bytes: usize) {
        self.records += 1;
        self.bytes += bytes;
    }

    fn sub(&mut self, bytes: usize) {
        self.records = self.records.saturating_sub(1);
        self.bytes = self.bytes.saturating_sub(bytes);
    }

    fn get(&self, m: Measure) -> usize {
        match m {
            Measure::Records => self.records,
            Measure::Bytes => self.bytes,
        }
    }
}

/// The bytes holding `record` takes (see the module docs).
pub fn cost(record: &Record) -> usize {
    2 * record.key.as_ref().len() + record.value.len() + PER_RECORD
}

/// The part of `budget` other peers' records may fill.
pub fn peers_share(budget: usize) -> usize {
    budget - budget.div_ceil(OWN_RESERVE_PARTS)
}

/// The records held, counted by holder.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    total: Tally,
    own: Tally,
    peers: HashMap<PeerId, Tally>,
}

impl Ledger {
    fn add(&mut self, holder: Holder, bytes: usize) {
        self.total.add(bytes);
        match holder {
            Holder::Own => self.own.add(bytes),
            Holder::Peer(p) => self.peers.entry(p).or_default().add(bytes),
            Holder::Unattributed => {}
        }
    }

    fn sub(&mut self, holder: Holder, bytes: usize) {
        self.total.sub(bytes);
        match holder {
            Holder::Own => self.own.sub(bytes),
            Holder::Peer(p) => {
                if let Some(t) = self.peers.get_mut(&p) {
                    t.sub(bytes);
                    if t.records == 0 {
                        self.peers.remove(&p);
                    }
                }
            }
            Holder::Unattributed => {}
        }
    }

    fn others(&self) -> Tally {
        Tally {
            records: self.total.records - self.own.records,
            bytes: self.total.bytes - self.own.bytes,
        }
    }
}

impl Store {
    /// What the records held cost: all, this node's own, and one peer's.
    pub fn usage(&self, peer: Option<&PeerId>) -> (Tally, Tally, Tally) {
        let peer = peer
            .and_then(|p| self.ledger.peers.get(p))
            .copied()
            .unwrap_or_default();
        (self.ledger.total, self.ledger.own, peer)
    }

    /// Holds `held` under `key`, replacing (and uncounting) any copy held.
    pub(super) fn hold(&mut self, key: RecordKey, held: Held) {
        self.ledger.add(held.holder, cost(&held.record));
        if let Some(old) = self.records.insert(key, held) {
            self.ledger.sub(old.holder, cost(&old.record));
        }
    }

    /// Drops the copy under `key`, uncounting it.
    pub(super) fn unhold(&mut self, key: &RecordKey) -> Option<Held> {
        let old = self.records.remove(key)?;
        self.ledger.sub(old.holder, cost(&old.record));
        Some(old)
    }

    /// Checks that `record`, held for `holder`, fits every budget (replacing
    /// the copy held under its key); expired records are dropped first when
    /// it would not. A budget already exceeded (limits lowered since the
    /// records came) refuses only writes that would add to it.
    pub(super) fn admit(&mut self, record: &Record, holder: Holder) -> Result<(), Refusal> {
        match self.over_budget(record, holder) {
            None => Ok(()),
            Some(_) => {
                self.expire(Instant::now());
                self.over_budget(record, holder).map_or(Ok(()), Err)
            }
        }
    }

    fn over_budget(&self, record: &Record, holder: Holder) -> Option<Refusal> {
        let l = &self.limits;
        let new = Tally {
            records: 1,
            bytes: cost(record),
        };
        let old = self
            .records
            .get(&record.key)
            .map(|h| (h.holder, cost(&h.record)));
        // A tally before and after the write, counting copies of `holder`
        // (or of any holder when `counts` says so).
        let change = |before: Tally, counts: &dyn Fn(Holder) -> bool| {
            let mut after = before;
            if let Some((h, bytes)) = old
                && counts(h)
            {
                after.sub(bytes);
            }
            if counts(holder) {
                after.add(new.bytes);
            }
            (before, after)
        };
        let exceeds = |(before, after): (Tally, Tally), m: Measure, limit: usize| {
            after.get(m) > limit && after.get(m) > before.get(m)
        };
        let total = change(self.ledger.total, &|_| true);
        if exceeds(total, Measure::Records, l.max_records) {
            return Some(Refusal::Full {
                limit: l.max_records,
            });
        }
        if exceeds(total, Measure::Bytes, l.max_store_bytes) {
            return Some(Refusal::BytesFull {
                limit: l.max_store_bytes,
            });
        }
        if holder == Holder::Own {
            return None;
        }
        let others = change(self.ledger.others(), &|h| h != Holder::Own);
        for (m, budget) in [
            (Measure::Records, l.max_records),
            (Measure::Bytes, l.max_store_bytes),
        ] {
            if exceeds(others, m, peers_share(budget)) {
                return Some(Refusal::PeersShareFull {
                    measure: m,
                    limit: peers_share(budget),
                });
            }
        }
        let Holder::Peer(p) = holder else {
            return None;
        };
        let peer = self.ledger.peers.get(&p).copied().unwrap_or_default();
        let peer = change(peer, &|h| h == holder);
        for (m, limit) in [
            (Measure::Records, l.max_records_per_peer),
            (Measure::Bytes, l.max_bytes_per_peer),
        ] {
            if exceeds(peer, m, limit) {
                return Some(Refusal::PeerQuota { measure: m, limit });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dht::Version;
    use crate::store::Limits;

    fn rec(key: &str, len: usize, publisher: Option<PeerId>) -> Record {
        Record {
            publisher,
            version: Version(1),
            ..Record::new(RecordKey::new(&key), vec![7; len])
        }
    }

    #[test]
    fn a_peer_fills_its_quota_peers_their_share_and_own_puts_still_fit() {
        let me = PeerId::random();
        let (a, b) = (PeerId::random(), PeerId::random());
        let limits = Limits {
            max_records: 8,
            max_records_per_peer: 4,
            ..Limits::default()
        };
        let mut s = Store::in_memory(me, &limits);
        // Pushes n records of `peer`, then one more: what happened to that one.
        let fill = |s: &mut Store, peer: PeerId, n: usize| {
            for i in 0..n {
                s.accept(rec(&format!("{peer}-{i}"), 1, Some(peer)), Some(peer))
                    .unwrap();
            }
            s.accept(rec(&format!("{peer}-{n}"), 1, Some(peer)), Some(peer))
        };
        let quota = Refusal::PeerQuota {
            measure: Measure::Records,
            limit: 4,
        };
        assert_eq!(fill(&mut s, a, 4), Err(quota));
        // A newer value of a key it placed replaces, it does not add.
        let mut newer = rec(&format!("{a}-0"), 2, Some(a));
        newer.version = Version(2);
        s.accept(newer, Some(a)).unwrap();
        // Peers' share: 8 - 2 = 6 records.
        let share = Refusal::PeersShareFull {
            measure: Measure::Records,
            limit: 6,
        };
        assert_eq!(fill(&mut s, b, 2), Err(share));
        s.put_own(rec("mine0", 1, Some(me))).unwrap();
        s.put_own(rec("mine1", 1, Some(me))).unwrap();
        assert_eq!(
            s.put_own(rec("mine2", 1, Some(me))),
            Err(Refusal::Full { limit: 8 })
        );
        let (total, own, of_a) = s.usage(Some(&a));
        assert_eq!((total.records, own.records, of_a.records), (8, 2, 4));
        // Removing uncounts.
        s.remove(&RecordKey::new(&format!("{a}-1")));
        assert_eq!(s.usage(Some(&a)).2.records, 3);
        s.accept(rec("a5", 1, Some(a)), Some(a)).unwrap();
    }

    #[test]
    fn bytes_are_budgeted_per_peer_and_in_total() {
        let me = PeerId::random();
        let a = PeerId::random();
        let big = 10_000;
        let each = cost(&rec("x0", big, None));
        let limits = Limits {
            max_store_bytes: 8 * each,
            max_bytes_per_peer: 3 * each,
            max_value_bytes: big,
            ..Limits::default()
        };
        let mut s = Store::in_memory(me, &limits);
        for i in 0..3 {
            s.accept(rec(&format!("x{i}"), big, Some(a)), Some(a))
                .unwrap();
        }
        assert!(matches!(
            s.accept(rec("x3", big, Some(a)), Some(a)),
            Err(Refusal::PeerQuota {
                measure: Measure::Bytes,
                ..
            })
        ));
        for i in 0..5 {
            s.put_own(rec(&format!("m{i}"), big, Some(me))).unwrap();
        }
        assert_eq!(
            s.put_own(rec("m5", big, Some(me))),
            Err(Refusal::BytesFull { limit: 8 * each })
        );
        assert_eq!(s.usage(None).0.bytes, 8 * each);
    }
}
