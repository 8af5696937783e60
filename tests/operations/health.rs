//! `health` through `p2pnode ctl health` (the image's health check): a
//! node with a peer to join through and none reachable turns unhealthy
//! after the grace period and says why, and healthy again once it has a
//! peer; a stopped process fails the check.

use p2pnode_testkit::{Ask, Opts, Signal, eventually};

use crate::common::{BIN, WAIT, ctl};

pub fn without_peers() {
    // Port 1 on loopback: nothing listens, the dial is refused.
    let mut node =
        BIN.start(Opts::default().args(&["--bootstrap", "127.0.0.1:1", "--health-grace", "2s"]));
    let dir = node.data_dir.clone();
    let (code, v) = ctl(&dir, "10s", &["health"]);
    // Either still in its grace period (healthy) or past it: never wrong.
    if code == Some(0) {
        assert_eq!(v["checks"]["peers"]["ok"], true, "{v}");
    }
    let v = eventually(WAIT, || match ctl(&dir, "10s", &["health"]) {
        (Some(1), v) => Ok(v),
        other => Err(format!("{other:?}")),
    });
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["healthy"], false, "{v}");
    assert_eq!(v["checks"]["peers"]["ok"], false, "{v}");
    assert_eq!(v["checks"]["store"]["ok"], true, "{v}");
    assert_eq!(v["checks"]["event_loop"]["ok"], true, "{v}");
    let error = v["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("unhealthy: peers: no peers for"), "{v}");

    // A peer comes: healthy again.
    let seed = BIN.start(Opts::default());
    let dial = node.cmd(&format!("dial {}", seed.tcp_addr()));
    assert_eq!(dial["ok"], true, "{dial}");
    eventually(WAIT, || match ctl(&dir, "10s", &["health"]) {
        (Some(0), v) if v["healthy"] == true => Ok(()),
        other => Err(format!("{other:?}")),
    });
}

pub fn stopped() {
    let node = BIN.start(Opts::default());
    let dir = node.data_dir.clone();
    assert_eq!(ctl(&dir, "10s", &["health"]).0, Some(0));
    node.signal(Signal::SIGSTOP);
    let (code, v) = ctl(&dir, "2s", &["health"]);
    node.signal(Signal::SIGCONT);
    assert_eq!(code, Some(2), "a stopped node cannot answer: {v}");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("did not answer")),
        "{v}"
    );
    eventually(WAIT, || match ctl(&dir, "10s", &["health"]) {
        (Some(0), _) => Ok(()),
        other => Err(format!("{other:?}")),
    });
}
