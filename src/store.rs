//! The record store: records and provider records held in memory, within
//! limits, and written through to a database in the data directory
//! ([`disk`]) so they survive a restart; or in memory only (`--ephemeral`).
//!
//! Every copy of a key that arrives passes the same rules, whether the
//! user put it or a peer pushed it: size limits, `/pk/` and owned-record
//! validation ([`crate::dht::owned`]), the budgets and quotas of [`quota`],
//! and the newest-write-wins order of [`crate::dht::record`]; what peers
//! push also passes the write policy of [`policy`]. A write is queued to
//! the database at once and reported on disk by a [`DiskEvent`]; the event
//! loop acknowledges a put (to the user or to the pushing peer) only then.
//!
//! Loading never stops at one bad entry: an entry whose checksum fails is
//! moved to a quarantine table, counted and logged, never served; an entry
//! in a format this p2pnode does not know (written by a newer one) is left
//! on disk untouched and skipped. Records loaded from disk are marked
//! unconfirmed: until the network has been asked about them, a `get` does
//! not answer from them alone (a newer write may have happened meanwhile).

pub mod backup;
pub mod codec;
pub mod disk;
mod limits;
mod load;
pub mod policy;
mod providers;
pub mod quota;
pub mod refusal;
pub mod verify;
mod writer;
mod writing;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use libp2p::{Multiaddr, PeerId};
use tokio::sync::mpsc;
use tracing::{info, warn};

pub use self::backup::{BackedUp, Compacted};
use self::codec::Clock;
use self::disk::Disk;
pub use self::disk::{DB_FILE, DiskEvent, SCHEMA};
pub use self::limits::Limits;
pub use self::policy::{Accept, WritePolicy};
use self::quota::Ledger;
pub use self::quota::{Holder, Tally};
pub use self::refusal::Refusal;
use self::writing::DiskState;
use crate::dht::record::{Arrival, arrival};
use crate::dht::{ProviderRecord, Record, RecordKey};
use crate::error::StartError;

/// A record as the store holds it.
#[derive(Debug, Clone)]
pub struct Held {
    /// The record.
    pub record: Record,
    /// Who this copy is counted against: this node, the peer that pushed
    /// it, or nobody known (another peer's record loaded from disk).
    pub holder: Holder,
    /// When this copy was stored (or loaded).
    pub stored: Instant,
    /// Whether this copy is known current in this session: put, received
    /// or checked against the network since the node started (or since it
    /// rejoined after losing every peer).
    pub confirmed: bool,
}

/// What the store did with an incoming copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Stored (new, or newer than the copy held); on disk once the batch
    /// with this sequence number is committed (`None`: memory only).
    Written(Option<u64>),
    /// The same write was already held. A publisher's push may extend its
    /// life: then the new expiry is on disk once the batch with this
    /// sequence number is committed (`None`: nothing to write, or memory
    /// only), so the push is acknowledged only after that, like a new one.
    Same(Option<u64>),
}

/// Counters of what loading the database found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Records and provider lists loaded.
    pub loaded: usize,
    /// Entries that had expired while the node was down (deleted).
    pub expired: usize,
    /// Damaged entries moved to quarantine.
    pub corrupt: usize,
    /// Entries in a format this p2pnode does not know (left on disk).
    pub unknown: usize,
    /// Entries over the current limits (left on disk, not loaded).
    pub over_limit: usize,
}

/// The node's record store; see the module docs.
pub struct Store {
    local: PeerId,
    limits: Limits,
    records: HashMap<RecordKey, Held>,
    providers: HashMap<RecordKey, Vec<ProviderRecord>>,
    disk: Option<DiskState>,
    saved_peers: Vec<(PeerId, Vec<Multiaddr>)>,
    load: LoadReport,
    ledger: Ledger,
    policy: WritePolicy,
}

impl Store {
    /// A store that keeps everything in memory, within `limits`.
    pub fn in_memory(local: PeerId, limits: &Limits) -> Self {
        Store {
            local,
            limits: *limits,
            records: HashMap::new(),
            providers: HashMap::new(),
            disk: None,
            saved_peers: Vec::new(),
            load: LoadReport::default(),
            ledger: Ledger::default(),
            policy: WritePolicy::default(),
        }
    }

