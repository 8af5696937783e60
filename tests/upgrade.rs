//! Going back a release (README, "Upgrading and compatibility"): "a store
//! schema newer than the binary's is refused with a one-line error". A
//! node's store is written, its schema number raised past this binary's,
//! and the binary refuses to start on it, naming the file, and leaves the
//! schema number as it found it.

use p2pnode::store::{DB_FILE, SCHEMA};
use p2pnode_testkit::binary::SHUTDOWN_BOUND;
use p2pnode_testkit::{Ask, Binary, Opts, assert_ok};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

/// Where the store keeps its schema number (src/store/disk.rs).
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const SCHEMA_KEY: &str = "schema";

#[test]
fn a_store_of_a_newer_schema_is_refused_in_one_line() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join("node");
    let mut n = BIN.start(Opts::default().data_dir(&dir));
    assert_ok(&n.cmd("put k v"));
    n.stop(SHUTDOWN_BOUND);

    let db_path = dir.join(DB_FILE);
    {
        let db = redb::Database::open(&db_path).expect("the store opens");
        let txn = db.begin_write().expect("a write transaction");
        {
            let mut meta = txn.open_table(META).expect("the meta table");
            let held = meta.get(SCHEMA_KEY).expect("read").map(|v| v.value());
            assert_eq!(held, Some(SCHEMA), "the layout this test assumes");
            meta.insert(SCHEMA_KEY, SCHEMA + 1).expect("write");
        }
        txn.commit().expect("commit");
    }

    let (code, err) = BIN.run_to_exit(&["--listen", "/ip4/127.0.0.1/tcp/0"], &dir);
    assert_eq!(code, Some(1), "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("newer p2pnode"), "{err}");
    assert!(errors[0].contains(&db_path.display().to_string()), "{err}");
    // The store still says what wrote it: nothing was converted back.
    let db = redb::Database::open(&db_path).expect("the store opens");
    let txn = db.begin_read().expect("a read transaction");
    let meta = txn.open_table(META).expect("the meta table");
    let held = meta.get(SCHEMA_KEY).expect("read").map(|v| v.value());
    assert_eq!(held, Some(SCHEMA + 1));
}
