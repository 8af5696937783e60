//! The database behind the store: [redb] in the data directory, written by
//! a thread of its own so the event loop never waits for the disk.
//!
//! The store hands batches of writes to [`Disk::submit`] and goes on; the
//! writer thread takes every batch waiting, writes them in one transaction
//! and commits it (redb's default durability: fsync), then reports the
//! highest batch committed. So writes arriving while a commit runs share
//! the next commit (group commit): a flood of records costs one fsync per
//! commit, not one per record, and a record is acknowledged to its sender
//! only once it is on disk.
//!
//! [redb]: https://docs.rs/redb

use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use super::backup::{BackedUp, Compacted};
use crate::error::{Error, StartError};

/// The database's file name in the data directory.
pub const DB_FILE: &str = "records.redb";

/// The layout of the tables, stored in the `meta` table; bumped on
/// incompatible changes (new tables are compatible).
pub const SCHEMA: u64 = 1;
pub(super) const SCHEMA_KEY: &str = "schema";

pub(super) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
pub(super) const RECORDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("records");
pub(super) const PROVIDERS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("providers");
pub(super) const PEERS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("peers");
pub(super) const QUARANTINE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("quarantine");

/// redb's page cache. Reads are served from memory, so this only helps writes.
pub(super) const DB_CACHE_BYTES: usize = 4 * 1024 * 1024;

/// The tables a write can go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// Records, by key.
    Records,
    /// Provider lists, by key.
    Providers,
    /// The routing table's peers and addresses, by peer ID (for rejoining).
    Peers,
    /// Entries found damaged, kept aside for inspection.
    Quarantine,
}

/// One write: `value` under `key`, or a removal when `None`.
#[derive(Debug, Clone)]
pub struct Op {
    /// The table.
    pub table: Table,
    /// The key.
    pub key: Vec<u8>,
    /// The new bytes, or `None` to remove.
    pub value: Option<Vec<u8>>,
}

/// What the writer thread reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskEvent {
    /// Every batch up to this sequence number is on disk.
    Committed(u64),
    /// The batches from `first` to `last` could not be written.
    Failed {
        /// The first batch of the failed commit.
        first: u64,
        /// The last batch of the failed commit.
        last: u64,
        /// Why, in one line.
        error: String,
    },
}

/// Everything the tables held at open, undecoded.
#[derive(Debug, Default)]
pub struct Contents {
    /// Record entries.
    pub records: Vec<(Vec<u8>, Vec<u8>)>,
    /// Provider-list entries.
    pub providers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Saved routing-table peers.
    pub peers: Vec<(Vec<u8>, Vec<u8>)>,
    /// How many damaged entries the quarantine table holds.
    pub quarantined: u64,
}

/// Writes committed together, numbered in the order they were queued.
pub(super) struct Batch {
    pub seq: u64,
    pub ops: Vec<Op>,
}

/// What the writer thread is asked to do, in order.
pub(super) enum Job {
    /// Write these ops.
    Batch(Batch),
    /// Compact the file; the sizes before and after go to the sender.
    Compact(oneshot::Sender<Result<Compacted, Error>>),
    /// Copy the tables into a new database at this path.
    Backup(PathBuf, oneshot::Sender<Result<BackedUp, Error>>),
}

/// The handle to the database and its writer thread.
pub struct Disk {
    path: PathBuf,
    tx: Option<std_mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    next_seq: u64,
}

impl Disk {
    /// Opens (or creates) `records.redb` in `dir`, reads what it holds and
    /// starts the writer thread, which reports on `events`.
    pub fn open(
        dir: &Path,
        events: mpsc::UnboundedSender<DiskEvent>,
    ) -> Result<(Disk, Contents), StartError> {
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
        let contents = read_all(&db).map_err(|e| err(e.to_string()))?;
        let (tx, rx) = std_mpsc::channel::<Job>();
        let writer_path = path.clone();
        let thread = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || super::writer::run(writer_path, db, rx, events))
            .map_err(|e| err(format!("cannot start the writer thread: {e}")))?;
        Ok((
            Disk {
                path,
                tx: Some(tx),
                thread: Some(thread),
                next_seq: 1,
            },
            contents,
        ))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queues `ops` for the next commit; returns the batch's sequence
    /// number (reported by [`DiskEvent`]s), or `None` if the writer is gone.
    pub fn submit(&mut self, ops: Vec<Op>) -> Option<u64> {
        let seq = self.next_seq;
        let tx = self.tx.as_ref()?;
        tx.send(Job::Batch(Batch { seq, ops })).ok()?;
        self.next_seq += 1;
        Some(seq)
    }

    /// Asks the writer for `job` (after the writes queued before it);
    /// false if the writer is gone.
    pub(super) fn ask(&self, job: Job) -> bool {
        self.tx.as_ref().is_some_and(|tx| tx.send(job).is_ok())
    }

