//! How a user writes a record key, parsed once into a [`UserKey`].
//!
//! Keys are bytes on the wire. Most users type text, which is used as its
//! UTF-8 bytes (the same as `RecordKey::new(&"text")`). Two prefixes reach
//! keys that other libp2p implementations use:
//! - `hex:<hex>`: raw bytes, e.g. a `/pk/` key or a CID;
//! - `mh:<text>`: the sha2-256 multihash of `text` (`0x12 0x20` + digest),
//!   the usual form of provider keys in go-libp2p and py-libp2p.

use std::fmt;
use std::str::FromStr;

use crate::dht::RecordKey;
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
    key: RecordKey,
}

impl UserKey {
    /// Parses `text` (plain, `hex:..` or `mh:..`) into a key.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        Ok(UserKey {
            key: parse(text)?,
            text: text.to_string(),
        })
    }

    /// What the user typed (without any quotes around it).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The DHT key.
    pub fn record_key(&self) -> &RecordKey {
        &self.key
    }

    /// The DHT key, for handing to the node.
    pub fn into_record_key(self) -> RecordKey {
        self.key
    }
}

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
    Ok(RecordKey::new(&text))
}

/// The sha2-256 multihash of `data`.
pub fn sha256_multihash(data: &[u8]) -> Vec<u8> {
    let mut out = SHA2_256_PREFIX.to_vec();
    out.extend_from_slice(&Sha256::digest(data));
    out
}

/// Shows a key the way a user could type it back: text when it is printable
/// UTF-8 without spaces, else `hex:..`.
pub fn display(key: &RecordKey) -> String {
    match std::str::from_utf8(key.as_ref()) {
        Ok(s)
            if !s.is_empty()
                && !s.starts_with("hex:")
                && !s.starts_with("mh:")
                && s.chars().all(|c| !c.is_whitespace() && !c.is_control()) =>
        {
            s.to_string()
        }
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
        assert_eq!(key.record_key().as_ref(), b"my key");
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
        for k in ["greeting", "hex:00ff", "mh:abc"] {
            let key = parse(k).unwrap();
            assert_eq!(parse(&display(&key)).unwrap(), key);
        }
    }
}
