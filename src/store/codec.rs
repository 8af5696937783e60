//! The on-disk form of records and provider records: a small versioned
//! binary format, written and read by hand so that every byte is checked.
//!
//! libp2p's `Record` keeps its expiry as an `Instant`, which means nothing
//! after a restart; it is stored as wall-clock milliseconds since the Unix
//! epoch and turned back into an `Instant` against a [`Clock`] when read.
//! The record key is the database key and is not repeated in the value.
//!
//! Record, version 1:
//! ```text
//! u8 version (1) | u8 flags (bit 0: publisher, bit 1: expires)
//! [varint len | publisher peer id]  [u64 BE expiry, ms since epoch]
//! varint len | value
//! ```
//! Provider list, version 1:
//! ```text
//! u8 version (1) | varint count | count x (
//!   varint len | provider peer id | u8 has_expiry [u64 BE ms]
//!   | varint n | n x (varint len | multiaddr bytes) )
//! ```
//! Decoding never panics and never allocates more than the input holds:
//! garbage is a [`CodecError`].

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use libp2p::kad::{ProviderRecord, Record, RecordKey};
use libp2p::{Multiaddr, PeerId};

/// The format version written by this code.
pub const VERSION: u8 = 1;

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
    /// Written by a format this code does not know (a newer p2pnode?).
    #[error("unknown format version {0}")]
    UnknownVersion(u8),
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
        let bytes = self.take(8)?;
        let mut buf = [0u8; 8];
        buf.copy_from_slice(bytes);
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

    fn version(&mut self) -> Result<(), CodecError> {
        match self.u8()? {
            VERSION => Ok(()),
            v => Err(CodecError::UnknownVersion(v)),
        }
    }

    fn end(&self) -> Result<(), CodecError> {
        match self.rest.len() {
            0 => Ok(()),
            n => Err(CodecError::Trailing(n)),
        }
    }
}

/// The stored form of `record` (its key excluded).
pub fn encode_record(record: &Record, clock: &Clock) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.value.len() + 64);
    out.push(VERSION);
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
    put_bytes(&mut out, &record.value);
    out
}

/// The record stored under `key` as `bytes`.
pub fn decode_record(key: &[u8], bytes: &[u8], clock: &Clock) -> Result<Record, CodecError> {
    let mut r = Reader { rest: bytes };
    r.version()?;
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
    let value = r.bytes()?.to_vec();
    r.end()?;
    Ok(Record {
        key: RecordKey::new(&key),
        value,
        publisher,
        expires,
    })
}

/// The stored form of the provider records of one key.
pub fn encode_providers(list: &[ProviderRecord], clock: &Clock) -> Vec<u8> {
    let mut out = vec![VERSION];
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
    out
}

/// The provider records stored under `key` as `bytes`.
pub fn decode_providers(
    key: &[u8],
    bytes: &[u8],
    clock: &Clock,
) -> Result<Vec<ProviderRecord>, CodecError> {
    let mut r = Reader { rest: bytes };
    r.version()?;
    // Each entry takes at least three bytes: the count cannot exceed that.
    let count = r.len()?;
    let mut list = Vec::with_capacity(count.min(r.rest.len() / 3));
    let key = RecordKey::new(&key);
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
            key: key.clone(),
            provider,
            expires,
            addresses,
        });
    }
    r.end()?;
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> Clock {
        Clock::now()
    }

    #[test]
    fn record_round_trips_with_publisher_and_expiry() {
        let c = clock();
        let r = Record {
            key: RecordKey::new(&"k"),
            value: b"hello".to_vec(),
            publisher: Some(PeerId::random()),
            expires: Some(c.instant + Duration::from_millis(90_000)),
        };
        let back = decode_record(b"k", &encode_record(&r, &c), &c).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn past_expiry_reads_as_expired() {
        let c = clock();
        let mut r = Record::new(RecordKey::new(&"k"), vec![1]);
        r.expires = Some(c.instant);
        let later = Clock {
            instant: c.instant + Duration::from_secs(5),
            system: c.system + Duration::from_secs(5),
        };
        let back = decode_record(b"k", &encode_record(&r, &c), &later).unwrap();
        assert!(back.is_expired(later.instant));
    }

    #[test]
    fn providers_round_trip() {
        let c = clock();
        let list = vec![ProviderRecord {
            key: RecordKey::new(&"k"),
            provider: PeerId::random(),
            expires: Some(c.instant + Duration::from_secs(3)),
            addresses: vec!["/ip4/127.0.0.1/tcp/1".parse().unwrap()],
        }];
        let back = decode_providers(b"k", &encode_providers(&list, &c), &c).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].provider, list[0].provider);
        assert_eq!(back[0].expires, list[0].expires);
        assert_eq!(back[0].addresses, list[0].addresses);
    }

    #[test]
    fn garbage_is_an_error() {
        let c = clock();
        assert_eq!(decode_record(b"k", &[], &c), Err(CodecError::Truncated));
        assert_eq!(
            decode_record(b"k", &[9, 0], &c),
            Err(CodecError::UnknownVersion(9))
        );
        assert!(decode_record(b"k", &[1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f], &c).is_err());
        assert!(decode_providers(b"k", &[1, 0xff, 0xff, 0xff, 0xff, 0x0f], &c).is_err());
        let good = encode_record(&Record::new(RecordKey::new(&"k"), vec![1, 2]), &c);
        let mut long = good.clone();
        long.push(0);
        assert_eq!(decode_record(b"k", &long, &c), Err(CodecError::Trailing(1)));
        for cut in 0..good.len() {
            assert!(decode_record(b"k", &good[..cut], &c).is_err(), "{cut}");
        }
    }
}
