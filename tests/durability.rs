//! Persistence of the record store across restarts, graceful shutdown on
//! SIGTERM and Ctrl-D, crash safety (SIGKILL), and clear errors for a
//! locked or corrupt database: the binary end to end, as processes on
//! 127.0.0.1 restarted on their data directories.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use p2pnode::dht::wire::WireRecord;
use p2pnode_testkit::binary::SHUTDOWN_BOUND;
use p2pnode_testkit::rogue::Rogue;
use p2pnode_testkit::{Ask, Binary, NodeProc, Opts, SETTLE, Signal, assert_ok};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

/// A fresh data directory (removed with the guard).
fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join("node");
    (tmp, dir)
}

/// Starts a node on `dir` (a restart when it has run there before),
/// joining through `bootstrap` when given.
fn restart(dir: &Path, bootstrap: Option<&str>) -> NodeProc {
    let opts = Opts::default().data_dir(dir);
    BIN.start(match bootstrap {
        Some(b) => opts.bootstrap(b),
        None => opts,
    })
}

/// A seed A and a node B on `dir` joined to it, each in the other's
/// routing table; the seed's address.
fn pair(dir: &Path) -> (NodeProc, NodeProc, String) {
    let mut a = BIN.start(Opts::default());
    let seed = a.tcp_addr().to_string();
    let mut b = restart(dir, Some(&seed));
    b.wait_routing(1, SETTLE);
    a.wait_routing(1, SETTLE);
    (a, b, seed)
}

/// Puts each `key value` through `node`, each acknowledged.
fn put_all(node: &mut NodeProc, records: impl Iterator<Item = String>) {
    for record in records {
        assert_ok(&node.cmd(&format!("put {record}")));
    }
}

#[test]
fn sigterm_flushes_and_a_restart_keeps_peer_id_records_and_providers() {
    let (_tmp, dir) = data_dir();
    let (mut a, mut b, seed) = pair(&dir);
    put_all(&mut b, (0..5).map(|i| format!("own-{i} value from b {i}")));
    put_all(
        &mut a,
        (0..5).map(|i| format!("theirs-{i} value from a {i}")),
    );
    assert_ok(&b.cmd("provide served-by-b"));
    b.wait_for("stats", SETTLE, |v| v["records"] == 10);
    let peer = b.peer_id.clone();

    let t = Instant::now();
    b.signal(Signal::SIGTERM);
    let status = b.wait_exit(SHUTDOWN_BOUND).expect("exit after SIGTERM");
    let took = t.elapsed();
    eprintln!("SIGTERM to exit: {took:?}");
    assert!(status.success(), "{status:?}");

    let mut b = restart(&dir, Some(&seed));
    assert_eq!(b.peer_id, peer, "same identity after restart");
    let s = b.cmd("stats");
    assert_eq!(s["records"], 10, "{s}");
    assert_eq!(s["provided"], 1, "{s}");
    for i in 0..5 {
        let v = b.cmd(&format!("get theirs-{i}"));
        assert_ok(&v);
        assert_eq!(v["from"], "local", "{v}");
        assert_eq!(v["value"], format!("value from a {i}"));
    }
    // A finds it as a provider (A held the record before the restart, so
    // this is not proof of the re-announcement: the next test is).
    b.wait_routing(1, SETTLE);
    a.wait_for("providers served-by-b", SETTLE, |v| {
        v["providers"]
            .as_array()
            .is_some_and(|p| p.iter().any(|x| *x == *peer))
    });
}

/// Guards the re-announcement of provider records after a restart (issue
/// 12 item 1): B provides while alone, stops, and restarts into a network
/// (A, C) that never held its provider record; only B's re-announcement
/// can put the record in A's and C's stores (the periodic one is 22 h
/// away). `providers` on C would find B by asking B itself, so the proof
/// is the record held in the others' stores (`stats.provider_records`).
#[test]
fn a_restarted_node_announces_its_provider_records_to_peers_that_never_held_them() {
    let (_tmp, dir) = data_dir();
    let mut b = restart(&dir, None);
    assert_ok(&b.cmd("provide served-by-b"));
    let peer = b.peer_id.clone();
    b.signal(Signal::SIGTERM);
    assert!(b.wait_exit(SHUTDOWN_BOUND).expect("exit").success());

    let mut a = BIN.start(Opts::default());
    let seed = a.tcp_addr().to_string();
    let mut c = BIN.start(Opts::default().bootstrap(seed.clone()));
    c.wait_routing(1, SETTLE);
    for n in [&mut a, &mut c] {
        assert_eq!(n.stat("provider_records"), 0, "nobody held it before");
    }
    let b = restart(&dir, Some(&seed));
    assert_eq!(b.peer_id, peer);
    for n in [&mut a, &mut c] {
        n.wait_for("stats", SETTLE, |v| v["provider_records"] == 1);
    }
    let found = c.cmd("providers served-by-b");
    assert_eq!(found["providers"], serde_json::json!([peer]), "{found}");
    drop(b);
}

