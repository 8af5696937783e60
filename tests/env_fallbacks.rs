//! Every flag's environment fallback (README, Configuration: "Every flag
//! has an environment fallback where it makes sense for containers"), on
//! the binary: each variable `p2pnode --help` shows sets its flag (a value
//! the flag refuses is refused naming the flag), and a node configured by
//! variables alone runs with those settings (read back through `config`,
//! `id` and its start-up events).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use p2pnode_testkit::process::{free_tcp_port, run_bounded_with};
use p2pnode_testkit::{Binary, Finished, Opts, run_bounded, write_swarm_key};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_p2pnode");
/// How long one start (refused, or a short script) may take.
const BOUND: Duration = Duration::from_secs(30);

/// `p2pnode ARGS` with only `vars` in its environment, stdin /dev/null.
fn run(args: &[&str], vars: &[(&str, &str)]) -> Finished {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_clear().envs(vars.iter().copied());
    run_bounded(cmd, BOUND)
}

/// The variables `p2pnode --help` shows (`[env: NAME=]`).
fn variables_of_help() -> Vec<String> {
    let out = run(&["--help"], &[]);
    assert!(out.ok(), "{out}");
    let flat = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.split("[env: ")
        .skip(1)
        .filter_map(|rest| rest.split('=').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_variable_sets_its_flag() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let key = tmp.path().join("swarm.key");
    write_swarm_key(&key, 0x42);
    let key = key.display().to_string();
    // (variable, a value its flag refuses, what the one error must name,
    // extra arguments). Each start would run a node, and end at once (stdin
    // /dev/null, read), if the variable were not read.
    let quic = ["--listen", "/ip4/127.0.0.1/udp/0/quic-v1"];
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "P2P_REMOTE_HOST",
            "/ip4/bogus/tcp/1",
            "/ip4/bogus/tcp/1",
            &[],
        ),
        ("P2PNODE_LISTEN", "not-an-address", "--listen", &[]),
        ("P2PNODE_PORT", "port", "--port", &[]),
        (
            "P2PNODE_ANNOUNCE",
            "/ip4/0.0.0.0/tcp/4001",
            "--announce",
            &[],
        ),
        (
            "P2PNODE_ANNOUNCE_SUBNET",
            "10.0.0.1",
            "--announce-subnet",
            &[],
        ),
        ("P2PNODE_EPHEMERAL", "maybe", "--ephemeral", &[]),
        ("P2PNODE_JSON", "maybe", "--json", &[]),
        ("P2PNODE_NO_REPL", "maybe", "--no-repl", &[]),
        ("P2PNODE_MAX_VALUE_SIZE", "big", "--max-value-size", &[]),
        ("P2PNODE_MAX_RECORDS", "many", "--max-records", &[]),
        ("P2PNODE_MAX_STORE_BYTES", "lots", "--max-store-bytes", &[]),
        (
            "P2PNODE_MAX_RECORDS_PER_PEER",
            "x",
            "--max-records-per-peer",
            &[],
        ),
        (
            "P2PNODE_MAX_BYTES_PER_PEER",
            "x",
            "--max-bytes-per-peer",
            &[],
        ),
        ("P2PNODE_ACCEPT_RECORDS", "some", "--accept-records", &[]),
        ("P2PNODE_ALLOW_WRITERS", "nope", "--allow-writer", &[]),
        ("P2PNODE_MAX_CONNECTIONS", "x", "--max-connections", &[]),
        ("P2PNODE_MAX_INCOMING", "x", "--max-incoming", &[]),
        (
            "P2PNODE_MAX_CONNECTIONS_PER_PEER",
            "x",
            "--max-connections-per-peer",
            &[],
        ),
        (
            "P2PNODE_MAX_PENDING_INCOMING",
            "x",
            "--max-pending-incoming",
            &[],
        ),
        (
            "P2PNODE_MAX_PENDING_PER_IP",
            "0",
            "--max-pending-per-ip",
            &[],
        ),
        (
            "P2PNODE_REPLICATION_FACTOR",
            "0",
            "--replication-factor",
            &[],
        ),
        ("P2PNODE_ALPHA", "0", "--alpha", &[]),
        ("P2PNODE_SWARM_KEY", &key, "--swarm-key", &quic),
        ("P2PNODE_REQUIRE_PRIVATE", "true", "--require-private", &[]),
        ("P2PNODE_METRICS", "nowhere", "--metrics", &[]),
        ("P2PNODE_HEALTH_GRACE", "soon", "--health-grace", &[]),
        ("P2PNODE_LOG_FORMAT", "xml", "--log-format", &[]),
        ("P2PNODE_KAD_PROTOCOL", "mynet", "--kad-protocol", &[]),
        ("P2PNODE_LAN", "maybe", "--lan", &[]),
    ];
    let mut problems = Vec::new();
    for (i, (var, value, needle, extra)) in cases.iter().enumerate() {
        let dir = tmp.path().join(format!("n{i}")).display().to_string();
        let mut args = vec!["--data-dir", &dir, "--no-repl=false"];
        let sets_listen = matches!(*var, "P2PNODE_LISTEN" | "P2PNODE_PORT");
        if !sets_listen && extra.is_empty() {
            args.extend(["--listen", "/ip4/127.0.0.1/tcp/0"]);
        }
        args.extend_from_slice(extra);
        if *var == "P2PNODE_NO_REPL" {
            args.retain(|a| *a != "--no-repl=false");
        }
        let out = run(&args, &[(var, value)]);
        if out.code() != Some(2) || !out.stderr.contains(needle) {
            let said = out
                .stderr
                .lines()
                .find(|l| l.contains("error"))
                .unwrap_or("");
            problems.push(format!(
                "{var}={value}: want exit 2 and an error naming {needle}; got exit {:?}, {said:?}",
                out.code(),
            ));
        }
    }
    // Every variable --help shows is here, or in the start below.
    let started_with = ["P2PNODE_DATA_DIR"];
    for var in variables_of_help() {
        let known = cases.iter().any(|c| c.0 == var) || started_with.contains(&var.as_str());
        if !known {
            problems.push(format!("{var} (in --help) is not tested here"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The node's stdout, one JSON object per line.
fn json_lines(out: &Finished) -> Vec<Value> {
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Starts a node configured by `vars` alone, answering `script` on stdin.
fn run_script(dir: &Path, script: &str, vars: &[(&str, &str)]) -> Finished {
    let file = dir.join("script.txt");
    std::fs::write(&file, script).expect("write the script");
    let stdin = std::fs::File::open(&file).expect("open the script");
    let mut cmd = Command::new(BIN);
    cmd.env_clear().envs(vars.iter().copied());
    run_bounded_with(cmd, stdin, BOUND)
}

#[test]
fn variables_are_the_settings_in_force() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let data = tmp.path().join("node");
    let key = tmp.path().join("swarm.key");
    write_swarm_key(&key, 0x24);
    let closed = free_tcp_port();
    let remote = format!("127.0.0.1:{closed}");
    let (data_s, key_s) = (data.display().to_string(), key.display().to_string());
    let announced = "/ip4/10.9.8.7/tcp/4001";
    let vars = [
        ("P2PNODE_LISTEN", "/ip4/127.0.0.1/tcp/0"),
        ("P2PNODE_DATA_DIR", data_s.as_str()),
        ("P2PNODE_JSON", "true"),
        ("P2PNODE_NO_REPL", "false"),
        ("P2PNODE_EPHEMERAL", "true"),
        ("P2PNODE_MAX_VALUE_SIZE", "1000"),
        ("P2PNODE_MAX_RECORDS", "100"),
        ("P2PNODE_REPLICATION_FACTOR", "5"),
        ("P2PNODE_ALPHA", "2"),
        ("P2PNODE_SWARM_KEY", key_s.as_str()),
        ("P2PNODE_REQUIRE_PRIVATE", "true"),
        ("P2PNODE_METRICS", "127.0.0.1:0"),
        ("P2PNODE_HEALTH_GRACE", "7s"),
        ("P2PNODE_LOG_FORMAT", "json"),
        ("P2PNODE_KAD_PROTOCOL", "/mynet/kad/1.0.0"),
        ("P2PNODE_LAN", "1"),
        ("P2PNODE_ANNOUNCE", announced),
        ("P2PNODE_ANNOUNCE_SUBNET", "10.0.0.0/8"),
        ("P2P_REMOTE_HOST", remote.as_str()),
        ("RUST_LOG", "info"),
    ];
    let out = run_script(tmp.path(), "config\nid\nquit\n", &vars);
    assert!(out.ok(), "the node did not end its script: {out}");
    let lines = json_lines(&out);
    let event = |name: &str| {
        lines
            .iter()
            .find(|v| v["event"] == name)
            .unwrap_or_else(|| panic!("no {name} event: {}", out.stdout))
    };
    let reply = |cmd: &str| {
        lines
            .iter()
            .find(|v| v["cmd"] == cmd)
            .unwrap_or_else(|| panic!("no {cmd} reply: {}", out.stdout))
    };

    // P2PNODE_LISTEN, P2P_REMOTE_HOST, P2PNODE_METRICS: the events.
    let listening = event("listening")["addr"].as_str().expect("addr");
    assert!(
        listening.starts_with("/ip4/127.0.0.1/tcp/") && !listening.contains("/tcp/0/"),
        "{listening}"
    );
    let started = event("started");
    let peer = listening.rsplit('/').next().unwrap_or_default();
    assert_eq!(started["peer_id"], peer, "{started}");
    assert_eq!(started["mode"], "join", "{started}");
    assert_eq!(
        strings(&started["bootstrap"]),
        [format!("/ip4/127.0.0.1/tcp/{closed}")],
        "{started}"
    );
    let metrics = event("metrics")["addr"].as_str().expect("addr");
    assert!(
        metrics.starts_with("127.0.0.1:") && !metrics.ends_with(":0"),
        "{metrics}"
    );

    let config = &reply("config")["config"];
    let want = [
        ("data_dir", Value::from(data_s.as_str())),
        ("ephemeral", true.into()),
        ("json", true.into()),
        ("repl", "on".into()),
        ("max_value_size", 1000.into()),
        ("max_records", 100.into()),
        ("swarm_key", key_s.as_str().into()),
        ("require_private", true.into()),
        ("metrics", "127.0.0.1:0".into()),
        ("health_grace", "7s".into()),
        ("log_format", "json".into()),
        ("listen", vec!["/ip4/127.0.0.1/tcp/0"].into()),
        ("announce", vec![announced].into()),
    ];
    for (field, value) in want {
        assert_eq!(config[field], value, "config.{field}: {config}");
    }

    // k, alpha, the DHT names (LAN first), and the announced address
    // advertised while the loopback one, outside 10.0.0.0/8, is not.
    let id = reply("id");
    assert_eq!((id["k"].as_u64(), id["alpha"].as_u64()), (Some(5), Some(2)));
    assert_eq!(
        strings(&id["dht_protocols"]),
        ["/ipfs/lan/kad/1.0.0", "/mynet/kad/1.0.0"],
        "{id}"
    );
    assert!(
        strings(&id["listen"])
            .iter()
            .any(|a| a.starts_with("/ip4/127.0.0.1/")),
        "{id}"
    );
    let external = strings(&id["external"]);
    assert!(external.iter().any(|a| a.starts_with(announced)), "{id}");
    assert!(!external.iter().any(|a| a.contains("127.0.0.1")), "{id}");

    // P2PNODE_LOG_FORMAT: every log line on stderr is one JSON object.
    let logged: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!logged.is_empty(), "no logs with RUST_LOG=info");
    for line in logged {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string(), "{line}");
    }
    // P2PNODE_EPHEMERAL: nothing written to the data directory's store.
    assert!(!data.join(p2pnode::store::DB_FILE).exists());
}

#[test]
fn an_empty_p2p_remote_host_creates_a_network() {
    // As compose files write it: `P2P_REMOTE_HOST: ""`.
    let mut n = Binary::new(BIN).start(Opts::default().env("P2P_REMOTE_HOST", ""));
    let started = n.wait_event("started", BOUND);
    assert_eq!(started["mode"], "create", "{started}");
    assert_eq!(started["bootstrap"], serde_json::json!([]), "{started}");
}
