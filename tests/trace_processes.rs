//! `trace` and its flags where processes are needed: the binary's start-up
//! errors for k and alpha, `ctl` writing a picture where its caller is, and
//! a trace through a py-libp2p peer (`../shared/peers/py_kad_peer.py`).

use std::time::Duration;

use p2pnode_testkit::peers::{self, PyPeer};
use p2pnode_testkit::{Ask, Binary, NodeExt, Opts, run_bounded, spawn_nodes};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

/// How long a condition across two implementations may take to hold.
const WAIT: Duration = Duration::from_secs(30);

#[test]
fn bad_k_or_alpha_stops_the_node_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--replication-factor", "0"],
            "error: --replication-factor 0: must be from 1 to 64",
        ),
        (
            &["--replication-factor", "1000"],
            "error: --replication-factor 1000: must be from 1 to 64",
        ),
        (
            &["--alpha", "0"],
            "error: --alpha 0: must be from 1 to the replication factor (20)",
        ),
        (
            &["--replication-factor", "3", "--alpha", "4"],
            "error: --alpha 4: must be from 1 to the replication factor (3)",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["--listen", "/ip4/127.0.0.1/tcp/0"];
        all.extend_from_slice(args);
        let (code, err) = BIN.run_to_exit(&all, &dir.path().join("n"));
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with(want), "{args:?}: {err}");
    }
    // The environment fallback is checked the same way.
    let mut cmd = BIN.command();
    cmd.args(["--data-dir"])
        .arg(dir.path().join("e"))
        .args(["--listen", "/ip4/127.0.0.1/tcp/0"]);
    cmd.env("P2PNODE_REPLICATION_FACTOR", "0");
    let out = run_bounded(cmd, Duration::from_secs(20));
    assert_eq!(out.code(), Some(2), "{out}");
    assert!(
        out.stderr.starts_with("error: --replication-factor 0"),
        "{out}"
    );
}

#[test]
fn k_and_alpha_from_the_command_line_show_in_id_and_stats() {
    let mut n = BIN.start(Opts::default().args(&["--replication-factor", "5", "--alpha", "2"]));
    let id = n.cmd("id");
    assert_eq!(
        (id["k"].as_u64(), id["alpha"].as_u64()),
        (Some(5), Some(2)),
        "{id}"
    );
    let stats = n.cmd("stats");
    assert_eq!(
        (stats["k"].as_u64(), stats["alpha"].as_u64()),
        (Some(5), Some(2)),
        "{stats}"
    );
}

#[test]
fn ctl_writes_the_picture_where_ctl_runs() {
    let n = BIN.start(Opts::default());
    let here = tempfile::tempdir().unwrap();
    let mut cmd = BIN.command();
    cmd.current_dir(here.path())
        .args(["ctl", "--json", "--data-dir"])
        .arg(&n.data_dir)
        .args(["routing", "--svg", "table.svg"]);
    let out = run_bounded(cmd, Duration::from_secs(20));
    assert_eq!(out.code(), Some(0), "{out}");
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("JSON");
    let file = here.path().join("table.svg");
    assert_eq!(v["svg"], file.display().to_string(), "{v}");
    let svg = std::fs::read_to_string(&file).expect("the picture in ctl's directory");
    roxmltree::Document::parse(&svg).expect("an XML document");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_through_a_network_with_a_py_libp2p_peer_lists_it() {
    // Install (or find) the reference peers before any node starts.
    let _ = peers::python();
    let net = spawn_nodes(3).await;
    let seed = net[0].listen_addrs[0].to_string();
    let py = tokio::task::spawn_blocking(move || PyPeer::start(&[&seed], false))
        .await
        .expect("the py peer starts");
    let (tracer, py_id) = (&net[2], py.id.clone());
    // The tracer learns of the py peer through a lookup of its own.
    assert_eq!(tracer.cmd("bootstrap").await["ok"], true);
    let routing = net[0]
        .wait_for("routing", WAIT, |v| v.to_string().contains(py_id.as_str()))
        .await;
    assert_eq!(routing["ok"], true);
    // A key no one holds: the lookup asks every one of the k closest.
    let v = tracer
        .wait_for("trace nobody-has-this", WAIT, |v| {
            v.to_string().contains(py_id.as_str())
        })
        .await;
    assert_eq!(v["ok"], true, "{v}");
    let step = v["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["queried"].as_array().unwrap().iter())
        .find(|s| s["peer"] == py_id.as_str())
        .unwrap_or_else(|| panic!("the py peer is not among the peers asked: {v}"));
    assert!(
        step["error"].is_null(),
        "the py peer did not answer: {step}"
    );
    assert!(step["rtt_ms"].is_number(), "{step}");
    assert!(v["holder"].is_null(), "{v}");
    drop(py);
    net.shutdown().await;
}
