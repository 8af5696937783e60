//! Day-2 commands on the binary: `--version`, JSON logs and `log-level`,
//! `delete`, `compact`, `config`, `backup` (through the running node and
//! from a stopped one) and a restore from the backup.

use p2pnode_testkit::{Ask, Opts, eventually};

use crate::common::{BIN, WAIT, log_text};

pub fn version() {
    let out = BIN.run(&["--version"]);
    assert!(out.ok(), "{out}");
    let text = out.stdout.trim();
    let expected_end = format!(", store schema {})", p2pnode::store::SCHEMA);
    assert!(
        text.starts_with(&format!("p2pnode {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(text.ends_with(&expected_end), "{text}");
    let commit = text
        .split("commit ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .unwrap_or("");
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{text}"
    );
}

pub fn logs() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = dir.path().join("stderr");
    let opts = Opts::default()
        .args(&["--log-format", "json"])
        .env("RUST_LOG", "info")
        .log_to(&log);
    let mut node = BIN.start(opts);
    assert_eq!(node.cmd("put k v")["ok"], true);
    // A debug line appears only after the level changes.
    assert!(!log_text(&log).contains(r#""level":"DEBUG""#));
    let v = node.cmd("log-level debug");
    assert_eq!(v["ok"], true, "{v}");
    assert!(
        v["log_level"].as_str().is_some_and(|l| l.contains("debug")),
        "{v}"
    );
    eventually(WAIT, || {
        node.cmd("bootstrap");
        let text = log_text(&log);
        if text.contains(r#""level":"DEBUG""#) {
            Ok(())
        } else {
            Err(text)
        }
    });
    let bad = node.cmd("log-level p2pnode=loud");
    assert_eq!(bad["ok"], false, "{bad}");
    let error = bad["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("p2pnode=loud") && !error.contains('\n'),
        "{bad}"
    );
    let config = node.cmd("config");
    assert!(
        config["config"]["log_level"]
            .as_str()
            .is_some_and(|l| l.contains("debug")),
        "{config}"
    );
    node.stop(WAIT);
    // Every line is one JSON object with a level and a target.
    let text = log_text(&log);
    let mut lines = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string() && v["target"].is_string(), "{line}");
        lines += 1;
    }
    assert!(lines > 3, "{text}");
}

pub fn maintenance() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("node");
    let mut node = BIN.start(Opts::default().data_dir(&data));
    let peer = node.peer_id.clone();
    let value = "x".repeat(20_000);
    for i in 0..20 {
        assert_eq!(node.cmd(&format!("put key{i} {value}"))["ok"], true);
    }
    let deleted = node.cmd("delete key0");
    assert_eq!(
        (deleted["ok"].clone(), deleted["deleted"].clone()),
        (true.into(), true.into()),
        "{deleted}"
    );
    assert_eq!(deleted["scope"], "local", "{deleted}");
    assert_eq!(node.cmd("delete key0")["deleted"], false);
    for i in 1..15 {
        assert_eq!(node.cmd(&format!("delete key{i}"))["deleted"], true);
    }
    assert_eq!(node.stat("records"), 5);
    let compact = node.cmd("compact");
    assert_eq!(compact["ok"], true, "{compact}");
    let (before, after) = (
        compact["bytes_before"].as_u64(),
        compact["bytes_after"].as_u64(),
    );
    assert!(after.is_some() && after < before, "{compact}");
    let config = node.cmd("config");
    assert_eq!(
        config["config"]["data_dir"],
        data.display().to_string(),
        "{config}"
    );
    assert_eq!(config["config"]["max_records"], 16384, "{config}");
    assert_eq!(config["config"]["health_grace"], "1m", "{config}");

    // A backup while the node serves, and one of the stopped node.
    let online = dir.path().join("online");
    let b = node.cmd(&format!("backup {}", online.display()));
    assert_eq!(b["ok"], true, "{b}");
    assert_eq!(
        (b["records"].as_u64(), b["identity"].as_bool()),
        (Some(5), Some(true)),
        "{b}"
    );
    let again = node.cmd(&format!("backup {}", online.display()));
    assert!(
        again["error"]
            .as_str()
            .is_some_and(|e| e.contains("not empty")),
        "{again}"
    );
    node.stop(WAIT);
    let offline = dir.path().join("offline");
    let data_arg = data.display().to_string();
    let out = BIN.run(&[
        "backup",
        "--data-dir",
        &data_arg,
        &offline.display().to_string(),
    ]);
    assert!(
        out.ok() && out.stdout.contains("backed up 5 record(s)"),
        "{out}"
    );

    // Restored: the same peer ID, the same records.
    for copy in [online, offline] {
        let mut restored = BIN.start(Opts::default().data_dir(&copy));
        assert_eq!(restored.peer_id, peer);
        assert_eq!(restored.stat("records"), 5);
        restored.stop(WAIT);
    }
}
