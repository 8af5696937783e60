//! Records and provider records, and the one rule that orders two values
//! of a key.
//!
//! # Which value is newer
//! Every record p2pnode publishes carries a [`Version`]: the publisher's
//! wall-clock time in milliseconds since the Unix epoch when the value was
//! put, raised above any version of that key the publisher already held (so
//! a put always supersedes what its node has seen, even with a slow clock).
//! The version travels with the record (wire field 7101, the on-disk
//! codec) and is kept when the record is republished or replicated, so a
//! copy saved before a restart never passes for a new write.
//!
//! Two records of one key compare by version, then by publisher peer ID,
//! then by value bytes: a total order, so every node converges on the same
//! winner. A node stores an incoming record only when it is newer than the
//! one it holds; an older one is refused as stale (and the newer one is sent
//! back to a p2pnode sender so it can update its copy).
//!
//! Records from implementations that carry no version (go-libp2p,
//! py-libp2p, rust-libp2p) are versioned when they arrive: a PUT_VALUE from
//! such a peer counts as a write made at its arrival time. In a `get`, a
//! copy without a version (read from such a peer) ranks below any versioned
//! copy; two different unversioned copies cannot be ordered and are
//! reported as a conflict.

use std::cmp::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use libp2p::{Multiaddr, PeerId};

/// A record key: the bytes records are stored and looked up under.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey(Vec<u8>);

impl RecordKey {
    /// The key made of `bytes`.
    pub fn new<K: AsRef<[u8]> + ?Sized>(bytes: &K) -> RecordKey {
        RecordKey(bytes.as_ref().to_vec())
    }

    /// The key's bytes, owned.
    pub fn to_vec(&self) -> Vec<u8> {
        self.0.clone()
    }
}

impl AsRef<[u8]> for RecordKey {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for RecordKey {
    fn from(v: Vec<u8>) -> Self {
        RecordKey(v)
    }
}

impl std::fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(s) if s.chars().all(|c| !c.is_control()) => write!(f, "RecordKey({s:?})"),
            _ => write!(f, "RecordKey(hex:{})", hex::encode(&self.0)),
        }
    }
}

/// A record's version: milliseconds since the Unix epoch at its
/// publication (see the module docs); 0 means "none given".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(pub u64);

impl Version {
    /// No version (a record from an implementation that carries none).
    pub const NONE: Version = Version(0);

    /// The wall clock now, in milliseconds since the Unix epoch (at least 1).
    pub fn now() -> Version {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Version(ms.max(1))
    }

    /// The version of a new write when the node already holds `held`:
    /// now, or one above `held` when the clock is behind it.
    pub fn next_after(held: Option<Version>) -> Version {
        let now = Version::now();
        match held {
            Some(h) if h >= now => Version(h.0.saturating_add(1)),
            _ => now,
        }
    }

    /// Whether a version was given.
    pub fn is_some(&self) -> bool {
        self.0 != 0
    }
}

/// A value stored under a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The key.
    pub key: RecordKey,
    /// The value.
    pub value: Vec<u8>,
    /// The peer that published it, when known.
    pub publisher: Option<PeerId>,
    /// Its version (see the module docs).
    pub version: Version,
    /// When this copy expires; `None`: never.
    pub expires: Option<Instant>,
}

impl Record {
    /// A record without publisher, version or expiry.
    pub fn new(key: RecordKey, value: Vec<u8>) -> Record {
        Record {
            key,
            value,
            publisher: None,
            version: Version::NONE,
            expires: None,
        }
    }

    /// Whether this copy has expired at `now`.
    pub fn is_expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|t| t <= now)
    }

    /// Whether `self` and `other` hold the same write (same value, version
    /// and publisher), whatever their expiries.
    pub fn same_write(&self, other: &Record) -> bool {
        self.version == other.version
            && self.publisher == other.publisher
            && self.value == other.value
    }

    /// The remaining lifetime in whole seconds, rounded up, for the wire
    /// (0 means "no expiry" there, so a live record is sent as at least 1).
    pub fn wire_ttl(&self, now: Instant) -> u32 {
        match self.expires {
            None => 0,
            Some(t) => {
                let left = t.saturating_duration_since(now);
                let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
                u32::try_from(secs.max(1)).unwrap_or(u32::MAX)
            }
        }
    }
}

/// Orders two records of one key: `Greater` when `a` is the newer write.
/// Versions first, then publishers (a record with a publisher above one
/// without), then values, so the order is total and the same on every node.
pub fn newer(a: &Record, b: &Record) -> Ordering {
    a.version
        .cmp(&b.version)
        .then_with(|| {
            let pa = a.publisher.map(|p| p.to_bytes());
            let pb = b.publisher.map(|p| p.to_bytes());
            pa.cmp(&pb)
        })
        .then_with(|| a.value.cmp(&b.value))
}

