//! `tests/PROMISES.md`, the map from what README.md and p2p_setup.md
//! promise to the tests that check it, kept current: these tests fail,
//! with one line per problem, when a flag or environment variable shown by
//! `p2pnode --help` (or by a subcommand's `--help`) is missing from the
//! map, when a command of the command table is, when a JSON event README
//! documents is, or when a test the map names does not exist. No node
//! runs: only the binary's `--help`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use p2pnode_testkit::run_bounded;

/// The binary whose `--help` is read.
const BIN: &str = env!("CARGO_BIN_EXE_p2pnode");
/// The map, relative to the repository's root.
const MAP: &str = "tests/PROMISES.md";
/// How long `--help` may take.
const HELP_TIMEOUT: Duration = Duration::from_secs(20);
/// Each `--help` whose options must be in the map: the node's and every
/// subcommand's.
const HELPS: &[&[&str]] = &[
    &[],
    &["ctl"],
    &["backup"],
    &["verify"],
    &["swarm-key", "generate"],
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Fails with one line per problem.
fn assert_none(what: &str, problems: impl IntoIterator<Item = String>) {
    let problems: Vec<String> = problems.into_iter().collect();
    assert!(
        problems.is_empty(),
        "{MAP} is stale ({what}):\n{}",
        problems.join("\n")
    );
}

/// `p2pnode ARGS... --help`, with an empty environment (so `[env: X=]`
/// shows no value of the caller's).
fn help(args: &[&str]) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(args).arg("--help").env_clear();
    let out = run_bounded(cmd, HELP_TIMEOUT);
    assert!(out.ok(), "p2pnode {args:?} --help: {out}");
    out.stdout
}

