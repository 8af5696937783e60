//! Property tests for CIDs as keys (`keys::cid`, `UserKey::parse_content`):
//! any text is a key or a one-line error, never a panic; every CID of a
//! content's multihash (v0, v1 in any base, with `cid:` or bare) names the
//! same key; `provide`/`providers` lines with CIDs round-trip; and what is
//! shown for any key reads back as that key where bare CIDs are read.
//!
//! Budget: `PROPTEST_CASES` (proptest's default: 256 per property).

use std::str::FromStr;

use cid::Cid;
use cid::multibase::Base;
use cid::multihash::Multihash;
use p2pnode::command::{self, Command};
use p2pnode::keys::{self, UserKey};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    // proptest reads PROPTEST_CASES itself (CI sets it).
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A sha2-256 multihash with any digest (the CIDv0 kind).
fn multihash() -> impl Strategy<Value = Multihash<64>> {
    any::<[u8; 32]>().prop_map(|d| Multihash::wrap(0x12, &d).expect("32 bytes fit in 64"))
}

/// The ways IPFS tools write a CID of `mh`: v0, v1 (dag-pb or raw) in base32
/// (bare) and in other bases (after `cid:`).
fn written(mh: &Multihash<64>) -> Vec<String> {
    let mut out = vec![Cid::new_v0(*mh).expect("sha2-256").to_string()];
    for codec in [0x70, 0x55] {
        let v1 = Cid::new_v1(codec, *mh);
        out.push(v1.to_string());
        for base in [Base::Base58Btc, Base::Base16Lower, Base::Base64Url] {
            let text = v1.to_string_of_base(base).expect("a v1 CID in any base");
            out.push(format!("cid:{text}"));
        }
    }
    out
}

fn one_line(s: &str) -> bool {
    !s.chars().any(command::needs_escape)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn content_keys_never_panic_and_errors_are_one_line(
        text in prop_oneof![any::<String>(), "(Qm|baf|cid:|cid:Qm|cid:z)[1-9A-Za-z/\\n ]{0,60}"],
    ) {
        // The node the keys are typed at (the owner of `@self/..` keys).
        let me = libp2p::PeerId::random();
        match UserKey::parse_content(&text) {
            Ok(key) => {
                let shown = keys::display(&key.record_key(&me));
                // What is shown reads back, in content and other commands alike.
                let back = UserKey::parse_content(&shown)?;
                prop_assert_eq!(back.record_key(&me), key.record_key(&me));
                prop_assert_eq!(keys::parse(&shown)?, key.record_key(&me));
            }
            Err(e) => prop_assert!(one_line(&e.to_string()), "{:?}", e.to_string()),
        }
    }

    #[test]
    fn every_cid_of_a_multihash_names_the_multihash(mh in multihash()) {
        for text in written(&mh) {
            let key = UserKey::parse_content(&text)
                .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            let bytes = mh.to_bytes();
            let record_key = key.record_key(&libp2p::PeerId::random());
            prop_assert_eq!(record_key.as_ref(), bytes.as_slice(), "{}", text);
            prop_assert_eq!(key.text(), text.as_str());
        }
    }

    #[test]
    fn cid_commands_round_trip_through_their_line(mh in multihash(), i in 0usize..8, provide in any::<bool>()) {
        let texts = written(&mh);
        let key = UserKey::parse_content(&texts[i % texts.len()])
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let c = match provide {
            true => Command::Provide { key },
            false => Command::Providers { key },
        };
        prop_assert_eq!(Command::from_str(&c.to_string()), Ok(c));
    }
}
