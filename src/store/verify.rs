//! `p2pnode verify`: an offline check of a stopped node's record store,
//! entry by entry, that never writes to it. A record is damaged when its
//! checksum fails or it does not decode, and when it breaks a validity
//! rule that its bytes must keep (an owned record's signature, a `/pk/`
//! record's key); a provider list or a saved peer when it does not decode.
//! Entries of a format this p2pnode does not know are noted, not counted
//! as damage (a newer p2pnode wrote them).

use std::fmt;
use std::path::Path;

use super::codec::{self, Clock};
use super::{disk, limits, load};
use crate::dht::{RecordKey, owned};
use crate::error::StartError;
use crate::keys;

/// One entry found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What kind of entry: `record`, `provider list`, `saved peer`.
    pub what: &'static str,
    /// Its key, as a user would type it.
    pub key: String,
    /// What is wrong.
    pub reason: String,
    /// Whether it is damage (else an entry this p2pnode cannot read).
    pub damaged: bool,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.damaged { "damaged" } else { "skipped" };
        write!(f, "{kind} {} {}: {}", self.what, self.key, self.reason)
    }
}

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Records checked.
    pub records: usize,
    /// Provider lists checked.
    pub providers: usize,
    /// Saved peers checked.
    pub peers: usize,
    /// Damaged entries found at earlier starts, kept in quarantine.
    pub quarantined: u64,
    /// What is wrong, one entry each.
    pub problems: Vec<Problem>,
}

impl Report {
    /// How many entries are damaged.
    pub fn damaged(&self) -> usize {
        self.problems.iter().filter(|p| p.damaged).count()
    }
}

/// Checks the store in `data_dir` without changing it.
pub fn verify(data_dir: &Path) -> Result<Report, StartError> {
    let contents = disk::read_only(data_dir)?;
    let clock = Clock::now();
    let mut report = Report {
        records: contents.records.len(),
        providers: contents.providers.len(),
        peers: contents.peers.len(),
        quarantined: contents.quarantined,
        problems: Vec::new(),
    };
    let shown = |k: &[u8]| keys::display(&RecordKey::new(&k));
    for (k, v) in &contents.records {
        let reason = match codec::decode_record(k, v, &clock) {
            Err(e) => Some((e.to_string(), !e.is_unknown_format())),
            Ok(r) => match owned::is_owned(k) {
                true => owned::open(k, &r.value)
                    .err()
                    .map(|e| (e.to_string(), true)),
                false => limits::validate(&r).err().map(|e| (e.to_string(), true)),
            },
        };
        if let Some((reason, damaged)) = reason {
            report.problems.push(Problem {
                what: "record",
                key: shown(k),
                reason,
                damaged,
            });
        }
    }
    for (k, v) in &contents.providers {
        if let Err(e) = codec::decode_providers(k, v, &clock) {
            report.problems.push(Problem {
                what: "provider list",
                key: shown(k),
                reason: e.to_string(),
                damaged: !e.is_unknown_format(),
            });
        }
    }
    for (k, v) in &contents.peers {
        let peer = libp2p::PeerId::from_bytes(k);
        if peer.is_err() || load::decode_addrs(v).is_none() {
            report.problems.push(Problem {
                what: "saved peer",
                key: peer.map_or_else(|_| format!("hex:{}", hex::encode(k)), |p| p.to_string()),
                reason: "does not decode".into(),
                damaged: true,
            });
        }
    }
    Ok(report)
}