/// The routing table's peers saved on SIGTERM (issue 12 item 4): B stops
/// within the 30 s of its first periodic save, so the save made on
/// shutdown is the only one, and a restart without bootstrap peers
/// rejoins through it. Without the writer drained on shutdown
/// (`Store::close`, from `EventLoop::shutdown` and the drops) the save is
/// lost only when the process exits before the writer thread commits it:
/// this caught that revert in 1 run of 6; the next test catches it always.
#[test]
fn sigterm_saves_the_routing_table_so_a_restart_rejoins_without_bootstrap_peers() {
    let (_tmp, dir) = data_dir();
    let started = Instant::now();
    let (mut a, mut b, _seed) = pair(&dir);
    assert_eq!(b.stat("unflushed"), 0);
    b.signal(Signal::SIGTERM);
    assert!(b.wait_exit(SHUTDOWN_BOUND).expect("exit").success());
    let ran = started.elapsed();
    let mut b = restart(&dir, None);
    let event = b.wait_event("started", SETTLE);
    if ran < std::time::Duration::from_secs(25) {
        assert_eq!(event["mode"], "rejoin", "saved on shutdown: {event}");
    }
    b.wait_routing(1, SETTLE);
    a.wait_routing(1, SETTLE);
}

/// A publisher pushing its records again with a longer life is
/// acknowledged only once the longer life is on disk, like a new record
/// (README: a copy is acknowledged only once it is on disk). Here a peer
/// (the rogue, as publisher) stores 150 records of 60 KB living 10 s, then
/// extends them to an hour, and the node is killed (SIGKILL: no flush on
/// shutdown) as soon as the last extension is acknowledged; after a restart
/// past the 10 s every record must still be there. Before the fix the
/// extensions waited in memory for the next write and died with the node.
#[test]
fn a_publishers_longer_life_is_on_disk_before_it_is_acknowledged() {
    const RECORDS: usize = 150;
    let (_tmp, dir) = data_dir();
    let mut a = restart(&dir, None);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut rogue = Rogue::new();
    let peer = rt.block_on(rogue.connect(&a.tcp_addr().parse().expect("a multiaddr")));
    let short = std::time::Duration::from_secs(10);
    let publisher = rogue.peer_id().to_bytes();
    let records = |ttl_ms: u64| {
        let publisher = publisher.clone();
        (0..RECORDS).map(move |i| WireRecord {
            key: format!("lease-{i}").into_bytes(),
            value: vec![b'v'; 60_000],
            version: 1,
            publisher: publisher.clone(),
            ttl_ms,
            ..Default::default()
        })
    };
    let first = Instant::now();
    let stored = rt.block_on(rogue.flood(peer, records(short.as_millis() as u64), 8));
    assert_eq!(stored.stored, RECORDS, "{stored:?}");
    let longer = rt.block_on(rogue.flood(peer, records(3_600_000), 8));
    assert_eq!(longer.stored, RECORDS, "{longer:?}");
    a.signal(Signal::SIGKILL);
    a.wait_exit(SHUTDOWN_BOUND).expect("exit after SIGKILL");
    // The first life must be over before the restart (a deadline on the
    // clock, not a wait for readiness).
    std::thread::sleep(short.saturating_sub(first.elapsed()));
    let mut a = restart(&dir, None);
    let s = a.cmd("stats");
    assert_eq!(
        s["records"], RECORDS,
        "acknowledged longer lives were lost: {s}"
    );
}

#[test]
fn ctrl_d_shuts_down_in_bounded_time_with_records_persisted() {
    let (_tmp, dir) = data_dir();
    let mut n = restart(&dir, None);
    put_all(&mut n, (0..3).map(|i| format!("k{i} v{i}")));
    let t = Instant::now();
    let status = n
        .close_stdin_and_wait(SHUTDOWN_BOUND)
        .expect("exit after EOF");
    eprintln!("EOF to exit: {:?}", t.elapsed());
    assert!(status.success(), "{status:?}");
    let mut n = restart(&dir, None);
    assert_eq!(n.stat("records"), 3);
    let v = n.cmd("get k2");
    assert_eq!(v["value"], "v2", "{v}");
}

#[test]
fn sigkill_keeps_acknowledged_puts_and_flushed_records() {
    let (_tmp, dir) = data_dir();
    let (mut a, mut b, seed) = pair(&dir);
    put_all(&mut a, (0..5).map(|i| format!("pushed-{i} {i}")));
    b.wait_for("stats", SETTLE, |v| v["records"] == 5);
    // Records pushed by peers are committed every tick: wait for it.
    b.wait_flushed();
    // A put this node originates is committed before it is acknowledged:
    // kill right after the answer.
    assert_ok(&b.cmd("put mine acknowledged"));
    b.kill();

    let mut b = restart(&dir, Some(&seed));
    assert_eq!(b.stat("records"), 6);
    let v = b.cmd("get mine");
    assert_eq!(v["from"], "local", "{v}");
    assert_eq!(v["value"], "acknowledged");
}

