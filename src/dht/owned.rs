//! Owned records: keys only their owner can write.
//!
//! A key `/p2pnode/<peer ID bytes>/<name>` belongs to that peer. Its value,
//! on the wire and on disk, is a libp2p signed envelope (libp2p RFC 0002,
//! payload type [`PAYLOAD_TYPE`], domain [`DOMAIN`]) signed with the
//! owner's identity key; the payload ([`Payload`]) holds the whole key (so a
//! signed value cannot be moved to another key or owner), a sequence
//! number and the value. A p2pnode node takes such a record, from its user
//! or from a peer, only when the envelope verifies against the public key
//! of the peer ID in the key; its [`Version`] is then the payload's sequence
//! number, so the ordering rule of [`super::record`] keeps the highest
//! sequence. A peer that is not the owner can pass a signed value on
//! (replication) but never make one, nor raise its sequence.
//!
//! Like go-libp2p's `/ipns/` records, an owner's older value can be replayed
//! to a node that has not seen a newer one; the newer one wins wherever
//! both meet.

use libp2p::PeerId;
use libp2p::core::SignedEnvelope;
use libp2p::identity::Keypair;
use libp2p::multihash::Multihash;
use prost::Message as _;

use super::{Record, RecordKey, Version};

/// The key prefix of owned records.
pub const PREFIX: &[u8] = b"/p2pnode/";
/// The signed envelope's payload type (RFC 0002).
pub const PAYLOAD_TYPE: &[u8] = b"/p2pnode/owned-record";
/// The signed envelope's domain separation string (RFC 0002).
pub const DOMAIN: &str = "p2pnode-owned-record";
/// How many bytes an envelope adds to the value it carries, at most, besides
/// the key (repeated in the payload): public key, signature, payload type,
/// sequence number and protobuf framing. RSA keys are the largest.
pub const ENVELOPE_ROOM: usize = 2048;

/// The signed payload of an owned record.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Payload {
    /// The record key it was signed for.
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
    /// The owner's sequence number: higher is newer.
    #[prost(uint64, tag = "2")]
    pub seq: u64,
    /// The value.
    #[prost(bytes = "vec", tag = "3")]
    pub value: Vec<u8>,
}

/// Why a record under `/p2pnode/` does not prove that its owner wrote it.
/// The messages go to peers: they name the rule, not a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OwnedError {
    /// The key is not `/p2pnode/<peer ID>/<name>`.
    #[error("a /p2pnode/ key must be /p2pnode/<peer id>/<name>")]
    BadKey,
    /// The value is not a signed envelope of an owned record.
    #[error("the value of an owned key must be a signed envelope")]
    NotEnvelope,
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// Signed by another key than the owner's.
    #[error("signed by another peer than the key's owner")]
    WrongSigner,
    /// Signed for another key.
    #[error("signed for another key")]
    WrongKey,
    /// The identity key cannot sign (never for ed25519).
    #[error("this node's key cannot sign")]
    Signing,
}

/// An owned record's value, opened and verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The owner (the peer named in the key, whose key signed it).
    pub owner: PeerId,
    /// The sequence number.
    pub seq: u64,
    /// The value.
    pub value: Vec<u8>,
}

/// The key of `owner`'s record `name`.
pub fn key(owner: &PeerId, name: &[u8]) -> RecordKey {
    let mut k = PREFIX.to_vec();
    k.extend_from_slice(&owner.to_bytes());
    k.push(b'/');
    k.extend_from_slice(name);
    RecordKey::from(k)
}

/// The owner and name of an owned key; `None` when `key` is not under
/// [`PREFIX`], `Some(Err)` when it is but is malformed.
pub fn split(key: &[u8]) -> Option<Result<(PeerId, &[u8]), OwnedError>> {
    let mut rest = key.strip_prefix(PREFIX)?;
    let parsed = Multihash::<64>::read(&mut rest)
        .ok()
        .and_then(|mh| PeerId::from_multihash(mh).ok());
    Some(match (parsed, rest.split_first()) {
        (Some(owner), Some((b'/', name))) if !name.is_empty() => Ok((owner, name)),
        _ => Err(OwnedError::BadKey),
    })
}

/// Whether `key` is in the owned namespace (well formed or not).
pub fn is_owned(key: &[u8]) -> bool {
    key.starts_with(PREFIX)
}

