//! The newest value wins; an old copy never comes back (issue 16 §1). A
//! node that was away returns with copies it saved: through replication,
//! through republishing its own restored records, or through a get's read
//! repair, none of them may bring back an older value. Real processes on
//! 127.0.0.1, restarted on their data directories.

use std::time::Duration;

use p2pnode_testkit::{Ask, Binary, NodeProc, Opts, SETTLE, assert_ok, holding_until};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

/// C's lifecycle flags in the scenario.
const C_FLAGS: &[&str] = &[
    "--replication-interval",
    "10s",
    "--republish-interval",
    "5m",
    "--record-ttl",
    "10m",
];

fn start(dir: &std::path::Path, seed: Option<&NodeProc>, args: &[&str]) -> NodeProc {
    let mut opts = Opts::default().data_dir(dir).args(args);
    if let Some(seed) = seed {
        opts = opts.bootstrap(seed.tcp_addr());
    }
    BIN.start(opts)
}

/// Three nodes on data directories under `tmp` (C started with
/// `c_flags`), each with the other two in its routing table.
fn three(tmp: &std::path::Path, c_flags: &[&str]) -> [(NodeProc, std::path::PathBuf); 3] {
    let dir = |n: &str| tmp.join(n);
    let a = start(&dir("a"), None, &[]);
    let b = start(&dir("b"), Some(&a), &[]);
    let c = start(&dir("c"), Some(&a), c_flags);
    let mut all = [(a, dir("a")), (b, dir("b")), (c, dir("c"))];
    for (n, _) in all.iter_mut() {
        n.wait_routing(2, SETTLE);
    }
    all
}

#[test]
fn a_restarted_holder_never_brings_an_old_value_back() {
    let tmp = tempfile::tempdir().unwrap();
    let [(mut a, _), (mut b, _), (mut c, c_dir)] = three(tmp.path(), C_FLAGS);
    let put = a.cmd("put colour red");
    assert_ok(&put);
    assert_eq!(put["replicated"], 2, "{put}");
    c.wait_flushed();
    assert_eq!(c.cmd("quit")["cmd"], "quit");
    c.wait_exit(Duration::from_secs(12)).expect("C stops");
    drop(c);
    let put = b.cmd("put colour blue");
    assert_ok(&put);
    assert_eq!(put["replicated"], 1, "{put}");

    // C comes back with its saved "red". Its replication (every 10 s)
    // pushes that copy; B refuses it as stale. Throughout, B answers
    // "blue" from its own store.
    let mut c = start(&c_dir, Some(&a), C_FLAGS);
    let refused_before = b.stat("records_refused");
    holding_until(
        "C's stale copy refused by B",
        SETTLE,
        Duration::from_millis(250),
        || {
            let v = b.cmd("get colour");
            assert_eq!(v["value"], "blue", "B went back to an old value: {v}");
            assert_eq!(v["from"], "local", "{v}");
            b.stat("records_refused") > refused_before
        },
    );
    // The refusal carried the newer write back: C now holds it too.
    let v = c.wait_for("get colour", SETTLE, |v| v["from"] == "local");
    assert_eq!(v["value"], "blue", "{v}");
}

#[test]
fn a_restarted_node_checks_its_saved_copies_before_answering() {
    let tmp = tempfile::tempdir().unwrap();
    let (a_dir, c_dir) = (tmp.path().join("a"), tmp.path().join("c"));
    let mut a = start(&a_dir, None, &[]);
    let mut c = start(&c_dir, Some(&a), &[]);
    a.wait_routing(1, SETTLE);
    c.wait_routing(1, SETTLE);
    assert_ok(&a.cmd("put colour red"));
    c.wait_for("stats", SETTLE, |v| v["records"] == 1);
    c.wait_flushed();
    assert_eq!(c.cmd("quit")["cmd"], "quit");
    c.wait_exit(Duration::from_secs(12)).expect("C stops");
    drop(c);
    assert_ok(&a.cmd("put colour blue"));
    // C's first answer is not its saved "red": the copy is checked against
    // the network (and repaired) before it is served.
    let mut c = start(&c_dir, Some(&a), &[]);
    let got = c.cmd("get colour");
    assert_eq!(got["value"], "blue", "{got}");
    assert_eq!(got["stale"], 1, "C's own saved copy was older: {got}");
    let again = c.cmd("get colour");
    assert_eq!(again["value"], "blue", "{again}");
    assert_eq!(again["from"], "local", "repaired and confirmed: {again}");
}

#[test]
fn a_restarted_publisher_does_not_republish_over_a_newer_write() {
    let tmp = tempfile::tempdir().unwrap();
    let [(mut a, _), (mut b, _), (mut c, c_dir)] = three(tmp.path(), &[]);
    // C publishes "red", then is away while B writes "blue".
    assert_ok(&c.cmd("put colour red"));
    c.wait_flushed();
    assert_eq!(c.cmd("quit")["cmd"], "quit");
    c.wait_exit(Duration::from_secs(12)).expect("C stops");
    drop(c);
    assert_ok(&b.cmd("put colour blue"));
    // C restarts and, once joined, republishes what it published: its
    // "red" is older than "blue" and is refused everywhere.
    let mut c = start(&c_dir, Some(&a), &[]);
    let refused = a.wait_for("stats", SETTLE, |v| {
        v["records_refused"].as_u64() >= Some(1)
    });
    assert_ok(&refused);
    for n in [&mut a, &mut b] {
        let v = n.cmd("get colour");
        assert_eq!(v["value"], "blue", "{v}");
    }
    // C learnt the newer write from the refusals and serves it.
    let v = c.wait_for("get colour", SETTLE, |v| v["from"] == "local");
    assert_eq!(v["value"], "blue", "{v}");
}
