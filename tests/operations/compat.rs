//! The compatibility rule (README, "Upgrading"): a release opens the data
//! directory of the release before it. The fixture
//! `tests/fixtures/release-e949448/` was written by the last release
//! (commit e949448: `put` of the records in its `expected.json`, then
//! `quit`); this test opens a copy with the current code, through the
//! store and through the binary.

use std::path::Path;

use p2pnode::config::Limits;
use p2pnode::keys::UserKey;
use p2pnode::store::Store;
use p2pnode_testkit::Opts;

use crate::common::{BIN, WAIT, copy_dir};

const FIXTURE: &str = "tests/fixtures/release-e949448";

pub fn previous_release() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture.join("expected.json")).expect("expected.json"),
    )
    .expect("expected.json is JSON");
    let records = expected["records"].as_object().expect("records");
    let peer_id = expected["peer_id"].as_str().expect("peer_id");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("node");
    copy_dir(&fixture, &data);
    std::fs::remove_file(data.join("expected.json")).expect("not part of a data directory");

    // The store reads every record of the previous format.
    let peer = peer_id.parse().expect("a peer ID");
    let store = Store::open(&data, peer, &Limits::default()).expect("the old store opens");
    let report = store.load_report();
    // Loaded entries: the records and the one provider list (`provide greeting`).
    let entries = records.len() + 1;
    assert_eq!(
        (report.loaded, report.unknown, report.corrupt),
        (entries, 0, 0),
        "{report:?}"
    );
    for (key, value) in records {
        let k = UserKey::parse(key).expect("a key").record_key(&peer);
        let held = store.get(&k).unwrap_or_else(|| panic!("no record {key}"));
        assert_eq!(
            held.record.value,
            value.as_str().expect("a text value").as_bytes()
        );
    }
    drop(store);

    // The binary starts on it with the same identity and serves them.
    let mut node = BIN.start(Opts::default().data_dir(&data));
    assert_eq!(node.peer_id, peer_id);
    assert_eq!(node.stat("records") as usize, records.len());
    node.stop(WAIT);
}
