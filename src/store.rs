//! The record store behind Kademlia: records and provider records kept in
//! an embedded database ([redb]) in the data directory, so they survive a
//! restart, or in memory only (`--ephemeral`).
//!
//! Reads never touch the disk: every record lives in an in-memory index
//! (libp2p's `MemoryStore`, which also applies Kademlia's rules for provider
//! lists), and writes go through to the database:
//! - a record or provider record this node originated is committed (fsync)
//!   before `put` returns, so a `put` the user saw succeed survives a crash;
//! - records pushed by peers are marked dirty and committed together by
//!   [`Store::flush`], which the event loop calls every tick and at
//!   shutdown: a peer flooding us costs one commit per tick, not one each.
//!
//! The file is locked while open: a second process on the same data
//! directory, a corrupt file or a record that does not decode is an error
//! naming the file, never an empty store in its place.
//!
//! [redb]: https://docs.rs/redb

pub mod codec;

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use libp2p::PeerId;
use libp2p::kad::store::{self, MemoryStore, MemoryStoreConfig, RecordStore};
use libp2p::kad::{ProviderRecord, Record, RecordKey};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use tracing::{info, warn};

use self::codec::Clock;
use crate::config::Limits;
use crate::error::StartError;
use crate::keys;

/// The database's file name in the data directory.
pub const DB_FILE: &str = "records.redb";

/// The layout of the tables, stored in [`META`]; bumped on incompatible changes.
const SCHEMA: u64 = 1;
const SCHEMA_KEY: &str = "schema";

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const RECORDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("records");
const PROVIDERS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("providers");

/// redb's page cache. Reads are served from memory, so this only helps writes.
const DB_CACHE_BYTES: usize = 4 * 1024 * 1024;

/// The node's record store.
pub struct Store {
    memory: MemoryStore,
    local: PeerId,
    limits: Limits,
    disk: Option<Disk>,
}

/// The database side of a persistent store.
struct Disk {
    db: redb::Database,
    path: PathBuf,
    dirty_records: HashSet<RecordKey>,
    dirty_providers: HashSet<RecordKey>,
    /// The last write error reported, so a failing disk is logged once.
    failing: Option<String>,
}

impl Store {
    /// A store that keeps everything in memory, within `limits`.
    pub fn in_memory(local: PeerId, limits: &Limits) -> Self {
        let config = MemoryStoreConfig {
            max_records: limits.max_records,
            // The value size is checked here (`>` the limit: a value of
            // exactly the limit is accepted); MemoryStore refuses `>=`.
            max_value_bytes: usize::MAX,
            max_provided_keys: limits.max_provider_keys,
            max_providers_per_key: libp2p::kad::K_VALUE.get(),
        };
        Store {
            memory: MemoryStore::with_config(local, config),
            local,
            limits: *limits,
            disk: None,
        }
    }

    /// Opens (or creates) the database `records.redb` in `dir` and loads
    /// what it holds. Records that expired while the node was down are
    /// dropped; records beyond the current limits stay on disk, unloaded.
    pub fn open(dir: &Path, local: PeerId, limits: &Limits) -> Result<Self, StartError> {
        let path = dir.join(DB_FILE);
        let err = |reason: String| StartError::Store {
            path: path.clone(),
            reason,
        };
        let db = redb::Builder::new()
            .set_cache_size(DB_CACHE_BYTES)
            .create(&path)
            .map_err(|e| err(open_error(e)))?;
        check_schema(&db).map_err(|e| err(e.to_string()))?;
        let mut store = Store::in_memory(local, limits);
        let loaded = store.load(&db).map_err(err)?;
        store.disk = Some(Disk {
            db,
            path: path.clone(),
            dirty_records: HashSet::new(),
            dirty_providers: HashSet::new(),
            failing: None,
        });
        if !loaded.expired.is_empty() {
            // Expired records are dead anyway; deleting them keeps the file small.
            if let Some(disk) = &mut store.disk {
                disk.dirty_records.extend(loaded.expired.iter().cloned());
            }
            store.flush().map_err(err)?;
        }
        if loaded.over_limit > 0 {
            warn!(path = %path.display(), records = loaded.over_limit,
                "records over --max-records/--max-value-size/--max-key-size were kept on disk but not loaded");
        }
        info!(path = %path.display(), records = store.record_count(),
            providers = loaded.providers, expired = loaded.expired.len(), "record store opened");
        Ok(store)
    }