/// What to do with an incoming copy of a key given the copy held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// No copy held, or the incoming one is newer: store it.
    Newer,
    /// The same write: keep it, with the later of the two expiries.
    Same,
    /// The held copy is newer: refuse the incoming one as stale.
    Stale,
}

/// Compares an incoming record with the one held (see [`Arrival`]).
pub fn arrival(held: Option<&Record>, incoming: &Record) -> Arrival {
    match held {
        None => Arrival::Newer,
        Some(h) if h.same_write(incoming) => Arrival::Same,
        Some(h) => match newer(incoming, h) {
            Ordering::Greater => Arrival::Newer,
            _ => Arrival::Stale,
        },
    }
}

/// The provider of a key, and where to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderRecord {
    /// The key provided.
    pub key: RecordKey,
    /// The provider.
    pub provider: PeerId,
    /// Its addresses, as it announced them.
    pub addresses: Vec<Multiaddr>,
    /// When this announcement expires; `None`: never.
    pub expires: Option<Instant>,
}

impl ProviderRecord {
    /// Whether this announcement has expired at `now`.
    pub fn is_expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|t| t <= now)
    }
}

/// The expiry of a copy received with `ttl_ms` milliseconds left (the
/// p2pnode field) or else `wire_ttl` seconds left (0 for either: none
/// given), capped by this node's own record TTL.
pub fn expiry_on_arrival(now: Instant, wire_ttl: u32, ttl_ms: u64, local_ttl: Duration) -> Instant {
    let local = now + local_ttl;
    let given = match (ttl_ms, wire_ttl) {
        (0, 0) => return local,
        (0, s) => Duration::from_secs(u64::from(s)),
        (ms, _) => Duration::from_millis(ms),
    };
    local.min(now + given)
}

impl Record {
    /// The remaining lifetime in milliseconds for the p2pnode wire field
    /// (0: no expiry; a live record is sent as at least 1).
    pub fn wire_ttl_ms(&self, now: Instant) -> u64 {
        self.expires.map_or(0, |t| {
            let left = t.saturating_duration_since(now).as_millis();
            u64::try_from(left).unwrap_or(u64::MAX).max(1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(value: &str, version: u64, publisher: Option<PeerId>) -> Record {
        Record {
            key: RecordKey::new(&"k"),
            value: value.into(),
            publisher,
            version: Version(version),
            expires: None,
        }
    }

    #[test]
    fn the_higher_version_wins_whatever_the_order_of_arrival() {
        let a = PeerId::random();
        let b = PeerId::random();
        let red = rec("red", 100, Some(a));
        let blue = rec("blue", 200, Some(b));
        assert_eq!(arrival(Some(&red), &blue), Arrival::Newer);
        assert_eq!(arrival(Some(&blue), &red), Arrival::Stale);
        assert_eq!(arrival(None, &red), Arrival::Newer);
        let mut refreshed = red.clone();
        refreshed.expires = Some(Instant::now());
        assert_eq!(arrival(Some(&red), &refreshed), Arrival::Same);
    }

    #[test]
    fn ties_break_the_same_way_on_every_node() {
        let a = rec("x", 5, Some(PeerId::random()));
        let b = rec("y", 5, Some(PeerId::random()));
        assert_eq!(newer(&a, &b), newer(&b, &a).reverse());
        assert_ne!(newer(&a, &b), Ordering::Equal);
        let c = rec("x", 5, None);
        let d = rec("y", 5, None);
        assert_eq!(newer(&c, &d), Ordering::Less);
    }

    #[test]
    fn a_new_write_is_above_what_the_node_holds() {
        let far = Version(u64::MAX / 2);
        assert_eq!(Version::next_after(Some(far)), Version(far.0 + 1));
        let now = Version::next_after(None);
        assert!(now.is_some());
        assert!(Version::next_after(Some(Version(1))) >= now);
    }

    #[test]
    fn wire_ttl_rounds_up_and_never_reads_as_forever() {
        let now = Instant::now();
        let mut r = rec("v", 1, None);
        assert_eq!(r.wire_ttl(now), 0);
        r.expires = Some(now + Duration::from_millis(5_200));
        assert_eq!(r.wire_ttl(now), 6);
        r.expires = Some(now + Duration::from_millis(10));
        assert_eq!(r.wire_ttl(now), 1);
        r.expires = Some(now);
        assert_eq!(r.wire_ttl(now), 1);
    }

    #[test]
    fn arrival_expiry_is_capped_by_the_local_ttl() {
        let now = Instant::now();
        let ttl = Duration::from_secs(10);
        assert_eq!(expiry_on_arrival(now, 0, 0, ttl), now + ttl);
        assert_eq!(
            expiry_on_arrival(now, 3, 0, ttl),
            now + Duration::from_secs(3)
        );
        assert_eq!(
            expiry_on_arrival(now, 3, 2_500, ttl),
            now + Duration::from_millis(2_500)
        );
        assert_eq!(expiry_on_arrival(now, 99, 0, ttl), now + ttl);
    }
}
