//! Churn and faults with real processes on 127.0.0.1: a 30-node network
//! holding 100 records loses 30% of its nodes to SIGKILL and every record
//! stays retrievable from every survivor; the killed nodes restart from
//! their data directories with their peer IDs and records and become
//! useful again; a node that loses all its peers keeps serving its own
//! data and rejoins when a peer comes back.
//!
//! The run prints its figures (`CHURN ...` lines); see them with
//! `cargo nextest run --test churn --no-capture`. `P2PNODE_TEST_SEED`
//! replays a run's choice of victims.

use std::time::{Duration, Instant};

use p2pnode_testkit::{Ask, Binary, NodeProc, Opts, Rng, SETTLE, assert_ok};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

const NODES: usize = 30;
const RECORDS: usize = 100;
const KILLED: usize = NODES * 3 / 10;
/// Rounds of `get` for records a survivor could not find at first.
const RETRIES: usize = 2;

fn start(dir: &std::path::Path, bootstrap: &[String]) -> NodeProc {
    let mut opts = Opts::default().data_dir(dir);
    for b in bootstrap {
        opts = opts.bootstrap(b.clone());
    }
    BIN.start(opts)
}

/// Sends every line to its node, then collects the answers in order, so
/// all nodes work at once.
fn ask_all(
    nodes: &mut [(usize, &mut NodeProc)],
    lines: &[Vec<String>],
) -> Vec<Vec<serde_json::Value>> {
    for ((_, n), ls) in nodes.iter_mut().zip(lines) {
        for l in ls {
            n.send(l);
        }
    }
    nodes
        .iter_mut()
        .zip(lines)
        .map(|((_, n), ls)| ls.iter().map(|_| n.reply()).collect())
        .collect()
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

#[test]
fn thirty_nodes_lose_thirty_percent_and_every_record_survives() {
    let mut rng = Rng::from_env("churn");
    let tmp = tempfile::tempdir().unwrap();
    let dir = |i: usize| tmp.path().join(format!("node{i}"));

    // Build the network: each node joins through the first one and one
    // other earlier node, so the first is not the only way in.
    let t = Instant::now();
    let mut nodes: Vec<Option<NodeProc>> = vec![Some(start(&dir(0), &[]))];
    let mut addrs = vec![nodes[0].as_ref().unwrap().tcp_addr().to_string()];
    for i in 1..NODES {
        let mut via = vec![addrs[0].clone()];
        if i > 1 {
            via.push(addrs[1 + rng.below(i - 1)].clone());
        }
        let n = start(&dir(i), &via);
        addrs.push(n.tcp_addr().to_string());
        nodes.push(Some(n));
    }
    for n in nodes.iter_mut().flatten() {
        n.wait_routing(10, SETTLE);
    }
    eprintln!("CHURN network of {NODES} up in {} ms", ms(t.elapsed()));

    // 100 records, put from every node in turn.
    let t = Instant::now();
    let mut lines = vec![Vec::new(); NODES];
    for r in 0..RECORDS {
        lines[r % NODES].push(format!("put churn-{r} value-{r}"));
    }
    {
        let mut all: Vec<(usize, &mut NodeProc)> = nodes
            .iter_mut()
            .enumerate()
            .map(|(i, n)| (i, n.as_mut().unwrap()))
            .collect();
        for answers in ask_all(&mut all, &lines) {
            for put in answers {
                assert_ok(&put);
                assert!(put["replicated"].as_u64().unwrap() >= 10, "{put}");
            }
        }
    }
    eprintln!("CHURN {RECORDS} records put in {} ms", ms(t.elapsed()));

    // What each node holds, on disk, before the crash.
    let mut held = vec![0u64; NODES];
    for (i, n) in nodes.iter_mut().enumerate() {
        let n = n.as_mut().unwrap();
        n.wait_flushed();
        held[i] = n.stat("records");
    }

    // SIGKILL 30%.
    let victims = rng.choose(NODES, KILLED);
    let mut peer_ids = vec![String::new(); NODES];
    for &v in &victims {
        let mut n = nodes[v].take().unwrap();
        peer_ids[v] = n.peer_id.clone();
        n.kill();
        // `n` is dropped here; its data directory stays (it is ours).
    }
    eprintln!("CHURN killed nodes {victims:?}");

    // Every record from every survivor.
    let t = Instant::now();
    let survivors: Vec<usize> = (0..NODES).filter(|i| nodes[*i].is_some()).collect();
    let mut missing: Vec<Vec<usize>> = (0..NODES)
        .map(|i| {
            if survivors.contains(&i) {
                (0..RECORDS).collect()
            } else {
                Vec::new()
            }
        })
        .collect();
    let mut first_found = 0usize;
    let mut over_network = 0usize;
    for round in 0..=RETRIES {
        let mut live: Vec<(usize, &mut NodeProc)> = nodes
            .iter_mut()
            .enumerate()
            .filter_map(|(i, n)| n.as_mut().map(|n| (i, n)))
            .collect();
        let lines: Vec<Vec<String>> = live
            .iter()
            .map(|(i, _)| {
                missing[*i]
                    .iter()
                    .map(|r| format!("get churn-{r}"))
                    .collect()
            })
            .collect();
        let answers = ask_all(&mut live, &lines);
        for ((i, _), answers) in live.iter().zip(answers) {
            let asked = std::mem::take(&mut missing[*i]);
            for (r, got) in asked.into_iter().zip(answers) {
                if got["ok"] == true && got["value"] == format!("value-{r}") {
                    if got["from"] != "local" {
                        over_network += 1;
                    }
                    if round == 0 {
                        first_found += 1;
                    }
                } else {
                    eprintln!("CHURN round {round}: node {i} did not get churn-{r}: {got}");
                    missing[*i].push(r);
                }
            }
        }
    }
    let asked = survivors.len() * RECORDS;
    let lost: usize = missing.iter().map(Vec::len).sum();
    let found = asked - lost;
    eprintln!(
        "CHURN after killing {KILLED}/{NODES}: {found}/{asked} lookups succeeded ({:.1}%), \
         {first_found}/{asked} ({:.1}%) at the first attempt, {over_network} of them \
         answered by another node, in {} ms",
        100.0 * found as f64 / asked as f64,
        100.0 * first_found as f64 / asked as f64,
        ms(t.elapsed())
    );
    assert_eq!(lost, 0, "records not retrievable: {missing:?}");

    // Records put while the victims are down: a restarted node has none of
    // them, so finding one proves it is part of the network again.
    let writer = nodes[survivors[0]].as_mut().unwrap();
    for j in 0..KILLED {
        assert_ok(&writer.cmd(&format!("put while-down-{j} fresh-{j}")));
    }

    // Restart the victims from their data directories.
    let mut to_listen = Vec::new();
    let mut to_useful = Vec::new();
    for (j, &v) in victims.iter().enumerate() {
        let via = addrs[survivors[rng.below(survivors.len())]].clone();
        let t = Instant::now();
        let mut n = start(&dir(v), &[via]);
        let listening = t.elapsed();
        assert_eq!(n.peer_id, peer_ids[v], "node {v} kept its identity");
        // At least what it held when last asked: peers may have pushed more
        // (replication, lookup caching) between that question and the kill.
        let records = n.stat("records");
        assert!(
            records >= held[v],
            "node {v} kept its records: {records} after restart, {} before",
            held[v]
        );
        let key = format!("while-down-{j}");
        let got = n.wait_for(&format!("get {key}"), SETTLE, |g| g["ok"] == true);
        let useful = t.elapsed();
        assert_eq!(got["value"], format!("fresh-{j}"));
        assert_ne!(got["from"], "local");
        to_listen.push(listening);
        to_useful.push(useful);
        nodes[v] = Some(n);
    }
    to_listen.sort();
    to_useful.sort();
    eprintln!(
        "CHURN restart of {KILLED} nodes: listening after {} ms (median) / {} ms (max); \
         answering a get for a record put while they were down after {} ms (median) / {} ms (max)",
        ms(to_listen[KILLED / 2]),
        ms(to_listen[KILLED - 1]),
        ms(to_useful[KILLED / 2]),
        ms(to_useful[KILLED - 1]),
    );
    // The restarted nodes serve the old records again too.
    for &v in &victims {
        let n = nodes[v].as_mut().unwrap();
        let r = rng.below(RECORDS);
        let got = n.cmd(&format!("get churn-{r}"));
        assert_eq!(got["value"], format!("value-{r}"), "{got}");
    }
}

#[test]
fn a_node_that_loses_every_peer_keeps_serving_and_rejoins() {
    let tmp = tempfile::tempdir().unwrap();
    let a_dir = tmp.path().join("a");
    let mut a = start(&a_dir, &[]);
    let a_addr = a.tcp_addr().to_string();
    let a_port = a.tcp_port();
    let a_id = a.peer_id.clone();
    let mut b = start(&tmp.path().join("b"), std::slice::from_ref(&a_addr));
    b.wait_routing(1, SETTLE);
    a.wait_routing(1, SETTLE);
    assert_ok(&a.cmd("put from-a alpha"));
    assert_ok(&b.cmd("put from-b beta"));
    a.wait_flushed();

    a.kill();
    drop(a);
    let lost = Instant::now();
    b.wait_for("stats", SETTLE, |v| v["connected_peers"] == 0);
    // Alone, B still answers from its own store and takes new records.
    for (key, value) in [("from-a", "alpha"), ("from-b", "beta")] {
        let got = b.cmd(&format!("get {key}"));
        assert_eq!(got["value"], value, "{got}");
        assert_eq!(got["from"], "local");
    }
    let put = b.cmd("put while-alone gamma");
    assert_ok(&put);
    assert_eq!(put["replicated"], 0);

    // A comes back on the same address; B's retries find it.
    let back = Instant::now();
    let mut a = BIN.start(
        Opts::default()
            .data_dir(&a_dir)
            .listen(format!("/ip4/127.0.0.1/tcp/{a_port}")),
    );
    assert_eq!(a.peer_id, a_id);
    b.wait_for("stats", SETTLE, |v| v["connected_peers"] == 1);
    eprintln!(
        "CHURN isolated node rejoined {} ms after its peer came back ({} ms after losing it)",
        ms(back.elapsed()),
        ms(lost.elapsed())
    );
    let got = a.wait_for("get while-alone", SETTLE, |v| v["ok"] == true);
    assert_eq!(got["value"], "gamma");
    assert_eq!(got["from"], *b.peer_id);
}
