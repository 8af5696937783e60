//! Maintenance of the database file: compaction, and backups that a
//! running node can take (`backup DIR`) as well as a stopped one (`p2pnode
//! backup --data-dir DIR DEST`).
//!
//! A backup is a consistent copy: the tables are read in one redb read
//! transaction (a snapshot: commits made meanwhile are not in it, and none
//! is half in it) and written into a new database in `DEST`, with the
//! identity key beside it. `DEST` is then a data directory of its own:
//! restoring is starting a node with `--data-dir DEST` (or moving its
//! files into the old data directory while the node is stopped).

use std::path::{Path, PathBuf};

use redb::{ReadableDatabase, ReadableTable};
use tokio::sync::oneshot;

use super::Store;
use super::disk::{
    DB_FILE, Job, META, PEERS, PROVIDERS, QUARANTINE, RECORDS, SCHEMA, SCHEMA_KEY, open_error,
};
use crate::error::Error;
use crate::identity::KEY_FILE;

/// What a compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compacted {
    /// The file's size before, in bytes.
    pub before: u64,
    /// The file's size after, in bytes.
    pub after: u64,
}

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackedUp {
    /// The directory written.
    pub dir: PathBuf,
    /// Records copied.
    pub records: usize,
    /// Provider lists copied.
    pub providers: usize,
    /// Saved routing-table peers copied.
    pub peers: usize,
    /// The size of the copy's database file, in bytes.
    pub bytes: u64,
    /// Whether the identity key was copied (an ephemeral node has none).
    pub identity: bool,
}

impl Store {
    /// Compacts the database file (after the writes queued before); the
    /// sizes go to `reply`.
    pub fn compact(&mut self, reply: oneshot::Sender<Result<Compacted, Error>>) {
        if self.disk.is_none() {
            let _ = reply.send(Err(in_memory("compact")));
            return;
        }
        self.flush();
        if let Some(d) = &self.disk {
            d.disk.ask(Job::Compact(reply));
        }
    }

    /// Copies the tables into a new database at `dest/records.redb` (after
    /// the writes queued before); the counts go to `reply`.
    pub fn backup(&mut self, dest: PathBuf, reply: oneshot::Sender<Result<BackedUp, Error>>) {
        if self.disk.is_none() {
            let _ = reply.send(Err(in_memory("back up")));
            return;
        }
        self.flush();
        if let Some(d) = &self.disk {
            d.disk.ask(Job::Backup(dest.join(DB_FILE), reply));
        }
    }
}

fn in_memory(what: &str) -> Error {
    Error::Invalid(format!(
        "this node keeps its records in memory (--ephemeral): nothing to {what}"
    ))
}

/// Makes `dest` a new, owner-only directory; refuses one that holds files
/// already, so a backup never mixes with or overwrites another.
pub fn prepare(dest: &Path) -> Result<(), String> {
    let shown = dest.display();
    if let Ok(mut entries) = std::fs::read_dir(dest)
        && entries.next().is_some()
    {
        return Err(format!(
            "{shown} is not empty: give a new directory for the backup"
        ));
    }
    std::fs::create_dir_all(dest).map_err(|e| format!("cannot create {shown}: {e}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("{shown}: {e}"))?;
    }
    Ok(())
}

/// Copies the identity key of `data_dir` into `dest` (owner-only), if
/// there is one; whether there was.
pub fn copy_identity(data_dir: &Path, dest: &Path) -> Result<bool, String> {
    let from = data_dir.join(KEY_FILE);
    if !from.exists() {
        return Ok(false);
    }
    let to = dest.join(KEY_FILE);
    std::fs::copy(&from, &to).map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("{}: {e}", to.display()))?;
    }
    Ok(true)
}

/// Copies every table of `db` into a new database at `dest` from one read
/// transaction (a consistent snapshot).
pub fn copy_database(db: &redb::Database, dest: &Path) -> Result<BackedUp, Error> {
    let fail = |e: &dyn std::fmt::Display| {
        Error::Invalid(format!(
            "backup to {}: {}",
            dest.display(),
            e.to_string().replace('\n', " ")
        ))
    };
    let read = db.begin_read().map_err(|e| fail(&e))?;
    let copy = redb::Database::create(dest).map_err(|e| fail(&open_error(e)))?;
    let txn = copy.begin_write().map_err(|e| fail(&e))?;
    let mut counts = [0usize; 4];
    {
        let mut meta = txn.open_table(META).map_err(|e| fail(&e))?;
        meta.insert(SCHEMA_KEY, SCHEMA).map_err(|e| fail(&e))?;
        for (i, def) in [RECORDS, PROVIDERS, PEERS, QUARANTINE]
            .into_iter()
            .enumerate()
        {
            let from = read.open_table(def).map_err(|e| fail(&e))?;
            let mut to = txn.open_table(def).map_err(|e| fail(&e))?;
            for entry in from.iter().map_err(|e| fail(&e))? {
                let (k, v) = entry.map_err(|e| fail(&e))?;
                to.insert(k.value(), v.value()).map_err(|e| fail(&e))?;
                counts[i] += 1;
            }
        }
    }
    txn.commit().map_err(|e| fail(&e))?;
    drop(copy);
    Ok(BackedUp {
        dir: dest.parent().map(Path::to_path_buf).unwrap_or_default(),
        records: counts[0],
        providers: counts[1],
        peers: counts[2],
        bytes: std::fs::metadata(dest).map_or(0, |m| m.len()),
        identity: false,
    })
}

/// A backup of a stopped node's data directory into `dest`.
pub fn offline(data_dir: &Path, dest: &Path) -> Result<BackedUp, String> {
    let file = data_dir.join(DB_FILE);
    if !file.exists() {
        return Err(format!(
            "{} has no record store ({DB_FILE})",
            data_dir.display()
        ));
    }
    let db = redb::Database::open(&file)
        .map_err(|e| format!("record store {}: {}", file.display(), open_error(e)))?;
    prepare(dest)?;
    let mut done = copy_database(&db, &dest.join(DB_FILE)).map_err(|e| e.to_string())?;
    done.identity = copy_identity(data_dir, dest)?;
    Ok(done)
}
