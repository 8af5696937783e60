//! Ctrl-C without a terminal (README: "A node exits with 0 after `quit`,
//! the end of its input, `ctl quit`, SIGTERM or Ctrl-C"): SIGINT stops a
//! node whose stdin is a pipe gracefully, with exit code 0, and what it
//! held is there after a restart on its data directory.

use p2pnode_testkit::binary::SHUTDOWN_BOUND;
use p2pnode_testkit::{Ask, Binary, Opts, Signal, assert_ok};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

#[test]
fn sigint_stops_the_node_with_exit_code_0_and_its_records_kept() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join("node");
    let mut n = BIN.start(Opts::default().data_dir(&dir));
    let peer = n.peer_id.clone();
    assert_ok(&n.cmd("put before-sigint kept"));
    n.signal(Signal::SIGINT);
    let status = n.wait_exit(SHUTDOWN_BOUND).expect("exit after SIGINT");
    assert_eq!(status.code(), Some(0), "{status:?}");

    let mut n = BIN.start(Opts::default().data_dir(&dir));
    assert_eq!(n.peer_id, peer);
    let got = n.cmd("get before-sigint");
    assert_eq!(got["value"], "kept", "{got}");
    assert_eq!(got["from"], "local", "{got}");
}
