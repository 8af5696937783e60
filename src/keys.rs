//! How a user writes a record key, parsed once into a [`UserKey`].
//!
//! Keys are bytes on the wire. Most users type text, which is used as its
//! UTF-8 bytes (the same as `RecordKey::new(&"text")`). Three prefixes reach
//! keys that other libp2p implementations use:
//! - `hex:<hex>`: raw bytes, e.g. a `/pk/` key;
//! - `mh:<text>`: the sha2-256 multihash of `text` (`0x12 0x20` + digest),
//!   the usual form of provider keys in go-libp2p and py-libp2p;
//! - `cid:<CID>`: the multihash of a CID, the key kubo announces content
//!   under (see [`cid`] for the rule that reads a bare `Qm...`/`baf...` word
//!   as a CID in `provide` and `providers`).
//!
//! Owned keys ([`crate::dht::owned`]), which only their owner can write,
//! are typed `@self/<name>` (this node's) or `@<peer ID>/<name>` (that
//! peer's); any other text starting with `@` is an error.

pub mod cid;

use std::fmt;
use std::str::FromStr;

use crate::dht::{RecordKey, owned};
use libp2p::PeerId;
use sha2::{Digest, Sha256};

use crate::quote::quote;

/// The multihash code of sha2-256 and its digest length.
const SHA2_256_PREFIX: [u8; 2] = [0x12, 0x20];

/// Why typed text is not a key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KeyError {
    /// Nothing was typed (or `hex:` with no digits).
    #[error("the key is empty")]
    Empty,
    /// A CID that does not parse (after `cid:`, or a bare `Qm`/`baf` word
    /// where a content key is expected).
    #[error("invalid CID {}: {reason}", quote(.text))]
    Cid {
        /// The key as typed.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
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

    /// Parses a content key, as `provide` and `providers` take: like
    /// [`UserKey::parse`], and a bare word starting with `Qm` or `baf` is a
    /// CID (its multihash), which must parse.
    pub fn parse_content(text: &str) -> Result<Self, KeyError> {
        if !cid::is_bare_cid(text) {
            return Self::parse(text);
        }
        Ok(UserKey {
            key: Named::Bytes(cid_key(text, text)?),
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
    if let Some(c) = text.strip_prefix(cid::PREFIX) {
        return cid_key(text, c);
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

/// The key of CID `c`, typed as `text`.
fn cid_key(text: &str, c: &str) -> Result<RecordKey, KeyError> {
    cid::multihash(c)
        .map(|mh| RecordKey::new(&mh))
        .map_err(|reason| KeyError::Cid {
            text: text.to_string(),
            reason,
        })
}

/// The sha2-256 multihash of `data`.
pub fn sha256_multihash(data: &[u8]) -> Vec<u8> {
    let mut out = SHA2_256_PREFIX.to_vec();
    out.extend_from_slice(&Sha256::digest(data));
    out
}

/// Shows a key the way a user could type it back in any command: text when
/// it is printable UTF-8 without spaces and reads back as text (no key
/// prefix, not a bare CID), `@<peer ID>/<name>` for an owned key with such
/// a name, else `hex:..`.
pub fn display(key: &RecordKey) -> String {
    let typable = |s: &str| {
        !s.is_empty()
            && !s.starts_with("hex:")
            && !s.starts_with("mh:")
            && !s.starts_with('@')
            && !s.starts_with(cid::PREFIX)
            && !cid::is_bare_cid(s)
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
        for k in [
            "greeting",
            "hex:00ff",
            "mh:abc",
            "hex:6369643a78",
            "hex:516d78",
            "hex:4061",
            &owned_form,
        ] {
            let key = parse(k).unwrap();
            assert_eq!(parse(&display(&key)).unwrap(), key);
            assert_eq!(
                UserKey::parse_content(&display(&key))
                    .unwrap()
                    .record_key(&PeerId::random()),
                key
            );
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

    const V0: &str = "QmaerwtBJw3YdweLDmxyfrYtZvZHCVwZsmQ4Fih851YBKX";
    const V0_MH: &str = "1220b6f688e1c88261285a7c5b3f84683c055203a9c7ef53d3f5917682abb13e51b2";

    #[test]
    fn cids_are_keys_by_prefix_everywhere_and_bare_in_content_keys() {
        let by_prefix = parse(&format!("cid:{V0}")).unwrap();
        assert_eq!(hex::encode(by_prefix.as_ref()), V0_MH);
        let bare = UserKey::parse_content(V0).unwrap();
        assert_eq!(bare.record_key(&PeerId::random()), by_prefix);
        assert_eq!(bare.text(), V0);
        // A plain key stays text, and so does a CID outside content keys.
        assert_eq!(parse(V0).unwrap().as_ref(), V0.as_bytes());
        let text = UserKey::parse_content("greeting").unwrap();
        assert_eq!(text.record_key(&PeerId::random()).as_ref(), b"greeting");
        assert_eq!(UserKey::parse_content("mh:x"), UserKey::parse("mh:x"));
    }

    #[test]
    fn malformed_cids_are_one_line_errors() {
        for bad in ["cid:Qmnope", "cid:", "cid:bafy\nx"] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("invalid CID ") && e.contains("cid:"), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
        let e = UserKey::parse_content(&V0[..30]).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "invalid CID {}: a CIDv0 (Qm...) is 46 characters long, not 30",
                &V0[..30]
            )
        );
        assert!(UserKey::parse_content("bafflegab").is_err());
    }
}
