//! What the store refuses, and why: the same rules for the user's own puts
//! and for what peers push.

use libp2p::PeerId;

use super::Store;
use crate::dht::{Record, RecordKey};

/// Why the store did not take a record. The messages name the limit, not
/// the command-line flag (the caller may be a peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The value is over the size limit.
    #[error("the value is {size} bytes; the limit is {limit}")]
    ValueTooLarge {
        /// The value's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A whole message (record and framing) is over the size limit: it
    /// was not even decoded.
    #[error("the message is {size} bytes; the limit is {limit}")]
    MessageTooLarge {
        /// The message's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The key is over the length limit.
    #[error("the key is {size} bytes; the limit is {limit}")]
    KeyTooLong {
        /// The key's length in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The store holds as many records as it may.
    #[error("the store is full: no more records fit ({limit} records)")]
    Full {
        /// The record limit.
        limit: usize,
    },
    /// The store holds provider records for as many keys as it may.
    #[error("no more provider keys fit ({limit} keys)")]
    ProvidersFull {
        /// The key limit.
        limit: usize,
    },
    /// A newer value of the key is held.
    #[error("a newer value of this key is held")]
    Stale,
    /// The record breaks a validity rule (e.g. a `/pk/` record).
    #[error("{0}")]
    Invalid(&'static str),
}

impl Refusal {
    /// The command-line flag that sets the limit refused, for hints shown
    /// to this node's user (never to peers).
    pub fn flag(&self) -> Option<&'static str> {
        match self {
            Refusal::ValueTooLarge { .. } | Refusal::MessageTooLarge { .. } => {
                Some("--max-value-size")
            }
            Refusal::KeyTooLong { .. } => Some("--max-key-size"),
            Refusal::Full { .. } => Some("--max-records"),
            Refusal::ProvidersFull { .. } => Some("--max-provider-keys"),
            Refusal::Stale | Refusal::Invalid(_) => None,
        }
    }

    /// A short stable name for metrics labels and logs.
    /// Every label [`Refusal::label`] gives.
    pub const LABELS: [&'static str; 6] = [
        "value_too_large",
        "key_too_long",
        "store_full",
        "providers_full",
        "stale",
        "invalid",
    ];

    /// The metric label of this refusal.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::ValueTooLarge { .. } => "value_too_large",
            Refusal::MessageTooLarge { .. } => "message_too_large",
            Refusal::KeyTooLong { .. } => "key_too_long",
            Refusal::Full { .. } => "store_full",
            Refusal::ProvidersFull { .. } => "providers_full",
            Refusal::Stale => "stale",
            Refusal::Invalid(_) => "invalid",
        }
    }
}

/// Checks a record as other libp2p implementations do: a record under
/// `/pk/<peer id>` must hold the public key of that peer.
pub fn validate(record: &Record) -> Result<(), Refusal> {
    let key = record.key.as_ref();
    if let Some(id) = key.strip_prefix(b"/pk/") {
        let peer = PeerId::from_bytes(id)
            .map_err(|_| Refusal::Invalid("a /pk/ key must name a peer id"))?;
        let public = libp2p::identity::PublicKey::try_decode_protobuf(&record.value)
            .map_err(|_| Refusal::Invalid("a /pk/ record must hold a public key"))?;
        if public.to_peer_id() != peer {
            return Err(Refusal::Invalid(
                "the public key does not match the peer id in the /pk/ key",
            ));
        }
    }
    Ok(())
}

impl Store {
    /// The key-length limit.
    pub fn check_key(&self, key: &RecordKey) -> Result<(), Refusal> {
        let size = key.as_ref().len();
        if size > self.limits.max_key_bytes {
            return Err(Refusal::KeyTooLong {
                size,
                limit: self.limits.max_key_bytes,
            });
        }
        Ok(())
    }

    /// Every rule a record must pass before it may be stored (a value of
    /// exactly the limit fits).
    pub fn check_record(&self, record: &Record) -> Result<(), Refusal> {
        self.check_key(&record.key)?;
        let size = record.value.len();
        if size > self.limits.max_value_bytes {
            return Err(Refusal::ValueTooLarge {
                size,
                limit: self.limits.max_value_bytes,
            });
        }
        validate(record)
    }

    /// Makes sure a record under `key` would fit the record limit: expired
    /// records are dropped first, so only live records count.
    pub(super) fn make_room_for(&mut self, key: &RecordKey) -> Result<(), Refusal> {
        if self.records.contains_key(key) || self.records.len() < self.limits.max_records {
            return Ok(());
        }
        self.expire(std::time::Instant::now());
        if self.records.len() < self.limits.max_records {
            return Ok(());
        }
        Err(Refusal::Full {
            limit: self.limits.max_records,
        })
    }
}
