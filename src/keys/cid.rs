//! CIDs as DHT keys, as kubo uses them: a CID names content, and the DHT
//! key of its provider records is the CID's multihash (go-libp2p-kad-dht
//! `Provide(cid)` announces `cid.Hash()`), so CIDv0 `Qm...` and the CIDv1
//! `bafy...` of the same content share one key. Parsed by the `cid` crate
//! (CIDv0 base58btc; CIDv1 in any multibase).
//!
//! Where a bare word is a CID: only in commands that take content keys
//! (`provide`, `providers`), and only a word starting with `Qm` (CIDv0) or
//! `baf` (CIDv1 in base32, what IPFS tools print). Such a word must parse
//! as a CID: a truncated or mistyped one is an error, never silently a
//! text key that no provider announces. Everywhere, and for CIDs in other
//! bases, the `cid:` prefix says it outright.

/// The prefix that makes any key a CID.
pub const PREFIX: &str = "cid:";

/// The length of a CIDv0: base58btc of a sha2-256 multihash.
const CIDV0_LEN: usize = 46;

/// Whether a bare word in a content-key command is read as a CID.
pub fn is_bare_cid(word: &str) -> bool {
    word.starts_with("Qm") || word.starts_with("baf")
}

/// The multihash bytes of the CID `text` (no prefix); why not, in one line.
pub fn multihash(text: &str) -> Result<Vec<u8>, String> {
    if text.contains('/') {
        // The cid crate would take the CID out of an `/ipfs/<cid>` path; a
        // key is a CID alone.
        return Err("give the CID alone, not a path".into());
    }
    let chars = text.chars().count();
    if text.starts_with("Qm") && chars != CIDV0_LEN {
        return Err(format!(
            "a CIDv0 (Qm...) is {CIDV0_LEN} characters long, not {chars}"
        ));
    }
    let cid = ::cid::Cid::try_from(text).map_err(|e| lowercase_first(&e.to_string()))?;
    Ok(cid.hash().to_bytes())
}

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ipfs add` of "hello from kubo\n" -ish content: the same bytes as
    /// kubo v0.22 printed in the interop suite (CIDv0 and its multihash).
    const V0: &str = "QmaerwtBJw3YdweLDmxyfrYtZvZHCVwZsmQ4Fih851YBKX";
    const V0_MH: &str = "1220b6f688e1c88261285a7c5b3f84683c055203a9c7ef53d3f5917682abb13e51b2";

    #[test]
    fn v0_and_v1_of_one_content_share_the_multihash() {
        assert_eq!(hex::encode(multihash(V0).unwrap()), V0_MH);
        // The CIDv1 (dag-pb, base32) of the same content: `ipfs cid base32`.
        let v1 = ::cid::Cid::try_from(V0)
            .unwrap()
            .into_v1()
            .unwrap()
            .to_string();
        assert!(v1.starts_with("bafy"), "{v1}");
        assert_eq!(hex::encode(multihash(&v1).unwrap()), V0_MH);
        // Raw leaves (bafk...) and other bases (z: base58btc) too.
        let raw = ::cid::Cid::new_v1(0x55, ::cid::Cid::try_from(V0).unwrap().hash().to_owned());
        assert!(raw.to_string().starts_with("bafk"));
        assert_eq!(hex::encode(multihash(&raw.to_string()).unwrap()), V0_MH);
        let z = raw
            .to_string_of_base(::cid::multibase::Base::Base58Btc)
            .unwrap();
        assert_eq!(hex::encode(multihash(&z).unwrap()), V0_MH);
    }

    #[test]
    fn malformed_cids_say_why_in_one_line() {
        for bad in [
            &V0[..40],
            "Qm0000000000000000000000000000000000000000000O",
            "bafyhello",
            "/ipfs/QmaerwtBJw3YdweLDmxyfrYtZvZHCVwZsmQ4Fih851YBKX",
            "",
        ] {
            let e = multihash(bad).unwrap_err();
            assert!(!e.is_empty() && !e.contains('\n'), "{bad:?}: {e}");
        }
    }

    #[test]
    fn only_qm_and_baf_words_are_bare_cids() {
        assert!(is_bare_cid(V0) && is_bare_cid("bafyhello") && is_bare_cid("bafkqaaa"));
        assert!(!is_bare_cid("greeting") && !is_bare_cid("zb2rh") && !is_bare_cid("qmfoo"));
    }
}
