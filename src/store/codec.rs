//! The on-disk form of records and provider lists: a small versioned
//! binary format, written and read by hand so that every byte is checked.
//!
//! A record's expiry is an `Instant`, which means nothing after a restart;
//! it is stored as wall-clock milliseconds since the Unix epoch and turned
//! back into an `Instant` against a [`Clock`] when read. The record key is
//! the database key and is not repeated in the value.
//!
//! Record, format 2 (written now):
//! ```text
//! u8 format (2) | u8 flags (bit 0: publisher, bit 1: expires)
//! [varint len | publisher peer id]  [u64 BE expiry, ms since epoch]
//! u64 BE version | varint len | value | u32 BE CRC-32 of key + all the above
//! ```
//! Provider list, format 2:
//! ```text
//! u8 format (2) | varint count | count x (
//!   varint len | provider peer id | u8 has_expiry [u64 BE ms]
//!   | varint n | n x (varint len | multiaddr bytes) ) | u32 BE CRC-32
//! ```
//! Format 1 (p2pnode 0.1) is the same without version and checksum; it is
//! still read, its records with version 1 (older than any versioned write).
//!
//! Decoding never panics and never allocates more than the input holds:
//! garbage is a [`CodecError`]; a flipped byte is a checksum mismatch.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use libp2p::{Multiaddr, PeerId};

use crate::dht::{ProviderRecord, Record, RecordKey, Version};

/// The format written by this code.
pub const FORMAT: u8 = 2;
/// The format of p2pnode 0.1, still read.
const FORMAT_V1: u8 = 1;

const HAS_PUBLISHER: u8 = 0b01;
const HAS_EXPIRY: u8 = 0b10;

/// How far in the future an expiry may be turned into an `Instant` (a
/// bound so that arithmetic on it never overflows).
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Why stored bytes are not a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The bytes end before the record does.
    #[error("truncated")]
    Truncated,
    /// Written in a format this code does not know (a newer p2pnode?).
    #[error("unknown format {0}")]
    UnknownFormat(u8),
    /// Flag bits this format does not define.
    #[error("unknown flags {0:#04x}")]
    BadFlags(u8),
    /// A length prefix that does not fit the input.
    #[error("bad length")]
    BadLength,
    /// A peer ID that does not decode.
    #[error("bad peer id")]
    BadPeerId,
    /// A multiaddr that does not decode.
    #[error("bad multiaddr")]
    BadMultiaddr,
    /// Bytes left after the record.
    #[error("{0} trailing bytes")]
    Trailing(usize),
    /// The checksum does not match: the bytes changed on disk.
    #[error("checksum mismatch (the stored bytes changed)")]
    Checksum,
}

impl CodecError {
    /// Whether the bytes may be fine for a newer p2pnode (keep them, skip
    /// the record) rather than damaged (drop the record).
    pub fn is_unknown_format(&self) -> bool {
        matches!(self, CodecError::UnknownFormat(_))
    }
}

/// A reading of the monotonic and the wall clock at the same moment, to
/// translate expiries between the two.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// The monotonic clock.
    pub instant: Instant,
    /// The wall clock.
    pub system: SystemTime,
}

impl Clock {
    /// Both clocks, now. The wall clock is cut to whole milliseconds (the
    /// stored precision), so an expiry a whole number of milliseconds after
    /// `instant` reads back exactly.
    pub fn now() -> Self {
        let instant = Instant::now();
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Clock {
            instant,
            system: UNIX_EPOCH + Duration::from_millis(ms),
        }
    }

    /// An `Instant` as milliseconds since the Unix epoch (0 for times
    /// before it, which are long expired).
    pub fn to_unix_ms(&self, t: Instant) -> u64 {
        let system = if t >= self.instant {
            self.system.checked_add(t - self.instant)
        } else {
            self.system.checked_sub(self.instant - t)
        };
        system
            .and_then(|s| s.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    /// Milliseconds since the Unix epoch as an `Instant`: `self.instant`
    /// when that time has passed (so the record reads as expired).
    pub fn from_unix_ms(&self, ms: u64) -> Instant {
        let system = UNIX_EPOCH.checked_add(Duration::from_millis(ms));
        match system.and_then(|s| s.duration_since(self.system).ok()) {
            Some(left) => self
                .instant
                .checked_add(left.min(FAR_FUTURE))
                .unwrap_or(self.instant),
            None => self.instant,
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn checksum(key: &[u8], body: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&(key.len() as u64).to_be_bytes());
    h.update(key);
    h.update(body);
    h.finalize()
}

fn seal(key: &[u8], mut body: Vec<u8>) -> Vec<u8> {
    let sum = checksum(key, &body);
    body.extend_from_slice(&sum.to_be_bytes());
    body
}

/// Checks and strips the checksum of a format-2 entry.
fn unseal<'a>(key: &[u8], bytes: &'a [u8]) -> Result<&'a [u8], CodecError> {
    if bytes.len() < 4 {
        return Err(CodecError::Truncated);
    }
    let (body, sum) = bytes.split_at(bytes.len() - 4);
    let mut s = [0u8; 4];
    s.copy_from_slice(sum);
    if checksum(key, body) != u32::from_be_bytes(s) {
        return Err(CodecError::Checksum);
    }
    Ok(body)
}

/// A cursor over untrusted bytes.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Result<u8, CodecError> {
        let (&b, rest) = self.rest.split_first().ok_or(CodecError::Truncated)?;
        self.rest = rest;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if n > self.rest.len() {
            return Err(CodecError::Truncated);
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64, CodecError> {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(buf))
    }

    fn varint(&mut self) -> Result<u64, CodecError> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(CodecError::BadLength);
            }
            n |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(CodecError::BadLength)
    }

    /// A length prefix, checked against what is left before anything is allocated.
    fn len(&mut self) -> Result<usize, CodecError> {
        let n = usize::try_from(self.varint()?).map_err(|_| CodecError::BadLength)?;
        if n > self.rest.len() {
            return Err(CodecError::BadLength);
        }
        Ok(n)
    }

    fn bytes(&mut self) -> Result<&'a [u8], CodecError> {
        let n = self.len()?;
        self.take(n)
    }

    fn peer(&mut self) -> Result<PeerId, CodecError> {
        PeerId::from_bytes(self.bytes()?).map_err(|_| CodecError::BadPeerId)
    }

    fn end(&self) -> Result<(), CodecError> {
        match self.rest.len() {
            0 => Ok(()),
            n => Err(CodecError::Trailing(n)),
        }
    }
}