    /// Reads every table into the memory index.
    fn load(&mut self, db: &redb::Database) -> Result<Loaded, String> {
        let clock = Clock::now();
        let mut loaded = Loaded::default();
        let txn = db.begin_read().map_err(|e| e.to_string())?;
        let records = txn.open_table(RECORDS).map_err(|e| e.to_string())?;
        for entry in records.iter().map_err(|e| e.to_string())? {
            let (k, v) = entry.map_err(|e| e.to_string())?;
            let record = codec::decode_record(k.value(), v.value(), &clock)
                .map_err(|e| corrupt_entry("record", k.value(), &e))?;
            if record.is_expired(clock.instant) {
                loaded.expired.push(record.key);
            } else if self.put_memory(record).is_err() {
                loaded.over_limit += 1;
            }
        }
        let providers = txn.open_table(PROVIDERS).map_err(|e| e.to_string())?;
        for entry in providers.iter().map_err(|e| e.to_string())? {
            let (k, v) = entry.map_err(|e| e.to_string())?;
            let list = codec::decode_providers(k.value(), v.value(), &clock)
                .map_err(|e| corrupt_entry("provider list", k.value(), &e))?;
            for p in list {
                if !p.is_expired(clock.instant) && self.memory.add_provider(p).is_ok() {
                    loaded.providers += 1;
                }
            }
        }
        Ok(loaded)
    }

    /// Whether records are kept on disk.
    pub fn is_persistent(&self) -> bool {
        self.disk.is_some()
    }

    /// Number of records held.
    pub fn record_count(&self) -> usize {
        self.memory.records().count()
    }

    /// Number of provider records this node itself announces.
    pub fn provided_count(&self) -> usize {
        self.memory.provided().count()
    }

    /// Keys whose latest state is not on disk yet.
    pub fn unflushed(&self) -> usize {
        self.disk
            .as_ref()
            .map_or(0, |d| d.dirty_records.len() + d.dirty_providers.len())
    }

    /// The records this node published itself: what it republishes after a restart.
    pub fn originated(&self) -> Vec<Record> {
        self.memory
            .records()
            .filter(|r| r.publisher == Some(self.local))
            .map(Cow::into_owned)
            .collect()
    }

    /// The keys this node announces itself as a provider of.
    pub fn provided_keys(&self) -> Vec<RecordKey> {
        self.memory.provided().map(|p| p.key.clone()).collect()
    }

    /// Commits every pending write in one transaction. On failure the
    /// writes stay pending and are retried on the next call.
    pub fn flush(&mut self) -> Result<(), String> {
        let Store { memory, disk, .. } = self;
        let Some(disk) = disk else {
            return Ok(());
        };
        if disk.dirty_records.is_empty() && disk.dirty_providers.is_empty() {
            return Ok(());
        }
        let clock = Clock::now();
        let write = || -> Result<(), redb::Error> {
            let txn = disk.db.begin_write()?;
            {
                let mut table = txn.open_table(RECORDS)?;
                for key in &disk.dirty_records {
                    match memory.get(key) {
                        Some(r) => {
                            table.insert(
                                key.as_ref(),
                                codec::encode_record(&r, &clock).as_slice(),
                            )?;
                        }
                        None => {
                            table.remove(key.as_ref())?;
                        }
                    }
                }
                let mut table = txn.open_table(PROVIDERS)?;
                for key in &disk.dirty_providers {
                    let list = memory.providers(key);
                    if list.is_empty() {
                        table.remove(key.as_ref())?;
                    } else {
                        let bytes = codec::encode_providers(&list, &clock);
                        table.insert(key.as_ref(), bytes.as_slice())?;
                    }
                }
            }
            txn.commit()?;
            Ok(())
        };
        match write() {
            Ok(()) => {
                disk.dirty_records.clear();
                disk.dirty_providers.clear();
                if disk.failing.take().is_some() {
                    info!(path = %disk.path.display(), "record store writable again");
                }
                Ok(())
            }
            Err(e) => Err(format!("record store {}: {e}", disk.path.display())),
        }
    }