/// The value of `key` signed with `keypair` at sequence `seq`: the bytes a
/// record under an owned key holds.
pub fn seal(
    keypair: &Keypair,
    key: &RecordKey,
    seq: Version,
    value: &[u8],
) -> Result<Vec<u8>, OwnedError> {
    let payload = Payload {
        key: key.to_vec(),
        seq: seq.0,
        value: value.to_vec(),
    };
    let envelope = SignedEnvelope::new(
        keypair,
        DOMAIN.to_string(),
        PAYLOAD_TYPE.to_vec(),
        payload.encode_to_vec(),
    )
    .map_err(|_| OwnedError::Signing)?;
    Ok(envelope.into_protobuf_encoding())
}

/// Opens and verifies the value `envelope` stored under the owned `key`.
pub fn open(key: &[u8], envelope: &[u8]) -> Result<Opened, OwnedError> {
    let (owner, _) = split(key).unwrap_or(Err(OwnedError::BadKey))?;
    let envelope =
        SignedEnvelope::from_protobuf_encoding(envelope).map_err(|_| OwnedError::NotEnvelope)?;
    let (payload, signer) = envelope
        .payload_and_signing_key(DOMAIN.to_string(), PAYLOAD_TYPE)
        .map_err(|e| match e {
            libp2p::core::signed_envelope::ReadPayloadError::InvalidSignature => {
                OwnedError::BadSignature
            }
            _ => OwnedError::NotEnvelope,
        })?;
    if signer.to_peer_id() != owner {
        return Err(OwnedError::WrongSigner);
    }
    let payload = Payload::decode(payload).map_err(|_| OwnedError::NotEnvelope)?;
    if payload.key != key {
        return Err(OwnedError::WrongKey);
    }
    Ok(Opened {
        owner,
        seq: payload.seq,
        value: payload.value,
    })
}

/// Checks an owned record and sets what its envelope proves: the version
/// (the sequence number) and the publisher (the owner), whatever the
/// sender claimed. Returns the opened value; `Ok(None)` for a key that is
/// not owned.
pub fn adopt(record: &mut Record) -> Result<Option<Opened>, OwnedError> {
    if !is_owned(record.key.as_ref()) {
        return Ok(None);
    }
    let opened = open(record.key.as_ref(), &record.value)?;
    record.version = Version(opened.seq);
    record.publisher = Some(opened.owner);
    Ok(Some(opened))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &RecordKey, value: Vec<u8>) -> Record {
        Record {
            publisher: None,
            version: Version(1),
            ..Record::new(key.clone(), value)
        }
    }

    #[test]
    fn keys_split_into_owner_and_name() {
        let me = PeerId::random();
        let k = key(&me, b"name/with/slashes");
        assert_eq!(split(k.as_ref()), Some(Ok((me, &b"name/with/slashes"[..]))));
        assert_eq!(split(b"plain"), None);
        assert_eq!(split(b"/p2pnode/x/y"), Some(Err(OwnedError::BadKey)));
        let bare = key(&me, b"");
        assert_eq!(split(bare.as_ref()), Some(Err(OwnedError::BadKey)));
    }

    #[test]
    fn only_the_owners_signature_for_this_key_is_accepted() {
        let owner = Keypair::generate_ed25519();
        let rogue = Keypair::generate_ed25519();
        let k = key(&owner.public().to_peer_id(), b"greeting");
        let good = seal(&owner, &k, Version(7), b"hello").unwrap();
        let mut r = record(&k, good.clone());
        let opened = adopt(&mut r).unwrap().unwrap();
        assert_eq!(opened.value, b"hello");
        assert_eq!(r.version, Version(7));
        assert_eq!(r.publisher, Some(owner.public().to_peer_id()));

        let forged = seal(&rogue, &k, Version(99), b"PWNED").unwrap();
        assert_eq!(open(k.as_ref(), &forged), Err(OwnedError::WrongSigner));
        assert_eq!(open(k.as_ref(), b"PWNED"), Err(OwnedError::NotEnvelope));
        let other = key(&owner.public().to_peer_id(), b"other");
        assert_eq!(open(other.as_ref(), &good), Err(OwnedError::WrongKey));
        let mut flipped = good.clone();
        let at = flipped.windows(5).position(|w| w == b"hello").unwrap();
        flipped[at] ^= 1;
        assert_eq!(open(k.as_ref(), &flipped), Err(OwnedError::BadSignature));
        // Plain keys pass through untouched.
        let mut plain = record(&RecordKey::new(&"k"), b"v".to_vec());
        assert_eq!(adopt(&mut plain), Ok(None));
        assert_eq!(plain.version, Version(1));
    }
}
