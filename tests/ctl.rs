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
