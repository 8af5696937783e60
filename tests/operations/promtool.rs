//! The metrics as Prometheus's own linter sees them, and the example alert
//! rules and Grafana dashboard of `deploy/`: `promtool check metrics` on a
//! real scrape, `promtool check rules` and `promtool test rules` on the
//! alerts, the dashboard's queries checked as rules, and every metric the
//! alerts and the dashboard name present in a real node's scrape.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use p2pnode_testkit::harness::Prerequisite;
use p2pnode_testkit::process::run_bounded_with;
use p2pnode_testkit::{Ask, Opts, run_bounded};

use crate::common::{BIN, WAIT, sample, scrape};

/// promtool (Debian's `prometheus` package).
pub const PROMTOOL: Prerequisite = Prerequisite {
    what: "promtool (apt-get install prometheus)",
    required_by: "P2PNODE_REQUIRE_OPS",
    check: || {
        let out = run_bounded(promtool(&["--version"]), Duration::from_secs(20));
        if out.ok() {
            Ok(())
        } else {
            Err(out.to_string())
        }
    },
};

fn promtool(args: &[&str]) -> Command {
    let mut cmd = Command::new("promtool");
    cmd.args(args);
    cmd
}

fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(path)
}

/// The expressions of the dashboard's panels.
fn dashboard_queries() -> Vec<String> {
    let text = std::fs::read_to_string(deploy("grafana/p2pnode.json")).expect("the dashboard");
    let dash: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let panels = dash["panels"].as_array().expect("panels");
    let queries: Vec<String> = panels
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(str::to_string))
        .collect();
    assert!(queries.len() >= panels.len(), "every panel has a query");
    queries
}

/// The metric names (`p2pnode_`, `process_`) a text mentions, without a
/// histogram's `_bucket`/`_sum`/`_count`.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes: Vec<char> = text.chars().collect();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut i = 0;
    while i < bytes.len() {
        if word(bytes[i]) && (i == 0 || !word(bytes[i - 1])) {
            let end = (i..bytes.len())
                .find(|&j| !word(bytes[j]))
                .unwrap_or(bytes.len());
            let w: String = bytes[i..end].iter().collect();
            if w.starts_with("p2pnode_") || w.starts_with("process_") {
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| w.strip_suffix(s))
                    .unwrap_or(&w);
                names.insert(base.to_string());
            }
            i = end;
        } else {
            i += 1;
        }
    }
    names
}

pub fn metrics() {
    let mut a = BIN.start(Opts::default().args(&["--metrics", "127.0.0.1:0"]));
    let addr = a.wait_event("metrics", WAIT)["addr"]
        .as_str()
        .expect("addr")
        .to_string();
    let mut b = BIN.start(Opts::default().bootstrap(a.tcp_addr()));
    b.wait_routing(1, WAIT);
    a.wait_routing(1, WAIT);
    // Give the families samples: commands, queries, a refusal.
    assert_eq!(a.cmd("put lint-key lint-value")["ok"], true);
    assert_eq!(a.cmd("get lint-key")["ok"], true);
    a.cmd("get no-such-key");
    let body = p2pnode_testkit::eventually(WAIT, || {
        let body = scrape(&addr);
        match sample(&body, "p2pnode_routing_table_peers") {
            Some(n) if n >= 1.0 => Ok(body),
            _ => Err(body),
        }
    });
    let out = run_bounded_with(
        promtool(&["check", "metrics"]),
        Stdio::from(tempfile_with(&body)),
        Duration::from_secs(30),
    );
    assert!(
        out.ok() && out.stdout.trim().is_empty() && out.stderr.trim().is_empty(),
        "promtool: {out}\n{body}"
    );
    for present in [
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_cpu_seconds_total",
        r#"p2pnode_commands_total{command="put",outcome="ok"}"#,
        r#"p2pnode_commands_total{command="get",outcome="not_found"}"#,
        r#"p2pnode_command_duration_seconds_bucket{le="0.0001",command="put"}"#,
        "p2pnode_store_size_bytes",
        "p2pnode_store_writes_failing",
        "p2pnode_records_limit",
    ] {
        assert!(body.contains(present), "no {present} in\n{body}");
    }
    let build = format!(
        r#"p2pnode_build_info{{version="{}",commit=""#,
        env!("CARGO_PKG_VERSION")
    );
    assert!(body.contains(&build), "{body}");

    // Every metric the alerts and the dashboard use is served.
    let mut wanted =
        metric_names(&std::fs::read_to_string(deploy("prometheus/alerts.yml")).expect("alerts"));
    wanted.extend(dashboard_queries().iter().flat_map(|q| metric_names(q)));
    let served = metric_names(&body);
    let missing: Vec<&String> = wanted.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "alerts or dashboard use metrics no node serves: {missing:?}"
    );
    b.stop(WAIT);
    a.stop(WAIT);
}

/// A file holding `text`, opened for reading (a process's stdin).
fn tempfile_with(text: &str) -> std::fs::File {
    use std::io::{Seek, Write};
    let mut f = tempfile::tempfile().expect("a temporary file");
    f.write_all(text.as_bytes()).expect("write");
    f.rewind().expect("rewind");
    f
}

pub fn rules() {
    let alerts = deploy("prometheus/alerts.yml");
    let out = run_bounded(
        promtool(&["check", "rules", &alerts.display().to_string()]),
        WAIT,
    );
    assert!(out.ok(), "{out}");
    let mut test = promtool(&["test", "rules", "alerts.test.yml"]);
    test.current_dir(deploy("prometheus"));
    let out = run_bounded(test, WAIT);
    assert!(out.ok(), "{out}");
    // The dashboard's queries, checked as recording rules.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, q) in dashboard_queries().iter().enumerate() {
        let quoted = serde_json::to_string(q).expect("a JSON string is a YAML string");
        rules.push_str(&format!(
            "      - record: dashboard:query{i}\n        expr: {quoted}\n"
        ));
    }
    let file = dir.path().join("dashboard.yml");
    std::fs::write(&file, rules).expect("write the rules");
    let out = run_bounded(
        promtool(&["check", "rules", &file.display().to_string()]),
        WAIT,
    );
    assert!(out.ok(), "dashboard queries: {out}");
}
