//! Property tests for everything that parses untrusted input: command
//! lines and `ctl` argument lists (`command::Command`, the tokenizer and
//! its inverse `command::quote`), bootstrap addresses (`bootstrap::Target`),
//! user keys (`keys::parse`), values shown to people (`output::show_value`)
//! and the record store's on-disk format (`store::codec`). Garbage must be
//! an error, never a panic, and errors one safe line; valid input must
//! round-trip.
//!
//! Budget: `PROPTEST_CASES` (default 2048 per property) — a few seconds in all.

use std::num::NonZeroUsize;
use std::str::FromStr;
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use p2pnode::bootstrap::{self, DialTarget, Target};
use p2pnode::command::{self, Command};
use p2pnode::dht::{ProviderRecord, Record, RecordKey, Version};
use p2pnode::keys::{self, UserKey};
use p2pnode::network::Quorum;
use p2pnode::output;
use p2pnode::store::codec::{self, Clock};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2048);
    ProptestConfig {
        cases,
        // Failures print their minimal input; don't write files into the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn peer(seed: [u8; 32]) -> PeerId {
    libp2p::identity::Keypair::ed25519_from_bytes(seed)
        .expect("any 32 bytes are an ed25519 secret")
        .public()
        .to_peer_id()
}

// ---- command lines ----

fn quorum() -> impl Strategy<Value = Quorum> {
    prop_oneof![
        Just(Quorum::Default),
        Just(Quorum::All),
        (1usize..10_000).prop_map(|n| Quorum::N(NonZeroUsize::new(n).expect("n >= 1"))),
    ]
}

/// Any text, line breaks and control characters included.
fn any_text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..=max).prop_map(|c| c.into_iter().collect())
}

fn user_key() -> impl Strategy<Value = UserKey> {
    prop_oneof![
        "[a-zA-Z0-9_./-]{1,24}",
        "hex:([0-9a-f]{2}){1,8}",
        "mh:[a-z0-9 ]{0,12}",
        "[a-z\"' \\\\]{1,12}",
        "--quorum( all| 2)?",
        any_text(16),
    ]
    .prop_filter_map("a valid key", |text| UserKey::parse(&text).ok())
}

/// A text key as `provide`/`providers` read it (CIDs: tests/proptest_keys.rs).
fn content_key() -> impl Strategy<Value = UserKey> {
    user_key().prop_filter("reads back", |k| {
        UserKey::parse_content(k.text()).as_ref() == Ok(k)
    })
}

fn target() -> impl Strategy<Value = Target> {
    let ip = prop_oneof![
        any::<[u8; 4]>().prop_map(|b| format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])),
        any::<[u16; 8]>().prop_map(|s| format!("[{}]", std::net::Ipv6Addr::from(s))),
        "[a-z][a-z0-9-]{0,15}(\\.[a-z]{2,6}){0,2}",
    ];
    (ip, 1u16.., proptest::option::of(any::<[u8; 32]>())).prop_map(|(host, port, id)| {
        let mut text = format!("{host}:{port}");
        if let Some(seed) = id {
            text.push_str(&format!("/p2p/{}", peer(seed)));
        }
        Target::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
    })
}

fn command() -> impl Strategy<Value = Command> {
    let value = prop_oneof![
        Just("--quorum".to_string()),
        "[^\"'\\\\]{0,40}",
        "(--quorum|all|3| |\t|\"|'|\\\\|x){0,8}",
        any_text(40),
    ];
    prop_oneof![
        (user_key(), value, quorum()).prop_map(|(key, value, quorum)| Command::Put {
            key,
            value,
            quorum
        }),
        (user_key(), quorum()).prop_map(|(key, quorum)| Command::Get { key, quorum }),
        content_key().prop_map(|key| Command::Provide { key }),
        content_key().prop_map(|key| Command::Providers { key }),
        user_key().prop_map(|key| Command::Closest { key }),
        target().prop_map(|t| Command::Dial {
            target: DialTarget::Addr(t)
        }),
        any::<[u8; 32]>().prop_map(|seed| Command::Dial {
            target: DialTarget::Peer(peer(seed))
        }),
        // Every command that takes no argument, from the table.
        proptest::sample::select(
            command::COMMANDS
                .iter()
                .filter_map(|spec| Command::from_args(&[spec.name]).ok())
                .collect::<Vec<_>>()
        ),
    ]
}

fn command_ish_line() -> impl Strategy<Value = String> {
    // Every name and alias in the table, one in upper case, and none.
    let names = command::COMMANDS
        .iter()
        .flat_map(|s| s.aliases.iter().chain([&s.name]));
    let word = proptest::sample::select(names.chain([&"PUT", &""]).copied().collect::<Vec<_>>());
    let tail = prop_oneof![
        ".{0,60}",
        "( |\t|\"|'|\\\\|\\\\x|\\\\u\\{|--quorum|all|0|-1|18446744073709551616|hex:|mh:|cid:|Qm|baf|/p2p/|/ip4/|k|v){0,12}",
    ];
    (word, tail).prop_map(|(w, t)| format!("{w}{t}"))
}