    /// [`Store::flush`], logging a failure once rather than on every tick.
    pub fn flush_logged(&mut self) {
        if let Err(e) = self.flush()
            && let Some(disk) = &mut self.disk
            && disk.failing.as_deref() != Some(e.as_str())
        {
            let pending = disk.dirty_records.len() + disk.dirty_providers.len();
            warn!(error = %e, pending, "cannot write the record store; keeping the writes in memory and retrying");
            disk.failing = Some(e);
        }
    }

    fn check_key(&self, key: &RecordKey) -> store::Result<()> {
        if key.as_ref().len() > self.limits.max_key_bytes {
            // libp2p's store errors have no "key too long"; the value-size
            // error is the closest refusal the protocol layer understands.
            return Err(store::Error::ValueTooLarge);
        }
        Ok(())
    }

    /// Puts into the memory index, with this store's limits.
    fn put_memory(&mut self, r: Record) -> store::Result<()> {
        self.check_key(&r.key)?;
        if r.value.len() > self.limits.max_value_bytes {
            return Err(store::Error::ValueTooLarge);
        }
        self.memory.put(r)
    }

    fn mark_record(&mut self, key: RecordKey, own: bool) {
        if let Some(disk) = &mut self.disk {
            disk.dirty_records.insert(key);
            if own {
                self.flush_logged();
            }
        }
    }

    fn mark_providers(&mut self, key: RecordKey, own: bool) {
        if let Some(disk) = &mut self.disk {
            disk.dirty_providers.insert(key);
            if own {
                self.flush_logged();
            }
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // Normally a no-op: shutdown has flushed already.
        self.flush_logged();
    }
}

/// Whether a record is not in its last second (see [`Store::records`]).
#[allow(clippy::ptr_arg)] // `Iterator::filter` over `Cow`s hands it `&Cow`.
fn not_dying(r: &Cow<'_, Record>) -> bool {
    let now = Instant::now();
    r.expires
        .is_none_or(|t| t <= now || t >= now + WIRE_TTL_GRANULARITY)
}

/// libp2p-kad writes a record's remaining lifetime on the wire in whole seconds.
const WIRE_TTL_GRANULARITY: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Loaded {
    expired: Vec<RecordKey>,
    over_limit: usize,
    providers: usize,
}

fn corrupt_entry(what: &str, key: &[u8], e: &codec::CodecError) -> String {
    format!(
        "corrupt {what} under key {} ({e}); move the file away to start with an empty store",
        keys::display(&RecordKey::new(&key))
    )
}

/// A one-line reason for a database that cannot be opened.
fn open_error(e: redb::DatabaseError) -> String {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => {
            "in use by another process (is another p2pnode running on this data directory?)".into()
        }
        redb::DatabaseError::UpgradeRequired(v) => {
            format!(
                "written in an older database format (version {v}); this p2pnode cannot read it"
            )
        }
        redb::DatabaseError::Storage(redb::StorageError::Corrupted(why)) => {
            format!("corrupt ({why}); move the file away to start with an empty store")
        }
        redb::DatabaseError::Storage(redb::StorageError::Io(e))
            if e.kind() == std::io::ErrorKind::InvalidData =>
        {
            format!(
                "corrupt or not a record store ({e}); move the file away to start with an empty store"
            )
        }
        other => format!("cannot open: {other}"),
    }
}