/// The "Options:" section of a help text: its heading up to the first
/// line that is not indented (the examples and commands that follow name
/// REPL options such as `--quorum`, which are not flags).
fn options_section(help: &str) -> String {
    let mut lines = help.lines().skip_while(|l| l.trim_end() != "Options:");
    lines.next();
    lines
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The long flags declared in an options section (`--listen`, ...).
fn flags(options: &str) -> Vec<String> {
    options
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .flat_map(|l| {
            l.split(|c: char| c == ',' || c.is_whitespace() || c == '[' || c == '=')
                .filter(|w| w.starts_with("--") && w.len() > 2)
                .map(|w| {
                    w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                        .to_string()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The environment variables named in a help text (`[env: NAME=]`, which
/// the help's wrapping may split across lines).
fn variables(help: &str) -> Vec<String> {
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.split("[env: ")
        .skip(1)
        .filter_map(|rest| rest.split('=').next())
        .map(str::to_string)
        .collect()
}

/// Whether `text` holds `word` with no character of `part` right before or
/// after it (so `--max-records` is not found in `--max-records-per-peer`).
fn holds_word(text: &str, word: &str, part: impl Fn(char) -> bool) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(&part) && !after.is_some_and(&part)
    })
}

#[test]
fn every_flag_and_variable_of_help_is_in_the_map() {
    let map = read(MAP);
    let mut problems = BTreeSet::new();
    for args in HELPS {
        let text = help(args);
        let shown = format!(
            "p2pnode {}--help",
            args.iter().map(|a| format!("{a} ")).collect::<String>()
        );
        let declared = flags(&options_section(&text));
        assert!(
            declared.iter().any(|f| f == "--help"),
            "no options found in `{shown}`:\n{text}"
        );
        for flag in declared {
            if !holds_word(&map, &flag, |c| c.is_ascii_alphanumeric() || c == '-') {
                problems.insert(format!("flag {flag} (shown by `{shown}`) is not in {MAP}"));
            }
        }
        for var in variables(&text) {
            if !holds_word(&map, &var, |c| c.is_ascii_alphanumeric() || c == '_') {
                problems.insert(format!(
                    "environment variable {var} (shown by `{shown}`) is not in {MAP}"
                ));
            }
        }
    }
    assert_none("flags and variables", problems);
}

#[test]
fn every_command_of_the_table_is_in_the_map() {
    let map = read(MAP);
    let mut problems = Vec::new();
    for spec in p2pnode::command::COMMANDS {
        let row = |rest: char| format!("| `{}{rest}", spec.name);
        if !map
            .lines()
            .any(|l| l.starts_with(&row(' ')) || l.starts_with(&row('`')))
        {
            problems.push(format!(
                "command `{}` has no row (a line starting \"| `{}\") in {MAP}",
                spec.name, spec.name
            ));
        }
        for alias in spec.aliases {
            if !map.contains(&format!("`{alias}`")) {
                problems.push(format!(
                    "alias `{alias}` of command `{}` is not in {MAP}",
                    spec.name
                ));
            }
        }
    }
    assert_none("commands", problems);
}

#[test]
fn every_json_event_readme_documents_is_in_the_map() {
    let readme = read("README.md");
    let map = read(MAP);
    let flat: String = readme.split_whitespace().collect();
    let events: Vec<&str> = flat
        .split(r#"{"event":""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(
        events.contains(&"started"),
        "README documents no JSON events any more? found {events:?}"
    );
    let problems: Vec<String> = events
        .iter()
        .filter(|e| !map.contains(&format!(r#""event":"{e}""#)))
        .map(|e| format!(r#"JSON event "{e}" (README.md) is not in {MAP}"#))
        .collect();
    assert_none("JSON events", problems);
}

/// A test the map names: `path::function` or `path::"harness name"`.
#[derive(Debug)]
struct Named {
    path: String,
    name: String,
    harness: bool,
}

/// Every `` `path.rs::name` `` of the map.
fn named_tests(map: &str) -> Vec<Named> {
    map.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|span| {
            let (path, name) = span.split_once(".rs::")?;
            let roots = ["tests/", "src/", "testkit/", "benches/"];
            if !roots.iter().any(|r| path.starts_with(r)) || path.contains(' ') {
                return None;
            }
            let (name, harness) = match name.strip_prefix('"') {
                Some(quoted) => (quoted.strip_suffix('"').unwrap_or(quoted), true),
                None => (name, false),
            };
            Some(Named {
                path: format!("{path}.rs"),
                name: name.to_string(),
                harness,
            })
        })
        .collect()
}

/// Whether `source` defines a test function `name`: `fn name` with a test
/// attribute (`#[test]`, `#[tokio::test]`, a proptest's `#[test]`) among
/// the attributes and doc comments right above it.
fn defines_test(source: &str, name: &str) -> bool {
    let lines: Vec<&str> = source.lines().collect();
    lines.iter().enumerate().any(|(i, line)| {
        let Some(rest) = line.trim_start().split("fn ").nth(1) else {
            return false;
        };
        let is_it = rest.strip_prefix(name).is_some_and(|after| {
            after.starts_with('(') || after.starts_with('<') || after.starts_with(' ')
        });
        is_it
            && lines[..i]
                .iter()
                .rev()
                .map(|l| l.trim())
                .take_while(|l| l.starts_with("#[") || l.starts_with("///") || l.starts_with(')'))
                .any(|l| l.starts_with("#[test") || l.starts_with("#[tokio::test"))
    })
}

/// Whether Cargo.toml's `[[test]]` or `[[bench]]` entry for `path` says
/// `harness = false` (a custom harness's `main` is otherwise never run).
fn runs_its_own_harness(cargo_toml: &str, path: &str) -> bool {
    cargo_toml
        .split("\n[[")
        .filter(|entry| entry.starts_with("test]]") || entry.starts_with("bench]]"))
        .find(|entry| entry.contains(&format!("path = \"{path}\"")))
        .is_some_and(|entry| {
            entry
                .lines()
                .take_while(|l| !l.starts_with('['))
                .any(|l| l.replace(' ', "") == "harness=false")
        })
}

#[test]
fn every_test_the_map_names_exists() {
    let map = read(MAP);
    let cargo_toml = read("Cargo.toml");
    let named = named_tests(&map);
    assert!(
        named.len() > 100,
        "the map names only {} tests",
        named.len()
    );
    let mut problems = BTreeSet::new();
    for t in &named {
        let path: &Path = t.path.as_ref();
        let Ok(source) = std::fs::read_to_string(root().join(path)) else {
            problems.insert(format!("{}::{}: no file {}", t.path, t.name, t.path));
            continue;
        };
        let found = if t.harness {
            if !runs_its_own_harness(&cargo_toml, &t.path) {
                problems.insert(format!(
                    "{}: no `harness = false` in Cargo.toml, so libtest ignores its main and none of the tests named from it run",
                    t.path
                ));
            }
            source.contains(&format!("\"{}\"", t.name))
        } else {
            defines_test(&source, &t.name)
        };
        if !found {
            let what = if t.harness {
                "no harness test of that name"
            } else {
                "no test function of that name"
            };
            problems.insert(format!("{}::{}: {what} in {}", t.path, t.name, t.path));
        }
    }
    assert_none("tests", problems);
}
