//! The record store behind Kademlia.
//!
//! [`Store`] wraps libp2p's `MemoryStore` and adds the checks libp2p leaves
//! to the application (key length). It is the single place that decides
//! where records live, so persistence can be added behind it without the
//! event loop noticing.

use std::borrow::Cow;

use libp2p::PeerId;
use libp2p::kad::store::{self, MemoryStore, MemoryStoreConfig, RecordStore};
use libp2p::kad::{ProviderRecord, Record, RecordKey};

use crate::config::Limits;

/// The node's record store.
pub struct Store {
    memory: MemoryStore,
    max_key_bytes: usize,
}

impl Store {
    /// A store that keeps everything in memory, within `limits`.
    pub fn in_memory(local: PeerId, limits: &Limits) -> Self {
        let config = MemoryStoreConfig {
            max_records: limits.max_records,
            // MemoryStore refuses values of `len >= max_value_bytes`; our
            // limit is inclusive (a value of exactly the limit is accepted).
            max_value_bytes: limits.max_value_bytes + 1,
            max_provided_keys: limits.max_provider_keys,
            max_providers_per_key: libp2p::kad::K_VALUE.get(),
        };
        Store {
            memory: MemoryStore::with_config(local, config),
            max_key_bytes: limits.max_key_bytes,
        }
    }

    /// Number of records held.
    pub fn record_count(&self) -> usize {
        self.memory.records().count()
    }

    /// Number of provider records this node itself announces.
    pub fn provided_count(&self) -> usize {
        self.memory.provided().count()
    }

    /// Makes everything written so far durable (a no-op in memory).
    pub fn flush(&mut self) -> Result<(), String> {
        Ok(())
    }

    fn check_key(&self, key: &RecordKey) -> store::Result<()> {
        if key.as_ref().len() > self.max_key_bytes {
            // libp2p's store errors have no "key too long"; the value-size
            // error is the closest refusal the protocol layer understands.
            return Err(store::Error::ValueTooLarge);
        }
        Ok(())
    }
}

impl RecordStore for Store {
    type RecordsIter<'a> = <MemoryStore as RecordStore>::RecordsIter<'a>;
    type ProvidedIter<'a> = <MemoryStore as RecordStore>::ProvidedIter<'a>;

    fn get(&self, k: &RecordKey) -> Option<Cow<'_, Record>> {
        self.memory.get(k)
    }

    fn put(&mut self, r: Record) -> store::Result<()> {
        self.check_key(&r.key)?;
        self.memory.put(r)
    }

    fn remove(&mut self, k: &RecordKey) {
        self.memory.remove(k)
    }

    fn records(&self) -> Self::RecordsIter<'_> {
        self.memory.records()
    }

    fn add_provider(&mut self, record: ProviderRecord) -> store::Result<()> {
        self.check_key(&record.key)?;
        self.memory.add_provider(record)
    }

    fn providers(&self, key: &RecordKey) -> Vec<ProviderRecord> {
        self.memory.providers(key)
    }

    fn provided(&self) -> Self::ProvidedIter<'_> {
        self.memory.provided()
    }

    fn remove_provider(&mut self, k: &RecordKey, p: &PeerId) {
        self.memory.remove_provider(k, p)
    }
}
