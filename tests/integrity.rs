//! Data that cannot rot silently: one byte of a stored value flipped in
//! `records.redb` of a stopped node is found by `p2pnode verify` (which
//! changes nothing), and at the next start the record is quarantined,
//! counted in `stats` and logged, and never served (the binary end to end).

use std::path::Path;

use p2pnode_testkit::binary::SHUTDOWN_BOUND;
use p2pnode_testkit::{Ask, Binary, NodeProc, Opts, assert_error, assert_ok};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

/// Flips one bit in every copy of `needle` in `file`; how many there were.
fn flip_every(file: &Path, needle: &[u8]) -> usize {
    let mut bytes = std::fs::read(file).expect("the database file");
    let at: Vec<usize> = bytes
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect();
    for i in &at {
        bytes[*i] ^= 0x01;
    }
    std::fs::write(file, bytes).expect("write the database file");
    at.len()
}

fn verify(dir: &Path) -> (Option<i32>, String, String) {
    let out = BIN.run(&["verify", "--data-dir", &dir.display().to_string()]);
    (out.code(), out.stdout, out.stderr)
}

fn start(dir: &Path, log: &Path) -> NodeProc {
    BIN.start(Opts::default().data_dir(dir).log_file(log))
}

#[test]
fn a_flipped_byte_in_a_stored_value_is_found_and_never_served() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join("node");
    let log = tmp.path().join("node.log");
    let mut node = start(&dir, &log);
    assert_ok(&node.cmd("put weather sunny"));
    assert_ok(&node.cmd("put @self/motto steady"));
    // A running node's store is locked: verify says so and checks nothing.
    let (code, _, err) = verify(&dir);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("another p2pnode"), "{err}");
    node.stop(SHUTDOWN_BOUND);

    let (code, out, err) = verify(&dir);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("2 records") && out.contains("0 damaged"),
        "{out}"
    );
    let db = dir.join(p2pnode::store::DB_FILE);
    let before = std::fs::read(&db).expect("the database");
    assert!(flip_every(&db, b"sunny") > 0);
    assert!(flip_every(&db, b"steady") > 0);

    let (code, out, _) = verify(&dir);
    assert_eq!(code, Some(1), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.len(),
        3,
        "one line per damaged record and a summary: {out}"
    );
    assert!(lines[0].starts_with("damaged record "), "{out}");
    assert!(out.contains("weather: checksum mismatch"), "{out}");
    assert!(out.contains("2 damaged"), "{out}");
    let flipped = std::fs::read(&db).expect("the database");
    assert_ne!(before, flipped);
    let (_, again, _) = verify(&dir);
    assert_eq!(again, out, "verify changed nothing");
    assert_eq!(std::fs::read(&db).expect("the database"), flipped);

    let mut node = start(&dir, &log);
    let s = node.cmd("stats");
    assert_eq!(s["records_corrupt"], 2, "{s}");
    assert_eq!(s["records"], 0, "{s}");
    assert_error(&node.cmd("get weather"), "not found");
    assert_error(&node.cmd("get @self/motto"), "not found");
    node.stop(SHUTDOWN_BOUND);
    let logs = std::fs::read_to_string(&log).expect("the node's log");
    let logged = logs
        .lines()
        .filter(|l| l.contains("damaged record"))
        .count();
    assert_eq!(logged, 2, "{logs}");

    // Quarantined at that start: the store is clean now, and says so.
    let (code, out, _) = verify(&dir);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("0 damaged; 2 in quarantine"), "{out}");
}
