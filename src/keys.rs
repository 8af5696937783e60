//! How a user writes a record key, parsed once into a [`UserKey`].
//!
//! Keys are bytes on the wire. Most users type text, which is used as its
//! UTF-8 bytes (the same as `RecordKey::new(&"text")`). Two prefixes reach
//! keys that other libp2p implementations use:
//! - `hex:<hex>`: raw bytes, e.g. a `/pk/` key or a CID;
//! - `mh:<text>`: the sha2-256 multihash of `text` (`0x12 0x20` + digest),
//!   the usual form of provider keys in go-libp2p and py-libp2p.
//!
//! Owned keys ([`crate::dht::owned`]), which only their owner can write,
//! are typed `@self/<name>` (this node's) or `@<peer ID>/<name>` (that
//! peer's); any other text starting with `@` is an error.

use std::fmt;
use std::str::FromStr;

use crate::dht::{RecordKey, owned};
use libp2p::PeerId;
use sha2::{Digest, Sha256};

use crate::command::quote;

/// The multihash code of sha2-256 and its digest length.
const SHA2_256_PREFIX: [u8; 2] = [0x12, 0x20];

/// Why typed text is not a key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KeyError {
    /// Nothing was typed (or `hex:` with no digits).
    #[error("the key is empty")]
    Empty,
    /// `@...` that is not `@self/<name>` or `@<peer ID>/<name>`.
    #[error("invalid owned key {}: write @self/NAME or @PEER_ID/NAME", quote(.0))]
    Owned(String),
    /// `@self/..` where no node is at hand to say whose it is.
    #[error("@self names the running node's own key; use @PEER_ID/NAME here")]
    NoSelf,
    /// `hex:` followed by something that is not hex.
    #[error("invalid hex key {}: {source}", quote(.text))]
    Hex {
        /// The key as typed.
        text: String,
        /// What is wrong with the digits.
        source: hex::FromHexError,
    },
}

/// A key as the user typed it together with the DHT key it names, so a
/// command line is parsed once and its key never re-parsed when it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserKey {
    text: String,
    key: Named,
}

/// The key a [`UserKey`] names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Named {
    /// These bytes.
    Bytes(RecordKey),
    /// The running node's owned key with this name (`@self/<name>`).
    OwnedBySelf(Vec<u8>),
}

impl UserKey {
    /// Parses `text` (plain, `hex:..`, `mh:..`, `@self/..` or
    /// `@<peer ID>/..`) into a key.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let key = match text.strip_prefix(SELF_PREFIX) {
            Some(name) if !name.is_empty() => Named::OwnedBySelf(name.as_bytes().to_vec()),
            Some(_) => return Err(KeyError::Owned(text.to_string())),
            None => Named::Bytes(parse(text)?),
        };
        Ok(UserKey {
            key,
            text: text.to_string(),
        })
    }

    /// What the user typed (without any quotes around it).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The DHT key, for the node whose peer ID is `local` (the owner of
    /// `@self/..` keys).
    pub fn record_key(&self, local: &PeerId) -> RecordKey {
        match &self.key {
            Named::Bytes(k) => k.clone(),
            Named::OwnedBySelf(name) => owned::key(local, name),
        }
    }
}

/// How a user names an owned key of the node they talk to.
const SELF_PREFIX: &str = "@self/";

impl FromStr for UserKey {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        UserKey::parse(text)
    }
}

impl fmt::Display for UserKey {
    /// The key as typed, quoted when it must be to type it back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&quote(&self.text))
    }
}

/// Parses a key as typed by the user into the bytes stored in the DHT.
pub fn parse(text: &str) -> Result<RecordKey, KeyError> {
    if text.is_empty() {
        return Err(KeyError::Empty);
    }
    if let Some(digits) = text.strip_prefix("hex:") {
        let bytes = hex::decode(digits).map_err(|source| KeyError::Hex {
            text: text.to_string(),
            source,
        })?;
        if bytes.is_empty() {
            return Err(KeyError::Empty);
        }
        return Ok(RecordKey::new(&bytes));
    }
    if let Some(plain) = text.strip_prefix("mh:") {
        return Ok(RecordKey::new(&sha256_multihash(plain.as_bytes())));
    }
    if text.starts_with(SELF_PREFIX) {
        return Err(KeyError::NoSelf);
    }
    if let Some(owned_form) = text.strip_prefix('@') {
        let bad = || KeyError::Owned(text.to_string());
        let (peer, name) = owned_form.split_once('/').ok_or_else(bad)?;
        let peer: PeerId = peer.parse().map_err(|_| bad())?;
        if name.is_empty() {
            return Err(bad());
        }
        return Ok(owned::key(&peer, name.as_bytes()));
    }
    Ok(RecordKey::new(&text))
}

