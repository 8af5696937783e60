//! Idle is not loss (issue 16 §3): connections closed by an idle timeout,
//! this node's own or its peer's, are not a lost network: no warning, no
//! redial, no connection until something needs a peer; and the routing
//! table still knows where its peers are when something does.

use std::time::Duration;

use p2pnode_testkit::{Ask, Binary, NodeProc, Opts, SETTLE, holding_until, read_log};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

/// How long the nodes stay idle after their connections closed: several
/// idle timeouts of 2 s.
const IDLE_SPAN: Duration = Duration::from_secs(10);

fn idle_pair(a_args: &[&str], b_args: &[&str], log: &std::path::Path) -> (NodeProc, NodeProc) {
    let mut a = BIN.start(Opts::default().args(a_args).env("RUST_LOG", "info"));
    let mut b = BIN.start(
        Opts::default()
            .args(b_args)
            .bootstrap(a.tcp_addr())
            .env("RUST_LOG", "info")
            .log_to(log),
    );
    b.wait_routing(1, SETTLE);
    a.wait_routing(1, SETTLE);
    (a, b)
}

/// Stays idle for [`IDLE_SPAN`] once the connection closed, checking that
/// it stays closed; then checks B logged no loss and reaches A again.
fn stays_idle(a: &mut NodeProc, b: &mut NodeProc, log: &std::path::Path) {
    b.wait_for("stats", SETTLE, |v| v["connections"] == 0);
    let quiet_from = std::time::Instant::now();
    holding_until(
        "an idle span",
        IDLE_SPAN * 2,
        Duration::from_millis(250),
        || {
            assert_eq!(b.stat("connections"), 0, "B dialled again while idle");
            quiet_from.elapsed() >= IDLE_SPAN
        },
    );
    let logged = read_log(log);
    for needle in ["WARN", "dialling the bootstrap", "lost every peer"] {
        assert!(!logged.contains(needle), "B logged {needle:?}:\n{logged}");
    }
    // When something needs a peer, the routing table still knows A.
    assert_eq!(b.stat("routing_table"), 1);
    let put = b.cmd("put after-idle v");
    assert_eq!(put["replicated"], 1, "{put}");
    assert_eq!(a.cmd("get after-idle")["from"], "local");
}

#[test]
fn its_own_idle_timeout_is_not_a_lost_network() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("b.log");
    let (mut a, mut b) = idle_pair(&[], &["--idle-timeout", "2s"], &log);
    stays_idle(&mut a, &mut b, &log);
}

#[test]
fn its_peers_idle_timeout_is_not_a_lost_network() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("b.log");
    let (mut a, mut b) = idle_pair(&["--idle-timeout", "2s"], &[], &log);
    stays_idle(&mut a, &mut b, &log);
}
