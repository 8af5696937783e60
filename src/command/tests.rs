//! Parsing lines and argument lists into commands.

use std::num::NonZeroUsize;

use super::*;
use crate::keys::UserKey;
use crate::network::Quorum;

fn p(s: &str) -> Result<Command, ParseError> {
    s.parse()
}

fn key(s: &str) -> UserKey {
    UserKey::parse(s).unwrap()
}

fn put(k: &str, value: &str) -> Command {
    Command::Put {
        key: key(k),
        value: value.into(),
        quorum: Quorum::Default,
    }
}

#[test]
fn put_takes_the_rest_of_the_line() {
    assert_eq!(
        p("put greeting hello  big world"),
        Ok(put("greeting", "hello  big world"))
    );
    assert_eq!(p("set k   v \t"), Ok(put("k", "v")));
    assert_eq!(
        p("PUT k v --quorum 3"),
        Ok(Command::Put {
            key: key("k"),
            value: "v".into(),
            quorum: Quorum::N(NonZeroUsize::new(3).unwrap())
        })
    );
    assert_eq!(p("put k a--quorum b"), Ok(put("k", "a--quorum b")));
    assert_eq!(p("put k a --quorum 3 b"), Ok(put("k", "a --quorum 3 b")));
}

#[test]
fn quoted_keys_and_values() {
    assert_eq!(
        p(r#"put "my key" "some value""#),
        Ok(put("my key", "some value"))
    );
    assert_eq!(p(r#"put "quoted key" v"#), Ok(put("quoted key", "v")));
    assert_eq!(p(r"put my\ key v"), Ok(put("my key", "v")));
    assert_eq!(p(r#"put k "  padded  ""#), Ok(put("k", "  padded  ")));
    assert_eq!(p(r#"put k """#), Ok(put("k", "")));
    assert_eq!(p(r#"put k "a  b"   c"#), Ok(put("k", "a  b   c")));
    assert_eq!(p(r#"put k "line\nbreak""#), Ok(put("k", "line\nbreak")));
    // A quoted `--quorum` is text, not the option.
    assert_eq!(p(r#"put k v "--quorum" 3"#), Ok(put("k", "v --quorum 3")));
    assert_eq!(
        p(r#"get "my key" --quorum all"#),
        Ok(Command::Get {
            key: key("my key"),
            quorum: Quorum::All
        })
    );
    assert_eq!(
        p(r#"put "quoted key v"#),
        Err(ParseError::Unterminated { quote: '"' })
    );
    assert_eq!(
        p(r#"get """#),
        Err(ParseError::Key(crate::keys::KeyError::Empty))
    );
}

#[test]
fn get_with_quorum() {
    assert_eq!(
        p("get k"),
        Ok(Command::Get {
            key: key("k"),
            quorum: Quorum::Default
        })
    );
    assert_eq!(
        p("get k --quorum ALL"),
        Ok(Command::Get {
            key: key("k"),
            quorum: Quorum::All
        })
    );
    assert_eq!(
        p("get k --quorum 0"),
        Err(ParseError::Quorum { text: "0".into() })
    );
    assert_eq!(p("get k --quorum"), Err(ParseError::QuorumMissing));
    assert_eq!(
        p("get k extra"),
        Err(ParseError::Usage {
            usage: "get KEY [--quorum N|all]"
        })
    );
}

#[test]
fn malformed_lines_are_one_line_errors() {
    for (line, cmd) in [
        ("put", "put"),
        ("put k", "put"),
        ("get", "get"),
        ("frobnicate x", "frobnicate"),
        ("dial /ip4/1.2.3.4", "dial"),
        ("dial", "dial"),
        ("peers now", "peers"),
        ("get hex:zz", "get"),
        ("put \"k", "put"),
        ("put \"k\\q\" v", "put"),
        ("\"a\nb\" x", "a\nb"),
        ("get \"hex:\n\"", "get"),
        ("dial \"\x1b[2J\"", "dial"),
    ] {
        let e = parse_line(line).unwrap().unwrap_err();
        assert_eq!(e.cmd, cmd, "{line}");
        let message = e.error.to_string();
        assert!(!message.chars().any(needs_escape), "{line}: {message}");
    }
}

#[test]
fn blank_and_comment_lines_ask_nothing() {
    for line in ["", "   ", "\t", "# a comment", "  # indented"] {
        assert!(parse_line(line).is_none(), "{line:?}");
    }
}

#[test]
fn simple_commands_and_aliases() {
    assert_eq!(p("peers"), Ok(Command::Peers));
    assert_eq!(
        p("  routing "),
        Ok(Command::Routing {
            svg: Default::default()
        })
    );
    assert_eq!(p("exit"), Ok(Command::Quit));
    assert_eq!(p("?"), Ok(Command::Help));
    assert_eq!(p("help put"), Ok(Command::Help));
    assert!(matches!(p("dial 127.0.0.1:4001"), Ok(Command::Dial { .. })));
    assert!(matches!(p("closest mh:x"), Ok(Command::Closest { .. })));
    assert_eq!(Command::Quit.name(), "quit");
    assert_eq!(put("k", "v").name(), "put");
}

#[test]
fn argument_lists_are_never_split_again() {
    assert_eq!(
        Command::from_args(&["put", "my key", "hello world"]),
        Ok(put("my key", "hello world"))
    );
    // Several value arguments are joined by one space.
    assert_eq!(
        Command::from_args(&["put", "k", "from", "ctl"]),
        Ok(put("k", "from ctl"))
    );
    assert_eq!(
        Command::from_args(&["put", "k", "\"quoted\""]),
        Ok(put("k", "\"quoted\""))
    );
    assert_eq!(
        Command::from_args(&["get", "k", "--quorum", "2"]),
        Ok(Command::Get {
            key: key("k"),
            quorum: Quorum::N(NonZeroUsize::new(2).unwrap())
        })
    );
    let e = Command::from_args(&["put k v"]).unwrap_err();
    assert_eq!(
        e.error,
        ParseError::Unknown {
            word: "put k v".into()
        }
    );
    assert_eq!(
        Command::from_args::<&str>(&[]).unwrap_err().error,
        ParseError::Empty
    );
}

#[test]
fn commands_print_as_lines_that_parse_back() {
    for c in [
        put("my key", "  two  spaces "),
        put("k", "--quorum"),
        put("k", ""),
        put("hex:00ff", "say \"hi\"\n"),
        Command::Get {
            key: key("mh:x y"),
            quorum: Quorum::All,
        },
        Command::Get {
            key: key("k"),
            quorum: Quorum::N(NonZeroUsize::new(3).unwrap()),
        },
        Command::Closest { key: key("k") },
        Command::Dial {
            target: "node1:5".parse().unwrap(),
        },
        Command::Stats,
    ] {
        let line = c.to_string();
        assert_eq!(p(&line), Ok(c), "{line}");
    }
    assert_eq!(put("my key", "v").to_string(), r#"put "my key" v"#);
    let get_3 = p("get k --quorum 3").unwrap();
    assert_eq!(get_3.to_string(), "get k --quorum 3");
    let dial = p("dial node1:5").unwrap();
    assert_eq!(dial.to_string(), "dial /dns/node1/tcp/5");
}

#[test]
fn a_quorum_with_no_key_before_it_is_a_usage_error() {
    // `--quorum 2` is the option even as the only arguments: the key and
    // value are missing, they are not `--quorum` and `2`.
    for line in ["put --quorum 2", "get --quorum 2"] {
        assert!(
            matches!(p(line), Err(ParseError::Usage { .. })),
            "{line}: {:?}",
            p(line)
        );
    }
}

#[test]
fn the_key_of_a_command() {
    assert_eq!(put("k", "v").key(), Some(&key("k")));
    assert_eq!(Command::Peers.key(), None);
}

#[test]
fn cli_help_lists_every_command_and_the_quoting_rules() {
    let text = cli_after_help("Examples:");
    for spec in COMMANDS {
        assert!(text.contains(spec.usage), "{}", spec.usage);
    }
    assert!(text.contains(QUOTING[0]));
}
