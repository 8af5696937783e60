//! `p2pnode ctl` keeps its arguments' boundaries: each argument is one
//! token on the node, so a key or value with spaces arrives whole, and the
//! REPL reads the same key back when it is quoted.

use std::process::Output;

use p2pnode_testkit::{Ask, Binary, NodeProc, Opts};
use serde_json::Value;

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

/// Runs `p2pnode ctl --json ARGS...` against `node` and returns its answer.
fn ctl_json(node: &NodeProc, args: &[&str]) -> (Output, Value) {
    let out = BIN
        .command()
        .args(["ctl", "--json", "--data-dir"])
        .arg(&node.data_dir)
        .args(args)
        .output()
        .expect("run p2pnode ctl");
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("ctl {args:?}: {e}: {out:?}"));
    (out, v)
}

#[test]
fn ctl_arguments_with_spaces_stay_whole() {
    let mut n = BIN.start(Opts::default());
    let (out, put) = ctl_json(&n, &["put", "my key", "hello world"]);
    assert!(out.status.success(), "{put}");
    assert_eq!(put["key"], "my key", "{put}");

    let (_, got) = ctl_json(&n, &["get", "my key"]);
    assert_eq!(got["ok"], true, "{got}");
    assert_eq!(got["value"], "hello world", "{got}");
    // The REPL reads the same key when it is quoted, and no key `my` exists.
    assert_eq!(n.cmd(r#"get "my key""#)["value"], "hello world");
    assert_eq!(n.cmd("get my")["error"], "not found");

    // Several value arguments are one value, joined by one space; a quote
    // inside an argument is text.
    let (_, put) = ctl_json(&n, &["put", "k2", "say", "\"hi\""]);
    assert_eq!(put["ok"], true, "{put}");
    assert_eq!(n.cmd("get k2")["value"], "say \"hi\"");
}

/// Runs `p2pnode ctl --json ARGS...` on `dir`: exit code and stdout lines.
fn ctl_json_raw(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, Vec<Value>) {
    let out = BIN
        .command()
        .args(["ctl", "--json", "--data-dir"])
        .arg(dir)
        .args(args)
        .output()
        .expect("run p2pnode ctl");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    (out.status.code(), lines)
}

/// Guards `ctl --json`'s exit codes and output (issue 12 item 11; README:
/// "its exit code is 0 when `ok`, 1 when the command failed, 2 when no
/// node answered"): a failed command exits 1 with the node's one object;
/// with no node running, one object `{"cmd","ok":false,"error"}` and 2.
#[test]
fn ctl_json_exit_codes_say_ok_failed_and_no_node() {
    let n = BIN.start(Opts::default());
    let (code, lines) = ctl_json_raw(&n.data_dir, &["get", "missing"]);
    assert_eq!(code, Some(1), "{lines:?}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["cmd"], "get", "{lines:?}");
    assert_eq!(lines[0]["ok"], false, "{lines:?}");
    assert_eq!(lines[0]["error"], "not found", "{lines:?}");
    let (code, lines) = ctl_json_raw(&n.data_dir, &["put", "k", "v"]);
    assert_eq!(code, Some(0), "{lines:?}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["ok"], true, "{lines:?}");

    let empty = tempfile::tempdir().expect("a temporary directory");
    let (code, lines) = ctl_json_raw(empty.path(), &["id"]);
    assert_eq!(code, Some(2), "{lines:?}");
    assert_eq!(lines.len(), 1, "one object: {lines:?}");
    let v = &lines[0];
    let mut keys: Vec<&str> = v
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["cmd", "error", "ok"], "{v}");
    assert_eq!(v["ok"], false, "{v}");
    let error = v["error"].as_str().expect("error text");
    assert!(!error.is_empty() && !error.contains('\n'), "{v}");
}