/// Creates the tables on first use; refuses a layout this code does not know.
fn check_schema(db: &redb::Database) -> Result<(), String> {
    let txn = db.begin_write().map_err(|e| e.to_string())?;
    {
        let mut meta = txn.open_table(META).map_err(|e| e.to_string())?;
        let found = meta
            .get(SCHEMA_KEY)
            .map_err(|e| e.to_string())?
            .map(|v| v.value());
        match found {
            None => {
                meta.insert(SCHEMA_KEY, SCHEMA).map_err(|e| e.to_string())?;
            }
            Some(SCHEMA) => {}
            Some(v) => {
                return Err(format!(
                    "written by a newer p2pnode (store layout {v}, this one reads {SCHEMA})"
                ));
            }
        }
        txn.open_table(RECORDS).map_err(|e| e.to_string())?;
        txn.open_table(PROVIDERS).map_err(|e| e.to_string())?;
    }
    txn.commit().map_err(|e| e.to_string())
}

impl RecordStore for Store {
    type RecordsIter<'a> = std::iter::Filter<
        <MemoryStore as RecordStore>::RecordsIter<'a>,
        fn(&Cow<'a, Record>) -> bool,
    >;
    type ProvidedIter<'a> = <MemoryStore as RecordStore>::ProvidedIter<'a>;

    fn get(&self, k: &RecordKey) -> Option<Cow<'_, Record>> {
        self.memory.get(k)
    }

    fn put(&mut self, r: Record) -> store::Result<()> {
        if self.memory.get(&r.key).is_some_and(|old| *old == r) {
            // Republishing an unchanged record: nothing to write.
            return Ok(());
        }
        let own = r.publisher == Some(self.local);
        let key = r.key.clone();
        self.put_memory(r)?;
        self.mark_record(key, own);
        Ok(())
    }

    fn remove(&mut self, k: &RecordKey) {
        if self.memory.get(k).is_some() {
            self.memory.remove(k);
            self.mark_record(k.clone(), false);
        }
    }

