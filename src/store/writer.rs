//! The writer thread: takes every batch waiting, writes them in one
//! transaction and commits it (group commit), then reports the highest
//! batch committed; compactions and backups run between commits, in the
//! order they were asked for.
//!
//! A commit that fails with an I/O error (a full or failing disk) leaves
//! redb refusing every later transaction ("previous I/O error"), so the
//! database is closed and opened again (redb repairs it) before the next
//! write: once the disk takes writes again, commits succeed again and the
//! store recovers by itself.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;

use tokio::sync::mpsc;
use tracing::{info, warn};

use super::backup::{self, Compacted};
use super::disk::{
    Batch, DB_CACHE_BYTES, DiskEvent, Job, PEERS, PROVIDERS, QUARANTINE, RECORDS, Table, open_error,
};
use crate::error::Error;

/// The writer's state: the database, closed after an I/O error until the
/// next job opens it again.
struct Writer {
    path: PathBuf,
    db: Option<redb::Database>,
}

impl Writer {
    /// The database, opened again if an earlier error closed it.
    fn db(&mut self) -> Result<&mut redb::Database, String> {
        if self.db.is_none() {
            let db = redb::Builder::new()
                .set_cache_size(DB_CACHE_BYTES)
                .create(&self.path)
                .map_err(open_error)?;
            info!(path = %self.path.display(), "record store database opened again");
            self.db = Some(db);
        }
        self.db
            .as_mut()
            .ok_or_else(|| "the database is not open".to_string())
    }

    fn commit(&mut self, batches: &[Batch]) -> Result<(), String> {
        let result = write(self.db()?, batches).map_err(|e| e.to_string().replace('\n', " "));
        if result.is_err() {
            // redb refuses every transaction after an I/O error: start afresh.
            self.db = None;
        }
        result
    }

    fn compact(&mut self) -> Result<Compacted, Error> {
        let path = self.path.clone();
        let bytes = || std::fs::metadata(&path).map_or(0, |m| m.len());
        let before = bytes();
        let db = self.db().map_err(Error::Invalid)?;
        db.compact()
            .map_err(|e| Error::Invalid(format!("compaction failed: {e}")))?;
        Ok(Compacted {
            before,
            after: bytes(),
        })
    }
}

/// Runs the writer until every sender is gone, reporting on `events`.
pub(super) fn run(
    path: PathBuf,
    db: redb::Database,
    rx: std_mpsc::Receiver<Job>,
    events: mpsc::UnboundedSender<DiskEvent>,
) {
    let mut w = Writer { path, db: Some(db) };
    let mut later: VecDeque<Job> = VecDeque::new();
    while let Some(job) = later.pop_front().or_else(|| rx.recv().ok()) {
        match job {
            Job::Batch(first) => {
                let mut batches = vec![first];
                // Every batch waiting shares this commit; other jobs wait for it.
                while let Ok(more) = rx.try_recv() {
                    match more {
                        Job::Batch(b) if later.is_empty() => batches.push(b),
                        other => later.push_back(other),
                    }
                }
                let (first, last) = (batches[0].seq, batches[batches.len() - 1].seq);
                let event = match w.commit(&batches) {
                    Ok(()) => DiskEvent::Committed(last),
                    Err(error) => DiskEvent::Failed { first, last, error },
                };
                // The store may be gone (shutdown): nothing left to tell.
                let _ = events.send(event);
            }
            Job::Compact(reply) => {
                let _ = reply.send(w.compact());
            }
            Job::Backup(dest, reply) => {
                let done = match w.db() {
                    Ok(db) => backup::copy_database(db, &dest),
                    Err(e) => Err(Error::Invalid(e)),
                };
                if let Err(e) = &done {
                    warn!(dest = %dest.display(), error = %e, "backup failed");
                }
                let _ = reply.send(done);
            }
        }
    }
}

fn write(db: &redb::Database, batches: &[Batch]) -> Result<(), redb::Error> {
    let txn = db.begin_write()?;
    {
        let mut records = txn.open_table(RECORDS)?;
        let mut providers = txn.open_table(PROVIDERS)?;
        let mut peers = txn.open_table(PEERS)?;
        let mut quarantine = txn.open_table(QUARANTINE)?;
        for op in batches.iter().flat_map(|b| &b.ops) {
            let table = match op.table {
                Table::Records => &mut records,
                Table::Providers => &mut providers,
                Table::Peers => &mut peers,
                Table::Quarantine => &mut quarantine,
            };
            match &op.value {
                Some(v) => {
                    table.insert(op.key.as_slice(), v.as_slice())?;
                }
                None => {
                    table.remove(op.key.as_slice())?;
                }
            }
        }
    }
    txn.commit()?;
    Ok(())
}
