//! Provider records: who provides a key, within the provider-key limit;
//! this node's own announcements are kept when a key's list is full.

use std::time::Instant;

use super::{Refusal, Store};
use crate::dht::{ProviderRecord, RecordKey};

impl Store {
    /// Adds (or refreshes) a provider record, from a peer or from this node.
    pub fn add_provider(&mut self, record: ProviderRecord) -> Result<Option<u64>, Refusal> {
        self.check_key(&record.key)?;
        let now = Instant::now();
        if !self.providers.contains_key(&record.key)
            && self.providers.len() >= self.limits.max_provider_keys
        {
            self.expire(now);
            if self.providers.len() >= self.limits.max_provider_keys {
                return Err(Refusal::ProvidersFull {
                    limit: self.limits.max_provider_keys,
                });
            }
        }
        let key = record.key.clone();
        let list = self.providers.entry(key.clone()).or_default();
        match list.iter_mut().find(|p| p.provider == record.provider) {
            Some(p) => *p = record,
            None => {
                if list.len() >= crate::dht::DEFAULT_K {
                    // Keep this node's own announcement; drop the oldest other.
                    if let Some(i) = list.iter().position(|p| p.provider != self.local) {
                        list.remove(i);
                    }
                }
                list.push(record);
            }
        }
        self.mark_providers(key);
        Ok(self.flush())
    }

    /// The live providers of `key`.
    pub fn providers(&self, key: &RecordKey) -> Vec<ProviderRecord> {
        let now = Instant::now();
        self.providers
            .get(key)
            .map(|l| l.iter().filter(|p| !p.is_expired(now)).cloned().collect())
            .unwrap_or_default()
    }

    /// The keys this node announces itself as a provider of.
    pub fn provided_keys(&self) -> Vec<RecordKey> {
        let now = Instant::now();
        self.providers
            .iter()
            .filter(|(_, l)| {
                l.iter()
                    .any(|p| p.provider == self.local && !p.is_expired(now))
            })
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// How many live provider records are held (all providers, all keys).
    pub fn provider_record_count(&self) -> usize {
        let now = Instant::now();
        self.providers
            .values()
            .flatten()
            .filter(|p| !p.is_expired(now))
            .count()
    }

    /// How many keys this node provides.
    pub fn provided_count(&self) -> usize {
        self.provided_keys().len()
    }
}