    /// Stops the writer after it has written every batch queued, and waits
    /// for it.
    pub fn close(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            warn!(path = %self.path.display(), "the store writer thread panicked");
        }
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        self.close();
    }
}

/// A table of byte keys and values.
type Bytes = TableDefinition<'static, &'static [u8], &'static [u8]>;
/// One entry, owned.
type Entry = (Vec<u8>, Vec<u8>);

fn read_all(db: &impl ReadableDatabase) -> Result<Contents, redb::Error> {
    let txn = db.begin_read()?;
    let read = |def: Bytes| -> Result<Vec<Entry>, redb::Error> {
        let table = txn.open_table(def)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    };
    Ok(Contents {
        records: read(RECORDS)?,
        providers: read(PROVIDERS)?,
        peers: read(PEERS)?,
        quarantined: txn
            .open_table(QUARANTINE)
            .ok()
            .and_then(|t| t.len().ok())
            .unwrap_or(0),
    })
}

/// Reads everything `records.redb` in `dir` holds without writing to it
/// (`p2pnode verify`): redb's read-only mode, which refuses a database a
/// node has open and one that needs a repair (a node's crash) rather than
/// change it.
pub fn read_only(dir: &Path) -> Result<Contents, StartError> {
    let path = dir.join(DB_FILE);
    let err = |reason: String| StartError::Store {
        path: path.clone(),
        reason,
    };
    if !path.exists() {
        return Err(err("no such file".into()));
    }
    let db = redb::ReadOnlyDatabase::open(&path).map_err(|e| match e {
        redb::DatabaseError::RepairAborted => err(
            "not closed cleanly (the node crashed?): start the node once to repair it, then verify"
                .into(),
        ),
        e => err(open_error(e)),
    })?;
    read_all(&db).map_err(|e| err(e.to_string().replace('\n', " ")))
}

/// A one-line reason for a database that cannot be opened.
pub(super) fn open_error(e: redb::DatabaseError) -> String {
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
        other => format!("cannot open: {}", other.to_string().replace('\n', " ")),
    }
}

/// Creates the tables on first use; refuses a layout this code does not know.
fn check_schema(db: &redb::Database) -> Result<(), String> {
    let s = |e: &dyn std::fmt::Display| e.to_string().replace('\n', " ");
    let txn = db.begin_write().map_err(|e| s(&e))?;
    {
        let mut meta = txn.open_table(META).map_err(|e| s(&e))?;
        let found = meta.get(SCHEMA_KEY).map_err(|e| s(&e))?.map(|v| v.value());
        match found {
            None => {
                meta.insert(SCHEMA_KEY, SCHEMA).map_err(|e| s(&e))?;
            }
            Some(SCHEMA) => {}
            Some(v) => {
                return Err(format!(
                    "written by a newer p2pnode (store layout {v}, this one reads {SCHEMA})"
                ));
            }
        }
        for def in [RECORDS, PROVIDERS, PEERS, QUARANTINE] {
            txn.open_table(def).map_err(|e| s(&e))?;
        }
    }
    txn.commit().map_err(|e| s(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(key: &str, value: Option<&str>) -> Op {
        Op {
            table: Table::Records,
            key: key.as_bytes().to_vec(),
            value: value.map(|v| v.as_bytes().to_vec()),
        }
    }

    #[tokio::test]
    async fn batches_are_committed_in_order_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (mut disk, contents) = Disk::open(dir.path(), tx.clone()).unwrap();
        assert!(contents.records.is_empty());
        let a = disk
            .submit(vec![op("a", Some("1")), op("b", Some("2"))])
            .unwrap();
        let b = disk
            .submit(vec![op("a", None), op("c", Some("3"))])
            .unwrap();
        assert!(b > a);
        let mut upto = 0;
        while upto < b {
            match rx.recv().await.unwrap() {
                DiskEvent::Committed(n) => upto = n,
                other => panic!("{other:?}"),
            }
        }
        disk.close();
        drop(disk);
        let (_disk, contents) = Disk::open(dir.path(), tx).unwrap();
        let keys: Vec<&[u8]> = contents.records.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(keys, [&b"b"[..], b"c"]);
    }

    #[test]
    fn a_second_open_is_refused_and_garbage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, _rx) = mpsc::unbounded_channel();
        let _first = Disk::open(dir.path(), tx.clone()).unwrap();
        let Err(e) = Disk::open(dir.path(), tx.clone()) else {
            panic!("opened twice")
        };
        assert!(e.to_string().contains("another p2pnode"), "{e}");
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join(DB_FILE), vec![0x5a; 8192]).unwrap();
        let Err(e) = Disk::open(other.path(), tx) else {
            panic!("garbage opened as a database")
        };
        let e = e.to_string();
        assert!(e.contains(DB_FILE), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }
}
