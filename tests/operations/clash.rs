//! A node's own peer ID answering from elsewhere: two nodes sharing one
//! identity (a restored copy beside its original) are warned about by the
//! one that dials.

use p2pnode_testkit::{Opts, eventually};

use crate::common::{BIN, WAIT, log_text};

pub fn same_identity() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (log_a, log_b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    let a_dir = dir.path().join("a");
    let a = BIN.start(
        Opts::default()
            .data_dir(&a_dir)
            .env("RUST_LOG", "info")
            .log_to(&log_a),
    );
    let b_dir = dir.path().join("b");
    std::fs::create_dir_all(&b_dir).expect("b's data directory");
    let key = p2pnode::identity::KEY_FILE;
    std::fs::copy(a_dir.join(key), b_dir.join(key)).expect("copy the identity");
    let without_id = a
        .tcp_addr()
        .rsplit_once("/p2p/")
        .expect("/p2p/")
        .0
        .to_string();
    let b = BIN.start(
        Opts::default()
            .data_dir(&b_dir)
            .bootstrap(without_id)
            .env("RUST_LOG", "info")
            .log_to(&log_b),
    );
    assert_eq!(a.peer_id, b.peer_id);
    // The copy that dials is told for sure; the node it dialled sees a
    // connection dropped by the dialer (only when its own handshake
    // finished first does it learn the peer ID, and warn too).
    eventually(WAIT, || {
        let text = log_text(&log_b);
        if text.contains("answers with this node's own peer ID") {
            Ok(())
        } else {
            Err(text)
        }
    });
    let _ = &log_a;
    assert!(!log_text(&log_b).contains("in its own bootstrap list"));
}
