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

use libp2p::PeerId;
use p2pnode::bootstrap::{self, DialTarget, Target};
use p2pnode::command::{self, Command};
use p2pnode::keys::{self, UserKey};
use p2pnode::network::Quorum;
use p2pnode::output;
use proptest::prelude::*;

mod codec;

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
