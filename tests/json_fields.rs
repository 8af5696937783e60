//! The JSON contract (README, "JSON output"): every field README's table
//! lists for a command is in that command's reply. The fields are read
//! from README.md itself, so a field README promises and a reply lacks, or
//! a row for a command that does not exist, fails here. Two in-process
//! nodes on 127.0.0.1 answer every command of the table but the operator's
//! (`health`, `delete`, `compact`, `backup`, `config`, `log-level`: see
//! tests/operations) and `quit`.

use std::collections::{BTreeMap, BTreeSet};

use p2pnode_testkit::{Net, NodeExt, SETTLE, assert_ok};
use serde_json::Value;

/// Fields only some replies carry, and why this test does not ask for
/// them (each is covered elsewhere: see tests/PROMISES.md).
const CONDITIONAL: &[(&str, &str)] = &[
    ("get", "value_hex"), // a value that is not UTF-8: only other implementations put one
    ("get", "values"),    // a conflict: only versionless copies of other implementations
    ("get", "values_hex"), // a conflict with a value that is not UTF-8
    ("get", "oversized"), // a copy over this node's limit: only another implementation's
    ("trace", "value_hex"), // a value that is not UTF-8
];

/// README's JSON table: each command's top-level fields (the backticked
/// lower-case words of its row; nested shapes like `[{peer, reason}]` and
/// values like `"local"` are not fields).
fn readme_fields() -> BTreeMap<String, BTreeSet<String>> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let table = readme
        .split("| cmd | fields |")
        .nth(1)
        .expect("README's JSON table (| cmd | fields |)");
    table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|row| {
            let mut cells = row.splitn(3, '|').skip(1);
            let cmd = cells
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('`')
                .to_string();
            let fields = cells
                .next()
                .unwrap_or("")
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                .map(str::to_string)
                .collect();
            (cmd, fields)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_json_field_readme_lists_is_in_the_reply() {
    let promised = readme_fields();
    assert!(promised.len() >= 13, "README's table: {promised:?}");
    let mut net = Net::new();
    let a = net.spawn(|_| {}).await;
    let b = net.join(&a, |_| {}).await;
    // A node of its own, for `dial` to connect to.
    let c = net.spawn(|_| {}).await;
    a.wait_routing(1, SETTLE).await;
    b.wait_routing(1, SETTLE).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let svg = |name: &str| dir.path().join(name).display().to_string();

    assert_ok(&a.cmd("put plain v").await);
    assert_ok(&a.cmd("put @self/mine v").await);
    assert_ok(&a.cmd("provide mh:film").await);
    let lines = [
        "put other v".to_string(),
        "get plain".to_string(),
        format!("get @{}/mine", a.peer_id),
        "provide mh:book".to_string(),
        "providers mh:film".to_string(),
        "peers".to_string(),
        "id".to_string(),
        format!("routing --svg {}", svg("routing.svg")),
        format!("trace plain --svg {}", svg("trace.svg")),
        format!("trace --peer {}", a.peer_id),
        "trace --providers mh:film".to_string(),
        "closest plain".to_string(),
        format!("dial {}", c.listen_addrs[0]),
        "bootstrap".to_string(),
        "stats".to_string(),
        "help".to_string(),
    ];
    // Every field any reply of a command carried.
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in &lines {
        let v = b.cmd(line).await;
        assert_ok(&v);
        let cmd = v["cmd"].as_str().expect("a cmd").to_string();
        let Value::Object(fields) = v else {
            panic!("{line}: not an object")
        };
        seen.entry(cmd).or_default().extend(fields.keys().cloned());
    }
    let mut problems = Vec::new();
    for (cmd, fields) in &promised {
        let Some(got) = seen.get(cmd) else {
            problems.push(format!(
                "README lists `{cmd}`, which this test does not run or which does not exist"
            ));
            continue;
        };
        for f in fields {
            if !got.contains(f) && !CONDITIONAL.contains(&(cmd.as_str(), f.as_str())) {
                problems.push(format!(
                    "`{cmd}` replies carry no `{f}` (README: JSON output)"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    net.shutdown().await;
}
