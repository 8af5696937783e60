//! How a user writes a record key.
//!
//! Keys are bytes on the wire. Most users type text, which is used as its
//! UTF-8 bytes (the same as `RecordKey::new(&"text")`). Two prefixes reach
//! keys that other libp2p implementations use:
//! - `hex:<hex>`: raw bytes, e.g. a `/pk/` key or a CID;
//! - `mh:<text>`: the sha2-256 multihash of `text` (`0x12 0x20` + digest),
//!   the usual form of provider keys in go-libp2p and py-libp2p.

use crate::dht::RecordKey;
use sha2::{Digest, Sha256};

/// The multihash code of sha2-256 and its digest length.
const SHA2_256_PREFIX: [u8; 2] = [0x12, 0x20];

/// Parses a key as typed by the user into the bytes stored in the DHT.
pub fn parse(text: &str) -> Result<RecordKey, String> {
    if text.is_empty() {
        return Err("the key is empty".into());
    }
    if let Some(hex) = text.strip_prefix("hex:") {
        let bytes = hex::decode(hex).map_err(|e| format!("invalid hex key '{text}': {e}"))?;
        if bytes.is_empty() {
            return Err("the key is empty".into());
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
    }

    #[test]
    fn hex_and_multihash_prefixes() {
        assert_eq!(parse("hex:2f706b2f").unwrap().as_ref(), b"/pk/");
        let mh = parse("mh:hello").unwrap();
        assert_eq!(&mh.as_ref()[..2], &[0x12, 0x20]);
        assert_eq!(mh.as_ref().len(), 34);
        assert!(parse("hex:zz").is_err());
        assert!(parse("hex:").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn display_round_trips() {
        for k in ["greeting", "hex:00ff", "mh:abc"] {
            let key = parse(k).unwrap();
            assert_eq!(parse(&display(&key)).unwrap(), key);
        }
    }
}