/// Whether a message can be shown on one line, with nothing a terminal acts on.
fn one_safe_line(message: &str) -> bool {
    !message.chars().any(command::needs_escape)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn command_parsing_never_panics(text in any::<String>()) {
        let _ = Command::from_str(&text);
        let _ = command::parse_line(&text);
    }

    #[test]
    fn argument_lists_never_panic(args in proptest::collection::vec(any_text(12), 0..6)) {
        if let Err(e) = Command::from_args(&args) {
            prop_assert!(one_safe_line(&e.error.to_string()), "{:?}", e.error.to_string());
        }
    }

    #[test]
    fn command_like_lines_never_panic_and_errors_are_one_line(text in command_ish_line()) {
        if let Some(Err(e)) = command::parse_line(&text) {
            prop_assert!(one_safe_line(&e.error.to_string()), "{:?}", e.error.to_string());
        }
    }

    #[test]
    fn commands_round_trip_through_their_line(c in command()) {
        let text = c.to_string();
        prop_assert!(one_safe_line(&text), "{:?}", text);
        let back = command::parse_line(&text).expect("a command line");
        prop_assert_eq!(back, Ok(c), "line: {:?}", text);
    }

    #[test]
    fn unquoted_values_are_the_rest_of_the_line(
        key in "[a-z0-9]{1,8}",
        words in proptest::collection::vec("[a-zA-Z0-9.,!?=:-]{1,8}", 1..6),
        gaps in proptest::collection::vec("[ \t]{1,3}", 6),
        outer in ("[ \t]{0,2}", "[ \t]{0,2}"),
    ) {
        let mut value = words[0].clone();
        for (word, gap) in words[1..].iter().zip(&gaps) {
            value.push_str(gap);
            value.push_str(word);
        }
        let line = format!("put {key} {}{value}{}", outer.0, outer.1);
        prop_assume!(words.iter().all(|w| w != "--quorum"));
        let parsed = Command::from_str(&line);
        prop_assert_eq!(
            parsed,
            Ok(Command::Put { key: UserKey::parse(&key).expect("a key"), value, quorum: Quorum::Default }),
            "line: {:?}", line
        );
    }

    #[test]
    fn quoted_tokens_round_trip_through_the_tokenizer(
        tokens in proptest::collection::vec(any_text(12), 0..6),
        gaps in proptest::collection::vec("[ \t]{1,3}", 6),
    ) {
        let mut line = String::new();
        for (token, gap) in tokens.iter().zip(&gaps) {
            line.push_str(gap);
            line.push_str(&command::quote(token));
        }
        let back: Vec<String> = command::tokenize(&line)
            .map_err(|e| TestCaseError::fail(format!("{line:?}: {e}")))?
            .into_iter()
            .map(|t| t.text)
            .collect();
        prop_assert_eq!(back, tokens, "line: {:?}", line);
    }

    #[test]
    fn shown_values_are_safe_and_never_collide(
        value in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..24),
            any_text(16).prop_map(String::into_bytes),
            "(hex:|\"| |x|ff|\\\\){0,6}".prop_map(String::into_bytes),
        ],
        other in proptest::collection::vec(any::<u8>(), 0..24),
    ) {
        let shown = output::show_value(&value).into_owned();
        prop_assert!(one_safe_line(&shown), "{:?}", shown);
        // What one value shows as, stored as another value, shows differently.
        for different in [shown.clone().into_bytes(), other] {
            if different != value {
                prop_assert_ne!(&output::show_value(&different), &shown, "{:?} vs {:?}", value, different);
            }
        }
    }

    #[test]
    fn key_parsing_never_panics(text in any::<String>()) {
        if let Ok(key) = keys::parse(&text) {
            // What is shown for a key reads back as the same key.
            prop_assert_eq!(keys::parse(&keys::display(&key)), Ok(key));
        }
    }
}

// ---- bootstrap addresses ----

proptest! {
    #![proptest_config(config())]

    #[test]
    fn bootstrap_parsing_never_panics(text in any::<String>()) {
        let _ = Target::from_str(&text);
        let _ = bootstrap::parse_list(&text);
    }

    #[test]
    fn multiaddr_like_bootstrap_text_never_panics(
        text in "(/(ip4|ip6|dns|dns4|tcp|udp|quic-v1|p2p|p2p-circuit|[a-z0-9.:]{0,12})){0,8}"
    ) {
        let _ = Target::from_str(&text);
    }

    #[test]
    fn targets_round_trip_through_their_address(t in target()) {
        let text = t.to_string();
        prop_assert_eq!(Target::from_str(&text), Ok(t), "{}", text);
    }

    #[test]
    fn target_lists_keep_every_entry(ts in proptest::collection::vec(target(), 0..6), sep in "[, ]{1,3}") {
        let text: Vec<String> = ts.iter().map(ToString::to_string).collect();
        let parsed = bootstrap::parse_list(&text.join(&sep));
        prop_assert_eq!(parsed, Ok(ts));
    }
}

// ---- the record store's format ----

