//! What the store accepts: its hard [`Limits`] and the checks every record
//! passes, the same rules for the user's own puts and for what peers push
//! (the reasons are [`Refusal`]s).

use libp2p::PeerId;

use super::Store;
use super::refusal::Refusal;
use crate::dht::owned;
use crate::dht::{Record, RecordKey};

/// Hard limits on what the node stores, from the user and from peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest value, in bytes.
    pub max_value_bytes: usize,
    /// Longest key, in bytes.
    pub max_key_bytes: usize,
    /// Most records stored.
    pub max_records: usize,
    /// Most bytes the records held may cost (see [`crate::store::quota`]).
    pub max_store_bytes: usize,
    /// Most records one remote peer may place on this node.
    pub max_records_per_peer: usize,
    /// Most bytes the records one remote peer places may cost.
    pub max_bytes_per_peer: usize,
    /// Most provider keys.
    pub max_provider_keys: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_value_bytes: 65536,
            max_key_bytes: 1024,
            max_records: 16384,
            max_store_bytes: 256 * 1024 * 1024,
            max_records_per_peer: 4096,
            max_bytes_per_peer: 32 * 1024 * 1024,
            max_provider_keys: 16384,
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

#[cfg(test)]
mod tests {
    use libp2p::identity::Keypair;

    use super::*;
    use crate::dht::Version;

    const LIMIT: usize = 100;

    fn store() -> Store {
        let limits = Limits {
            max_value_bytes: LIMIT,
            max_key_bytes: 80,
            ..Limits::default()
        };
        Store::in_memory(PeerId::random(), &limits)
    }

    /// An owned record of `size` value bytes, signed by its owner.
    fn owned_record(size: usize) -> Record {
        let owner = Keypair::generate_ed25519();
        let key = owned::key(&owner.public().to_peer_id(), b"name");
        let sealed = owned::seal(&owner, &key, Version(1), &vec![7; size]).unwrap();
        Record::new(key, sealed)
    }

    #[test]
    fn a_key_of_exactly_the_limit_fits() {
        let s = store();
        assert_eq!(s.check_key(&RecordKey::new(&[b'k'; 80])), Ok(()));
        assert_eq!(
            s.check_key(&RecordKey::new(&[b'k'; 81])),
            Err(Refusal::KeyTooLong {
                size: 81,
                limit: 80
            })
        );
    }

    #[test]
    fn an_owned_value_is_measured_without_its_envelope() {
        let s = store();
        // The envelope (key, signature, public key) is larger than the
        // limit; the value inside it is exactly the limit: it fits.
        let mut fits = owned_record(LIMIT);
        assert!(fits.value.len() > LIMIT);
        assert_eq!(s.check_record(&mut fits), Ok(()));
        assert_eq!(fits.version, Version(1));
        let mut over = owned_record(LIMIT + 1);
        assert_eq!(
            s.check_record(&mut over),
            Err(Refusal::ValueTooLarge {
                size: LIMIT + 1,
                limit: LIMIT
            })
        );
    }

    #[test]
    fn an_envelope_too_large_to_fit_is_refused_before_its_signature_is_checked() {
        let s = store();
        let mut huge = owned_record(LIMIT + 3 * owned::ENVELOPE_ROOM);
        let size = huge.value.len();
        // Its size as sent, not the opened value's: nothing was opened.
        assert_eq!(
            s.check_record(&mut huge),
            Err(Refusal::ValueTooLarge { size, limit: LIMIT })
        );
        assert_eq!(huge.version, Version::NONE);
    }
}
