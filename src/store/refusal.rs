//! Why the store did not take a record, in words a person or a peer can
//! act on: the same reasons for the user's own puts and for what peers
//! push, and the budget measure the quota reasons name. A leaf the crate's
//! [`crate::Error`] can name without depending on the store itself.

use libp2p::PeerId;

use crate::dht::owned::OwnedError;

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

/// What a budget counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Records.
    Records,
    /// Bytes (see [`super::quota::cost`]).
    Bytes,
}

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Measure::Records => "records",
            Measure::Bytes => "bytes",
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn each_refusal_names_its_flag_and_metric_label() {
        let owner = PeerId::random();
        let cases = [
            (
                Refusal::ValueTooLarge { size: 2, limit: 1 },
                Some("--max-value-size"),
                "value_too_large",
            ),
            (
                Refusal::MessageTooLarge { size: 2, limit: 1 },
                Some("--max-value-size"),
                "message_too_large",
            ),
            (
                Refusal::KeyTooLong { size: 2, limit: 1 },
                Some("--max-key-size"),
                "key_too_long",
            ),
            (
                Refusal::Full { limit: 1 },
                Some("--max-records"),
                "store_full",
            ),
            (
                Refusal::BytesFull { limit: 1 },
                Some("--max-store-bytes"),
                "store_bytes_full",
            ),
            (
                Refusal::PeersShareFull {
                    measure: Measure::Records,
                    limit: 1,
                },
                Some("--max-records"),
                "peers_share_full",
            ),
            (
                Refusal::PeersShareFull {
                    measure: Measure::Bytes,
                    limit: 1,
                },
                Some("--max-store-bytes"),
                "peers_share_full",
            ),
            (
                Refusal::PeerQuota {
                    measure: Measure::Records,
                    limit: 1,
                },
                Some("--max-records-per-peer"),
                "peer_quota",
            ),
            (
                Refusal::PeerQuota {
                    measure: Measure::Bytes,
                    limit: 1,
                },
                Some("--max-bytes-per-peer"),
                "peer_quota",
            ),
            (
                Refusal::NotAllowed { what: "no" },
                Some("--accept-records"),
                "policy",
            ),
            (
                Refusal::ProvidersFull { limit: 1 },
                Some("--max-provider-keys"),
                "providers_full",
            ),
            (Refusal::Stale, None, "stale"),
            (Refusal::Invalid("bad"), None, "invalid"),
            (Refusal::OwnedByOther { owner }, None, "not_owner"),
        ];
        let cli = crate::cli::Cli::command();
        for (refusal, flag, label) in cases {
            assert_eq!(refusal.flag(), flag, "{refusal:?}");
            assert_eq!(refusal.label(), label, "{refusal:?}");
            // The flag named is one the node takes.
            if let Some(flag) = flag {
                assert!(
                    cli.get_arguments()
                        .any(|a| a.get_long() == flag.strip_prefix("--")),
                    "{flag}"
                );
            }
        }
    }

    #[test]
    fn quota_refusals_name_their_measure() {
        let records = Refusal::PeerQuota {
            measure: Measure::Records,
            limit: 5,
        };
        assert_eq!(
            records.to_string(),
            "this peer's quota on this node is used up (5 records per peer)"
        );
        let bytes = Refusal::PeersShareFull {
            measure: Measure::Bytes,
            limit: 9,
        };
        assert_eq!(
            bytes.to_string(),
            "the store is full for other peers' records (9 bytes)"
        );
    }
}