/// A record's parts; its expiry is an offset from the clock the test reads.
type Parts = (Vec<u8>, Vec<u8>, Option<[u8; 32]>, Option<u64>);

fn record_parts() -> impl Strategy<Value = Parts> {
    (
        proptest::collection::vec(any::<u8>(), 1..64),
        proptest::collection::vec(any::<u8>(), 0..2048),
        proptest::option::of(any::<[u8; 32]>()),
        proptest::option::of(0u64..(200 * 24 * 3600 * 1000)),
    )
}

fn record((key, value, publisher, expires_ms): Parts, clock: &Clock) -> Record {
    Record {
        key: RecordKey::new(&key),
        value,
        publisher: publisher.map(peer),
        version: Version(expires_ms.unwrap_or(1)),
        expires: expires_ms.map(|ms| clock.instant + Duration::from_millis(ms)),
    }
}

type ProviderParts = Vec<([u8; 32], Option<u64>, Vec<Multiaddr>)>;

fn provider_parts() -> impl Strategy<Value = ProviderParts> {
    let addr = prop_oneof![
        (any::<[u8; 4]>(), any::<u16>())
            .prop_map(|(ip, port)| format!("/ip4/{}/tcp/{port}", std::net::Ipv4Addr::from(ip))),
        "[a-z]{1,10}".prop_map(|h| format!("/dns/{h}/udp/4001/quic-v1")),
    ]
    .prop_map(|s| s.parse::<Multiaddr>().expect("valid multiaddr"));
    let one = (
        any::<[u8; 32]>(),
        proptest::option::of(0u64..1_000_000_000),
        proptest::collection::vec(addr, 0..4),
    );
    proptest::collection::vec(one, 0..5)
}

fn providers(parts: ProviderParts, clock: &Clock) -> Vec<ProviderRecord> {
    parts
        .into_iter()
        .map(|(seed, ms, addresses)| ProviderRecord {
            key: RecordKey::new(&b"k"),
            provider: peer(seed),
            expires: ms.map(|ms| clock.instant + Duration::from_millis(ms)),
            addresses,
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn records_round_trip(parts in record_parts()) {
        let clock = Clock::now();
        let r = record(parts, &clock);
        let bytes = codec::encode_record(&r, &clock);
        let back = codec::decode_record(r.key.as_ref(), &bytes, &clock);
        prop_assert_eq!(back, Ok(r));
    }

    #[test]
    fn records_read_later_keep_their_expiry(parts in record_parts(), later_ms in 0u64..10_000_000) {
        // Written now, read after a restart `later_ms` on: the expiry is the
        // same wall-clock moment, or expired if that moment has passed.
        let clock = Clock::now();
        let r = record(parts, &clock);
        let bytes = codec::encode_record(&r, &clock);
        let step = Duration::from_millis(later_ms);
        let later = Clock { instant: clock.instant + step, system: clock.system + step };
        let back = codec::decode_record(r.key.as_ref(), &bytes, &later).expect("decodes");
        match (back.expires, r.expires) {
            (None, None) => {}
            (Some(b), Some(a)) if a > later.instant => prop_assert_eq!(b, a),
            (Some(b), Some(_)) => prop_assert!(back.is_expired(later.instant), "{:?}", b),
            other => prop_assert!(false, "expiry lost or invented: {:?}", other),
        }
    }

    #[test]
    fn truncated_records_are_errors(parts in record_parts(), cut in any::<prop::sample::Index>()) {
        let clock = Clock::now();
        let r = record(parts, &clock);
        let bytes = codec::encode_record(&r, &clock);
        let cut = cut.index(bytes.len());
        prop_assert!(codec::decode_record(r.key.as_ref(), &bytes[..cut], &clock).is_err());
    }

    #[test]
    fn a_damaged_record_is_always_detected(
        parts in record_parts(),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        // A changed byte is an error (the checksum), never a wrong record.
        let clock = Clock::now();
        let r = record(parts, &clock);
        let mut bytes = codec::encode_record(&r, &clock);
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        prop_assert!(codec::decode_record(r.key.as_ref(), &bytes, &clock).is_err());
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let clock = Clock::now();
        let _ = codec::decode_record(b"k", &bytes, &clock);
        let _ = codec::decode_providers(b"k", &bytes, &clock);
    }

    #[test]
    fn provider_lists_round_trip(parts in provider_parts(), cut in any::<prop::sample::Index>()) {
        let clock = Clock::now();
        let list = providers(parts, &clock);
        let bytes = codec::encode_providers(b"k", &list, &clock);
        let back = codec::decode_providers(b"k", &bytes, &clock).expect("decodes");
        prop_assert_eq!(back.len(), list.len());
        for (a, b) in back.iter().zip(&list) {
            prop_assert_eq!(a.provider, b.provider);
            prop_assert_eq!(&a.addresses, &b.addresses);
            prop_assert_eq!(a.expires, b.expires);
        }
        let cut = cut.index(bytes.len());
        prop_assert!(codec::decode_providers(b"k", &bytes[..cut], &clock).is_err());
    }
}