    /// Every record except those that expire within the next second:
    /// Kademlia's replication job iterates these, and libp2p-kad sends a
    /// remaining lifetime under one second as TTL 0, "never expires", which
    /// the receiver turns into a full new TTL: a dying record would come
    /// back to life. Expired records are still listed, so the job deletes them.
    fn records(&self) -> Self::RecordsIter<'_> {
        self.memory.records().filter(not_dying)
    }

    fn add_provider(&mut self, record: ProviderRecord) -> store::Result<()> {
        self.check_key(&record.key)?;
        let own = record.provider == self.local;
        let key = record.key.clone();
        self.memory.add_provider(record)?;
        self.mark_providers(key, own);
        Ok(())
    }

    fn providers(&self, key: &RecordKey) -> Vec<ProviderRecord> {
        self.memory.providers(key)
    }

    fn provided(&self) -> Self::ProvidedIter<'_> {
        self.memory.provided()
    }

    fn remove_provider(&mut self, k: &RecordKey, p: &PeerId) {
        self.memory.remove_provider(k, p);
        self.mark_providers(k.clone(), *p == self.local);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, value: &str, publisher: Option<PeerId>) -> Record {
        Record {
            key: RecordKey::new(&key),
            value: value.as_bytes().to_vec(),
            publisher,
            expires: None,
        }
    }

    #[test]
    fn records_and_providers_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let me = PeerId::random();
        let other = PeerId::random();
        let limits = Limits::default();
        let soon = Instant::now() + Duration::from_secs(3600);
        {
            let mut s = Store::open(dir.path(), me, &limits).unwrap();
            s.put(record("mine", "1", Some(me))).unwrap();
            // Own records are committed by `put` itself.
            assert_eq!(s.unflushed(), 0);
            let mut theirs = record("theirs", "2", Some(other));
            theirs.expires = Some(soon);
            s.put(theirs).unwrap();
            assert_eq!(s.unflushed(), 1);
            s.add_provider(ProviderRecord::new(RecordKey::new(&"p"), me, vec![]))
                .unwrap();
            s.flush().unwrap();
            assert_eq!(s.unflushed(), 0);
        }
        let s = Store::open(dir.path(), me, &limits).unwrap();
        assert_eq!(s.record_count(), 2);
        let mine = s.get(&RecordKey::new(&"mine")).unwrap();
        assert_eq!(mine.publisher, Some(me));
        assert_eq!(mine.expires, None);
        let theirs = s.get(&RecordKey::new(&"theirs")).unwrap();
        assert_eq!(theirs.publisher, Some(other));
        let left = theirs.expires.unwrap() - Instant::now();
        assert!(left > Duration::from_secs(3590) && left <= Duration::from_secs(3600));
        assert_eq!(s.originated().len(), 1);
        assert_eq!(s.provided_keys(), vec![RecordKey::new(&"p")]);
    }

    #[test]
    fn removals_and_expiry_reach_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let me = PeerId::random();
        let limits = Limits::default();
        {
            let mut s = Store::open(dir.path(), me, &limits).unwrap();
            s.put(record("gone", "1", Some(me))).unwrap();
            let mut short = record("short", "2", None);
            short.expires = Some(Instant::now() + Duration::from_millis(50));
            s.put(short).unwrap();
            s.remove(&RecordKey::new(&"gone"));
            // Dropping flushes what is pending.
        }
        std::thread::sleep(Duration::from_millis(100));
        let s = Store::open(dir.path(), me, &limits).unwrap();
        assert_eq!(s.record_count(), 0);
    }

    #[test]
    fn a_second_open_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let me = PeerId::random();
        let _first = Store::open(dir.path(), me, &Limits::default()).unwrap();
        let Err(e) = Store::open(dir.path(), me, &Limits::default()) else {
            panic!("second open succeeded")
        };
        let e = e.to_string();
        assert!(e.contains(DB_FILE) && e.contains("in use"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(DB_FILE), vec![0x5a; 8192]).unwrap();
        let Err(e) = Store::open(dir.path(), PeerId::random(), &Limits::default()) else {
            panic!("garbage opened as a database")
        };
        let e = e.to_string();
        assert!(e.contains(DB_FILE), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn an_undecodable_record_is_an_error_not_a_loss() {
        let dir = tempfile::tempdir().unwrap();
        let me = PeerId::random();
        {
            let db = redb::Database::create(dir.path().join(DB_FILE)).unwrap();
            check_schema(&db).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(RECORDS)
                .unwrap()
                .insert(&b"bad"[..], &[1u8, 0, 0x7f][..])
                .unwrap();
            txn.commit().unwrap();
        }
        let Err(e) = Store::open(dir.path(), me, &Limits::default()) else {
            panic!("a corrupt record was skipped")
        };
        let e = e.to_string();
        assert!(e.contains("corrupt record under key bad"), "{e}");
    }

    #[test]
    fn records_in_their_last_second_are_not_offered_for_replication() {
        let mut s = Store::in_memory(PeerId::random(), &Limits::default());
        let now = Instant::now();
        for (key, expires) in [
            ("forever", None),
            ("later", Some(now + Duration::from_secs(60))),
            ("dying", Some(now + Duration::from_millis(900))),
            ("dead", Some(now - Duration::from_millis(1))),
        ] {
            let mut r = record(key, "v", None);
            r.expires = expires;
            s.put(r).unwrap();
        }
        let mut listed: Vec<Vec<u8>> = s.records().map(|r| r.key.to_vec()).collect();
        listed.sort();
        assert_eq!(listed, [&b"dead"[..], b"forever", b"later"]);
        assert_eq!(s.record_count(), 4);
    }

    #[test]
    fn limits_apply_and_the_exact_limit_fits() {
        let limits = Limits {
            max_value_bytes: 10,
            max_key_bytes: 4,
            max_records: 2,
            max_provider_keys: 1,
        };
        let mut s = Store::in_memory(PeerId::random(), &limits);
        s.put(Record::new(RecordKey::new(&"a"), vec![0; 10]))
            .unwrap();
        assert!(
            s.put(Record::new(RecordKey::new(&"b"), vec![0; 11]))
                .is_err()
        );
        assert!(
            s.put(Record::new(RecordKey::new(&"long!"), vec![0]))
                .is_err()
        );
        s.put(Record::new(RecordKey::new(&"b"), vec![0])).unwrap();
        assert!(matches!(
            s.put(Record::new(RecordKey::new(&"c"), vec![0])),
            Err(store::Error::MaxRecords)
        ));
    }
}