    /// The same store, taking from peers only what `policy` allows.
    pub fn with_policy(mut self, policy: WritePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Opens (or creates) the database in `dir` and loads it (see the
    /// module docs for what happens to damaged or unknown entries).
    pub fn open(dir: &Path, local: PeerId, limits: &Limits) -> Result<Self, StartError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (disk, contents) = Disk::open(dir, tx)?;
        let mut store = Store::in_memory(local, limits);
        let path = disk.path().to_path_buf();
        store.disk = Some(DiskState {
            disk,
            events: rx,
            dirty_records: HashSet::new(),
            dirty_providers: HashSet::new(),
            extra: Vec::new(),
            in_flight: BTreeMap::new(),
            failing: None,
            write_errors: 0,
            retried: None,
        });
        let clock = Clock::now();
        let report = load::load(&mut store, contents, &clock);
        store.flush();
        if report.over_limit > 0 {
            warn!(path = %path.display(), entries = report.over_limit,
                "records over the size or count limits were kept on disk but not loaded");
        }
        if report.unknown > 0 {
            warn!(path = %path.display(), entries = report.unknown,
                "entries written in a format this p2pnode does not know (a newer one?) were left on disk and skipped");
        }
        info!(target: crate::logging::STARTUP, path = %path.display(), records = store.record_count(),
            providers = store.providers.len(), expired = report.expired,
            corrupt = report.corrupt, "record store opened");
        store.load = report;
        Ok(store)
    }

    /// What loading the database found.
    pub fn load_report(&self) -> LoadReport {
        self.load
    }

    /// Whether records are kept on disk.
    pub fn is_persistent(&self) -> bool {
        self.disk.is_some()
    }

    /// This node's peer ID (the publisher of its own records).
    pub fn local(&self) -> PeerId {
        self.local
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    // ---- records ----------------------------------------------------------

    /// The live copy held under `key`.
    pub fn get(&self, key: &RecordKey) -> Option<&Held> {
        let now = Instant::now();
        self.records.get(key).filter(|h| !h.record.is_expired(now))
    }

    /// Stores this node's own new write (`record.publisher` is this node,
    /// its version above any held): it replaces whatever copy is held.
    pub fn put_own(&mut self, mut record: Record) -> Result<Stored, Refusal> {
        self.check_record(&mut record)?;
        self.admit(&record, Holder::Own)?;
        Ok(self.insert(record, Holder::Own))
    }

    /// Stores a copy pushed by `from` (`None`: found by this node itself)
    /// if the write policy takes it, it passes the limits and is newer than
    /// the copy held ([`Refusal::Stale`] carries nothing: the caller reads
    /// the newer copy with [`Store::get`]).
    pub fn accept(&mut self, mut record: Record, from: Option<PeerId>) -> Result<Stored, Refusal> {
        if !self.policy.permits(&record.key, from.as_ref()) {
            return Err(Refusal::NotAllowed {
                what: match self.policy.accept {
                    Accept::OwnedAndAllowlist => {
                        "this node takes plain records only from allowlisted writers"
                    }
                    _ => "this node takes only owned records from peers",
                },
            });
        }
        self.check_record(&mut record)?;
        let holder = match from {
            Some(p) => Holder::Peer(p),
            None if record.publisher == Some(self.local) => Holder::Own,
            None => Holder::Unattributed,
        };
        let now = Instant::now();
        let held = self.get(&record.key).map(|h| &h.record);
        match arrival(held, &record) {
            Arrival::Stale => Err(Refusal::Stale),
            Arrival::Same => {
                let Some(h) = self.records.get_mut(&record.key) else {
                    return Ok(Stored::Same(None));
                };
                h.confirmed = true;
                // Only the publisher's republishing extends a copy's life;
                // holders replicating it pass the expiry on unchanged.
                let from_publisher = from.is_some() && from == record.publisher;
                let later = match (h.record.expires, record.expires) {
                    (Some(a), Some(b)) if from_publisher => Some(a.max(b)),
                    (a, _) => a,
                };
                if later == h.record.expires {
                    return Ok(Stored::Same(None));
                }
                h.record.expires = later;
                self.mark_record(record.key);
                Ok(Stored::Same(self.flush()))
            }
            Arrival::Newer => {
                self.admit(&record, holder)?;
                if record.expires.is_some_and(|t| t <= now) {
                    record.expires = Some(now);
                }
                Ok(self.insert(record, holder))
            }
        }
    }

    fn insert(&mut self, record: Record, holder: Holder) -> Stored {
        let key = record.key.clone();
        self.hold(
            key.clone(),
            Held {
                record,
                holder,
                stored: Instant::now(),
                confirmed: true,
            },
        );
        self.mark_record(key);
        Stored::Written(self.flush())
    }

    /// Removes the copy held under `key`; whether there was one.
    pub fn remove(&mut self, key: &RecordKey) -> bool {
        let held = self.unhold(key).is_some();
        if held {
            self.mark_record(key.clone());
        }
        held
    }

    /// Marks the copy under `key` as checked against the network.
    pub fn confirm(&mut self, key: &RecordKey) {
        if let Some(h) = self.records.get_mut(key) {
            h.confirmed = true;
        }
    }

    /// Marks every copy unconfirmed (the node was cut off from every peer:
    /// writes may have happened meanwhile).
    pub fn unconfirm_all(&mut self) {
        for h in self.records.values_mut() {
            h.confirmed = false;
        }
    }

    /// Every live record held.
    pub fn records(&self) -> impl Iterator<Item = &Held> {
        let now = Instant::now();
        self.records
            .values()
            .filter(move |h| !h.record.is_expired(now))
    }

    /// The records this node published itself.
    pub fn originated(&self) -> Vec<Record> {
        self.records()
            .filter(|h| h.record.publisher == Some(self.local))
            .map(|h| h.record.clone())
            .collect()
    }

    /// How many live records are held.
    pub fn record_count(&self) -> usize {
        self.records().count()
    }

    /// What the records held cost, in bytes (see [`quota::cost`]).
    pub fn record_bytes(&self) -> usize {
        self.usage(None).0.bytes
    }

    /// Drops what has expired; returns how many records and provider
    /// records went.
    pub fn expire(&mut self, now: Instant) -> usize {
        let dead: Vec<RecordKey> = self
            .records
            .iter()
            .filter(|(_, h)| h.record.is_expired(now))
            .map(|(k, _)| k.clone())
            .collect();
        let mut n = dead.len();
        for k in dead {
            self.unhold(&k);
            self.mark_record(k);
        }
        let mut changed = Vec::new();
        for (k, list) in &mut self.providers {
            let before = list.len();
            list.retain(|p| !p.is_expired(now));
            if list.len() != before {
                n += before - list.len();
                changed.push(k.clone());
            }
        }
        self.providers.retain(|_, list| !list.is_empty());
        for k in changed {
            self.mark_providers(k);
        }
        n
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests;
