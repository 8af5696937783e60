//! Writing through to the database: pending writes grouped into batches
//! for the writer thread, its reports taken into account, and the routing
//! table's peers saved with the records.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};
use tracing::{info, warn};

use super::codec::{self, Clock};
use std::collections::BTreeMap;

use tokio::sync::mpsc;

use super::disk::{Disk, DiskEvent, Op, Table};
use super::{Store, load};
use crate::dht::RecordKey;

/// The store's side of the database: what waits to be written, what is
/// in flight, and whether commits fail.
pub(super) struct DiskState {
    pub(super) disk: Disk,
    pub(super) events: mpsc::UnboundedReceiver<DiskEvent>,
    pub(super) dirty_records: HashSet<RecordKey>,
    pub(super) dirty_providers: HashSet<RecordKey>,
    pub(super) extra: Vec<Op>,
    pub(super) in_flight: BTreeMap<u64, usize>,
    pub(super) failing: Option<String>,
    pub(super) write_errors: u64,
    /// When a failed commit was last retried.
    pub(super) retried: Option<Instant>,
}

/// How often writes are tried again while the disk refuses them.
const RETRY_EVERY: Duration = Duration::from_secs(1);

impl Store {
    // ---- the routing table's saved peers ----------------------------------

    /// The peers saved at the last run (to rejoin through).
    pub fn saved_peers(&self) -> &[(PeerId, Vec<Multiaddr>)] {
        &self.saved_peers
    }

    /// Saves the routing table's peers, replacing the saved set.
    pub fn save_peers(&mut self, peers: Vec<(PeerId, Vec<Multiaddr>)>) {
        let Some(d) = &mut self.disk else {
            return;
        };
        let keep: HashSet<Vec<u8>> = peers.iter().map(|(p, _)| p.to_bytes()).collect();
        for (old, _) in &self.saved_peers {
            let k = old.to_bytes();
            if !keep.contains(&k) {
                d.extra.push(Op {
                    table: Table::Peers,
                    key: k,
                    value: None,
                });
            }
        }
        for (p, addrs) in &peers {
            if self.saved_peers.iter().any(|(q, a)| q == p && a == addrs) {
                continue;
            }
            d.extra.push(Op {
                table: Table::Peers,
                key: p.to_bytes(),
                value: Some(load::encode_addrs(addrs)),
            });
        }
        self.saved_peers = peers;
        self.flush();
    }

    // ---- writing to disk --------------------------------------------------

    pub(super) fn mark_record(&mut self, key: RecordKey) {
        if let Some(d) = &mut self.disk {
            d.dirty_records.insert(key);
        }
    }

    pub(super) fn mark_providers(&mut self, key: RecordKey) {
        if let Some(d) = &mut self.disk {
            d.dirty_providers.insert(key);
        }
    }

    /// Queues every pending write for the next commit; returns the batch's
    /// sequence number (`None`: nothing pending, or memory only).
    pub fn flush(&mut self) -> Option<u64> {
        let Store {
            records,
            providers,
            disk,
            ..
        } = self;
        let d = disk.as_mut()?;
        if d.dirty_records.is_empty() && d.dirty_providers.is_empty() && d.extra.is_empty() {
            return None;
        }
        let clock = Clock::now();
        let mut ops = std::mem::take(&mut d.extra);
        let count = d.dirty_records.len() + d.dirty_providers.len();
        for key in d.dirty_records.drain() {
            let value = records
                .get(&key)
                .map(|h| codec::encode_record(&h.record, &clock));
            ops.push(Op {
                table: Table::Records,
                key: key.to_vec(),
                value,
            });
        }
        for key in d.dirty_providers.drain() {
            let value = providers
                .get(&key)
                .filter(|l| !l.is_empty())
                .map(|l| codec::encode_providers(key.as_ref(), l, &clock));
            ops.push(Op {
                table: Table::Providers,
                key: key.to_vec(),
                value,
            });
        }
        let seq = d.disk.submit(ops)?;
        d.in_flight.insert(seq, count);
        Some(seq)
    }

    /// Waits for the writer's next report (forever when memory only).
    pub async fn disk_event(&mut self) -> DiskEvent {
        match &mut self.disk {
            Some(d) => match d.events.recv().await {
                Some(e) => e,
                None => std::future::pending().await,
            },
            None => std::future::pending().await,
        }
    }

    /// Takes the writer's report into account. A failed commit is retried:
    /// every key is marked for writing again (the memory state is current).
    pub fn on_disk_event(&mut self, event: &DiskEvent) {
        let Some(d) = &mut self.disk else {
            return;
        };
        match event {
            DiskEvent::Committed(upto) => {
                d.in_flight.retain(|seq, _| seq > upto);
                if d.failing.take().is_some() {
                    info!(path = %d.disk.path().display(), "record store writable again");
                }
            }
            DiskEvent::Failed { first, last, error } => {
                d.in_flight.retain(|seq, _| seq < first || seq > last);
                d.write_errors += 1;
                if d.failing.as_deref() != Some(error.as_str()) {
                    warn!(path = %d.disk.path().display(), %error,
                        "cannot write the record store; keeping the writes in memory and retrying");
                    d.failing = Some(error.clone());
                }
                d.dirty_records.extend(self.records.keys().cloned());
                d.dirty_providers.extend(self.providers.keys().cloned());
            }
        }
    }

    /// While commits fail: tries again (at most every `RETRY_EVERY`, and
    /// not while a commit is in flight), so the store notices by itself
    /// when the disk takes writes again. With nothing to write, an empty
    /// commit probes the disk.
    pub fn retry_failed(&mut self, now: Instant) {
        let Some(d) = &mut self.disk else {
            return;
        };
        let due = d
            .retried
            .is_none_or(|t| now.saturating_duration_since(t) >= RETRY_EVERY);
        if d.failing.is_none() || !d.in_flight.is_empty() || !due {
            return;
        }
        d.retried = Some(now);
        if self.flush().is_none()
            && let Some(d) = &mut self.disk
            && let Some(seq) = d.disk.submit(Vec::new())
        {
            d.in_flight.insert(seq, 0);
        }
    }

    /// Why the last commit failed, while writes are failing.
    pub fn failing(&self) -> Option<&str> {
        self.disk.as_ref().and_then(|d| d.failing.as_deref())
    }

    /// How many commits failed since the store opened.
    pub fn write_errors(&self) -> u64 {
        self.disk.as_ref().map_or(0, |d| d.write_errors)
    }

    /// The size of the database file in bytes (0 in memory, or when it
    /// cannot be read).
    pub fn file_bytes(&self) -> u64 {
        self.path()
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len())
    }

    /// The database file, for messages.
    pub fn path(&self) -> Option<&Path> {
        self.disk.as_ref().map(|d| d.disk.path())
    }

    /// Keys whose latest state is not on disk yet.
    pub fn unflushed(&self) -> usize {
        self.disk.as_ref().map_or(0, |d| {
            d.dirty_records.len() + d.dirty_providers.len() + d.in_flight.values().sum::<usize>()
        })
    }

    /// Writes what is pending and stops the writer, waiting for it.
    pub fn close(&mut self) {
        self.flush();
        if let Some(d) = &mut self.disk {
            d.disk.close();
            while let Ok(e) = d.events.try_recv() {
                if let DiskEvent::Failed { error, .. } = e {
                    warn!(%error, "the last writes to the record store failed");
                }
            }
        }
    }
}