#[test]
fn a_restarted_node_republishes_what_it_published() {
    // B publishes while alone, then stops; it restarts joining A's network,
    // which has never seen the record: B's restart must push it there (the
    // periodic republication is 22 h away).
    let (_tmp, dir) = data_dir();
    let mut b = restart(&dir, None);
    assert_ok(&b.cmd("put traveller from-before-the-restart"));
    b.signal(Signal::SIGTERM);
    b.wait_exit(SHUTDOWN_BOUND).expect("exit");

    let mut a = BIN.start(Opts::default());
    let seed = a.tcp_addr().to_string();
    let mut c = BIN.start(Opts::default().bootstrap(seed.clone()));
    c.wait_routing(1, SETTLE);
    let started = Instant::now();
    let _b = restart(&dir, Some(&seed));
    for n in [&mut a, &mut c] {
        n.wait_for("get traveller", SETTLE, |v| v["from"] == "local");
    }
    eprintln!(
        "restored record on the network {:?} after restart",
        started.elapsed()
    );
}

#[test]
fn a_second_node_on_the_same_data_directory_is_refused() {
    let (_tmp, dir) = data_dir();
    let _n = restart(&dir, None);
    let (code, err) = BIN.run_to_exit(&["--listen", "/ip4/127.0.0.1/tcp/0"], &dir);
    assert_eq!(code, Some(1), "{err}");
    let line = err.lines().find(|l| l.starts_with("error:")).expect(&err);
    assert!(line.contains("another node is already running"), "{err}");
    assert!(line.contains(&dir.display().to_string()), "{err}");
}

#[test]
fn a_corrupt_database_stops_the_start_with_the_file_named() {
    let (_tmp, dir) = data_dir();
    {
        let mut n = restart(&dir, None);
        assert_ok(&n.cmd("put k v"));
        n.close_stdin_and_wait(SHUTDOWN_BOUND).expect("exit");
    }
    let db = dir.join("records.redb");
    let mut bytes = std::fs::read(&db).unwrap();
    for b in bytes.iter_mut().take(4096) {
        *b ^= 0xa5;
    }
    std::fs::write(&db, &bytes).unwrap();
    let (code, err) = BIN.run_to_exit(&["--listen", "/ip4/127.0.0.1/tcp/0"], &dir);
    assert_eq!(code, Some(1), "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains(&db.display().to_string()), "{err}");
    // The damaged file is left for the user to inspect, not replaced.
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
}

#[test]
fn ephemeral_nodes_keep_nothing() {
    let (_tmp, dir) = data_dir();
    let mut n = BIN.start(Opts::default().data_dir(&dir).arg("--ephemeral"));
    let first = n.peer_id.clone();
    assert_ok(&n.cmd("put k v"));
    n.close_stdin_and_wait(SHUTDOWN_BOUND).expect("exit");
    let mut n = BIN.start(Opts::default().data_dir(&dir).arg("--ephemeral"));
    assert_ne!(n.peer_id, first);
    assert_eq!(n.stat("records"), 0);
    assert!(!dir.join("records.redb").exists());
}

#[test]
fn what_a_node_acknowledged_survives_its_sigkill() {
    // Twelve nodes; forty records put in quick succession through four of
    // them; four others killed right after the last answer. Each put's
    // answer names the peers that acknowledged it (on their disk by then).
    let mut nodes = BIN.network(12);
    for n in nodes.iter_mut() {
        n.wait_routing(11, SETTLE);
    }
    for (i, putter) in nodes[..4].iter_mut().enumerate() {
        for j in 0..10 {
            putter.send(&format!("put flood-{i}-{j} value-{i}-{j}"));
        }
    }
    let mut acknowledged: HashMap<String, Vec<String>> = HashMap::new();
    for putter in nodes[..4].iter_mut() {
        for _ in 0..10 {
            let put = putter.reply();
            assert_ok(&put);
            let key = put["key"].as_str().expect("key").to_string();
            for peer in put["replicated_to"].as_array().expect("replicated_to") {
                let peer = peer.as_str().expect("a peer id").to_string();
                acknowledged.entry(peer).or_default().push(key.clone());
            }
        }
    }
    for victim in &mut nodes[8..] {
        victim.kill();
    }
    // Everyone else goes too: the restarted victim must answer from its disk.
    let victim_id = nodes[8].peer_id.clone();
    let dir = nodes[8].data_dir.clone();
    for n in &mut nodes[..8] {
        n.kill();
    }
    let held = acknowledged.remove(&victim_id).unwrap_or_default();
    assert!(!held.is_empty(), "the victim acknowledged nothing");
    let mut n = restart(&dir, None);
    for key in &held {
        let v = n.cmd(&format!("get {key}"));
        assert_eq!(
            v["from"], "local",
            "{key} was acknowledged but is lost: {v}"
        );
    }
    eprintln!(
        "DURABILITY {} acknowledged records all served after SIGKILL",
        held.len()
    );
}