/// Reads the format byte and returns the body to decode (checksum checked
/// and stripped for format 2) and whether it is format 1.
fn open<'a>(key: &[u8], bytes: &'a [u8]) -> Result<(Reader<'a>, bool), CodecError> {
    match bytes.first() {
        None => Err(CodecError::Truncated),
        Some(&FORMAT) => {
            let body = unseal(key, bytes)?;
            Ok((Reader { rest: &body[1..] }, false))
        }
        Some(&FORMAT_V1) => Ok((Reader { rest: &bytes[1..] }, true)),
        Some(&v) => Err(CodecError::UnknownFormat(v)),
    }
}

/// The stored form of `record` (its key excluded), in the current format.
pub fn encode_record(record: &Record, clock: &Clock) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.value.len() + 72);
    out.push(FORMAT);
    let mut flags = 0;
    if record.publisher.is_some() {
        flags |= HAS_PUBLISHER;
    }
    if record.expires.is_some() {
        flags |= HAS_EXPIRY;
    }
    out.push(flags);
    if let Some(p) = &record.publisher {
        put_bytes(&mut out, &p.to_bytes());
    }
    if let Some(t) = record.expires {
        out.extend_from_slice(&clock.to_unix_ms(t).to_be_bytes());
    }
    out.extend_from_slice(&record.version.0.to_be_bytes());
    put_bytes(&mut out, &record.value);
    seal(record.key.as_ref(), out)
}

/// The record stored under `key` as `bytes` (format 1 or 2).
pub fn decode_record(key: &[u8], bytes: &[u8], clock: &Clock) -> Result<Record, CodecError> {
    let (mut r, v1) = open(key, bytes)?;
    let flags = r.u8()?;
    if flags & !(HAS_PUBLISHER | HAS_EXPIRY) != 0 {
        return Err(CodecError::BadFlags(flags));
    }
    let publisher = if flags & HAS_PUBLISHER != 0 {
        Some(r.peer()?)
    } else {
        None
    };
    let expires = if flags & HAS_EXPIRY != 0 {
        Some(clock.from_unix_ms(r.u64()?))
    } else {
        None
    };
    let version = if v1 { Version(1) } else { Version(r.u64()?) };
    let value = r.bytes()?.to_vec();
    r.end()?;
    Ok(Record {
        key: RecordKey::new(&key),
        value,
        publisher,
        version,
        expires,
    })
}

/// The stored form of the provider records of one key.
pub fn encode_providers(key: &[u8], list: &[ProviderRecord], clock: &Clock) -> Vec<u8> {
    let mut out = vec![FORMAT];
    put_varint(&mut out, list.len() as u64);
    for p in list {
        put_bytes(&mut out, &p.provider.to_bytes());
        match p.expires {
            Some(t) => {
                out.push(1);
                out.extend_from_slice(&clock.to_unix_ms(t).to_be_bytes());
            }
            None => out.push(0),
        }
        put_varint(&mut out, p.addresses.len() as u64);
        for a in &p.addresses {
            put_bytes(&mut out, &a.to_vec());
        }
    }
    seal(key, out)
}

/// The provider records stored under `key` as `bytes` (format 1 or 2).
pub fn decode_providers(
    key: &[u8],
    bytes: &[u8],
    clock: &Clock,
) -> Result<Vec<ProviderRecord>, CodecError> {
    let (mut r, _) = open(key, bytes)?;
    let count = r.len()?;
    // Each entry takes at least three bytes.
    let mut list = Vec::with_capacity(count.min(r.rest.len() / 3));
    let rkey = RecordKey::new(&key);
    for _ in 0..count {
        let provider = r.peer()?;
        let expires = match r.u8()? {
            0 => None,
            1 => Some(clock.from_unix_ms(r.u64()?)),
            f => return Err(CodecError::BadFlags(f)),
        };
        let n = r.len()?;
        let mut addresses = Vec::with_capacity(n.min(r.rest.len()));
        for _ in 0..n {
            let a =
                Multiaddr::try_from(r.bytes()?.to_vec()).map_err(|_| CodecError::BadMultiaddr)?;
            addresses.push(a);
        }
        list.push(ProviderRecord {
            key: rkey.clone(),
            provider,
            expires,
            addresses,
        });
    }
    r.end()?;
    Ok(list)
}

#[cfg(test)]
mod tests;
