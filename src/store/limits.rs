//! What the store refuses, and why: the same rules for the user's own puts
//! and for what peers push.

use libp2p::PeerId;

use super::Store;
use super::quota::Measure;
use crate::dht::owned::{self, OwnedError};
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
    /// The records held take the whole byte budget.
    #[error("the store is full: no more bytes fit ({limit} bytes)")]
    BytesFull {
        /// The byte budget.
        limit: usize,
    },
    /// Other peers' records fill their share of the store (the rest is kept
    /// for the node's own records).
    #[error("the store is full for other peers' records ({limit} {measure})")]
    PeersShareFull {
        /// Records or bytes.
        measure: Measure,
        /// The share.
        limit: usize,
    },
    /// The pushing peer has placed as many records (or bytes) as one peer may.
    #[error("this peer's quota on this node is used up ({limit} {measure} per peer)")]
    PeerQuota {
        /// Records or bytes.
        measure: Measure,
        /// The quota.
        limit: usize,
    },
    /// A record under an owned key does not prove its owner wrote it.
    #[error("{0}")]
    NotOwner(OwnedError),
    /// This node's user tried to write a key another peer owns.
    #[error("only {owner} can write this key (it is an owned key)")]
    OwnedByOther {
        /// The key's owner.
        owner: PeerId,
    },
    /// The write policy does not take plain records from this peer.
    #[error("{what}")]
    NotAllowed {
        /// What it takes, in words.
        what: &'static str,
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
            Refusal::BytesFull { .. } => Some("--max-store-bytes"),
            Refusal::PeersShareFull { measure, .. } => Some(match measure {
                Measure::Records => "--max-records",
                Measure::Bytes => "--max-store-bytes",
            }),
            Refusal::PeerQuota { measure, .. } => Some(match measure {
                Measure::Records => "--max-records-per-peer",
                Measure::Bytes => "--max-bytes-per-peer",
            }),
            Refusal::NotAllowed { .. } => Some("--accept-records"),
            Refusal::ProvidersFull { .. } => Some("--max-provider-keys"),
            Refusal::Stale
            | Refusal::Invalid(_)
            | Refusal::NotOwner(_)
            | Refusal::OwnedByOther { .. } => None,
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
            Refusal::BytesFull { .. } => "store_bytes_full",
            Refusal::PeersShareFull { .. } => "peers_share_full",
            Refusal::PeerQuota { .. } => "peer_quota",
            Refusal::NotOwner(_) | Refusal::OwnedByOther { .. } => "not_owner",
            Refusal::NotAllowed { .. } => "policy",
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
    /// exactly the limit fits). An owned record's envelope is verified
    /// and its version and publisher set from it (see
    /// [`crate::dht::owned::adopt`]); its value limit applies to the value
    /// inside the envelope.
    pub fn check_record(&self, record: &mut Record) -> Result<(), Refusal> {
        self.check_key(&record.key)?;
        let limit = self.limits.max_value_bytes;
        let size = record.value.len();
        let room = if owned::is_owned(record.key.as_ref()) {
            record.key.as_ref().len() + owned::ENVELOPE_ROOM
        } else {
            0
        };
        // Sizes first: a signature is checked only on a value that may fit.
        if size > limit + room {
            return Err(Refusal::ValueTooLarge { size, limit });
        }
        if let Some(opened) = owned::adopt(record).map_err(Refusal::NotOwner)?
            && opened.value.len() > limit
        {
            return Err(Refusal::ValueTooLarge {
                size: opened.value.len(),
                limit,
            });
        }
        validate(record)
    }
}