/// The sha2-256 multihash of `data`.
pub fn sha256_multihash(data: &[u8]) -> Vec<u8> {
    let mut out = SHA2_256_PREFIX.to_vec();
    out.extend_from_slice(&Sha256::digest(data));
    out
}

/// Shows a key the way a user could type it back: text when it is printable
/// UTF-8 without spaces, `@<peer ID>/<name>` for an owned key with such a
/// name, else `hex:..`.
pub fn display(key: &RecordKey) -> String {
    let typable = |s: &str| {
        !s.is_empty()
            && !s.starts_with("hex:")
            && !s.starts_with("mh:")
            && !s.starts_with('@')
            && s.chars().all(|c| !c.is_whitespace() && !c.is_control())
    };
    if let Some(Ok((owner, name))) = owned::split(key.as_ref())
        && let Ok(name) = std::str::from_utf8(name)
        && name.chars().all(|c| !c.is_whitespace() && !c.is_control())
    {
        return format!("@{owner}/{name}");
    }
    match std::str::from_utf8(key.as_ref()) {
        Ok(s) if typable(s) => s.to_string(),
        _ => format!("hex:{}", hex::encode(key.as_ref())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_utf8_bytes() {
        assert_eq!(parse("greeting").unwrap().as_ref(), b"greeting");
        let key = UserKey::parse("my key").unwrap();
        assert_eq!(key.text(), "my key");
        assert_eq!(key.record_key(&PeerId::random()).as_ref(), b"my key");
        assert_eq!(key.to_string(), "\"my key\"");
    }

    #[test]
    fn hex_and_multihash_prefixes() {
        assert_eq!(parse("hex:2f706b2f").unwrap().as_ref(), b"/pk/");
        let mh = parse("mh:hello").unwrap();
        assert_eq!(&mh.as_ref()[..2], &[0x12, 0x20]);
        assert_eq!(mh.as_ref().len(), 34);
        assert!(matches!(parse("hex:zz"), Err(KeyError::Hex { .. })));
        assert_eq!(parse("hex:"), Err(KeyError::Empty));
        assert_eq!(parse(""), Err(KeyError::Empty));
    }

    #[test]
    fn errors_are_one_line_even_for_odd_text() {
        let e = parse("hex:a\nb").unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.starts_with("invalid hex key \"hex:a\\nb\""), "{e}");
    }

    #[test]
    fn display_round_trips() {
        let owned_form = format!("@{}/name", PeerId::random());
        for k in ["greeting", "hex:00ff", "mh:abc", "hex:4061", &owned_form] {
            let key = parse(k).unwrap();
            assert_eq!(parse(&display(&key)).unwrap(), key);
        }
        assert_eq!(display(&parse(&owned_form).unwrap()), owned_form);
    }

    #[test]
    fn owned_keys_name_their_owner() {
        let me = PeerId::random();
        let mine = UserKey::parse("@self/notes").unwrap();
        assert_eq!(mine.record_key(&me), owned::key(&me, b"notes"));
        let theirs = format!("@{me}/notes");
        assert_eq!(parse(&theirs).unwrap(), owned::key(&me, b"notes"));
        for bad in [
            "@self/",
            "@nobody/x",
            "@",
            &format!("@{me}/"),
            &format!("@{me}"),
        ] {
            let e = UserKey::parse(bad).unwrap_err().to_string();
            assert!(e.contains("@PEER_ID/NAME"), "{bad}: {e}");
        }
        assert_eq!(parse("@self/x"), Err(KeyError::NoSelf));
    }
}
