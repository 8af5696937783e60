//! The DHT's background jobs, on the event loop's tick:
//! - expiry: copies and provider records past their TTL go;
//! - republishing: each of this node's own records and provider records is
//!   published again `--republish-interval` after it was last published,
//!   with its version kept and a fresh TTL (the copies on peers would
//!   otherwise expire);
//! - replication: every `--replication-interval`, each record held for
//!   another publisher is pushed to the k closest peers with its remaining
//!   TTL (records received within the interval are skipped: their sender
//!   has just done it), as the Kademlia paper prescribes;
//! - refresh: every `--refresh-interval`, a bootstrap (lookups of this
//!   node's ID and one per k-bucket);
//! - the routing table's peers are saved, to rejoin through after a restart.
//!
//! Republishing and replication wait until the node has joined, and start
//! a few queries per tick so a large store does not flood the network.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::EventLoop;
use crate::config::Timings;
use crate::dht::RecordKey;
use crate::reports::Quorum;

/// How many republications or replications one tick starts.
const PER_TICK: usize = 16;

/// How often the routing table's peers are saved.
const SAVE_EVERY: Duration = Duration::from_secs(30);

/// When each job runs next.
pub(super) struct Jobs {
    republish: HashMap<RecordKey, Instant>,
    provide: HashMap<RecordKey, Instant>,
    next_replication: Instant,
    next_refresh: Instant,
    next_save: Instant,
    replicating: VecDeque<RecordKey>,
    timings: Timings,
}

impl Jobs {
    pub fn new(timings: &Timings) -> Self {
        let now = Instant::now();
        Jobs {
            republish: HashMap::new(),
            provide: HashMap::new(),
            next_replication: now + timings.replication_interval,
            next_refresh: now + timings.refresh_interval,
            next_save: now + SAVE_EVERY,
            replicating: VecDeque::new(),
            timings: *timings,
        }
    }

    /// This node published `key` at `now` (or restored it: `now` is then
    /// the start, and it is republished as soon as the node has joined).
    pub fn published(&mut self, key: &RecordKey, now: Instant) {
        self.republish
            .insert(key.clone(), now + self.timings.republish_interval);
    }

    /// `key` is no longer this node's to republish (deleted here).
    pub fn forget(&mut self, key: &RecordKey) {
        self.republish.remove(key);
        self.replicating.retain(|k| k != key);
    }

    /// This node announced itself as a provider of `key` at `now`.
    pub fn provided(&mut self, key: &RecordKey, now: Instant) {
        self.provide
            .insert(key.clone(), now + self.timings.republish_interval);
    }

    /// Schedules what a restarted node republishes once it has joined.
    pub fn restored(&mut self, records: Vec<RecordKey>, provided: Vec<RecordKey>, now: Instant) {
        for k in records {
            self.republish.insert(k, now);
        }
        for k in provided {
            self.provide.insert(k, now);
        }
    }

    fn due(map: &mut HashMap<RecordKey, Instant>, now: Instant) -> Vec<RecordKey> {
        let mut due: Vec<(Instant, RecordKey)> = map
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(k, t)| (*t, k.clone()))
            .collect();
        due.sort();
        due.truncate(PER_TICK);
        due.into_iter().map(|(_, k)| k).collect()
    }
}

impl EventLoop {
    pub(super) fn jobs_tick(&mut self, now: Instant) {
        self.store.expire(now);
        if now >= self.jobs.next_save {
            self.jobs.next_save = now + SAVE_EVERY;
            self.save_routing_table();
        }
        if !self.join.joined {
            return;
        }
        self.republish_due(now);
        self.replicate_due(now);
        if now >= self.jobs.next_refresh {
            self.jobs.next_refresh = now + self.settings.timings.refresh_interval;
            self.start_bootstrap(None);
        }
    }

    fn republish_due(&mut self, now: Instant) {
        let local = *self.swarm.local_peer_id();
        let ttl = self.settings.timings.record_ttl;
        for key in Jobs::due(&mut self.jobs.republish, now) {
            let own = self
                .store
                .get(&key)
                .map(|h| h.record.clone())
                .filter(|r| r.publisher == Some(local));
            let Some(mut record) = own else {
                // Superseded by a newer write, or gone: no longer ours to publish.
                self.jobs.republish.remove(&key);
                continue;
            };
            record.expires = Some(now + ttl);
            if self.store.put_own(record.clone()).is_err() {
                self.jobs.republish.remove(&key);
                continue;
            }
            self.jobs.published(&key, now);
            let id = self.put_query(record, Quorum::Default);
            self.advance(id);
        }
        for key in Jobs::due(&mut self.jobs.provide, now) {
            if self.store.provided_keys().contains(&key) {
                self.start_provide(key, None);
            } else {
                self.jobs.provide.remove(&key);
            }
        }
    }

    fn replicate_due(&mut self, now: Instant) {
        let interval = self.settings.timings.replication_interval;
        if now >= self.jobs.next_replication {
            self.jobs.next_replication = now + interval;
            let local = *self.swarm.local_peer_id();
            let keys: Vec<RecordKey> = self
                .store
                .records()
                .filter(|h| h.record.publisher != Some(local))
                .filter(|h| now.saturating_duration_since(h.stored) >= interval)
                .map(|h| h.record.key.clone())
                .collect();
            self.jobs.replicating.extend(keys);
        }
        for _ in 0..PER_TICK {
            let Some(key) = self.jobs.replicating.pop_front() else {
                break;
            };
            let Some(record) = self.store.get(&key).map(|h| h.record.clone()) else {
                continue;
            };
            let id = self.put_query(record, Quorum::Default);
            self.advance(id);
        }
    }
}
