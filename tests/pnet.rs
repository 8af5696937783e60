//! Private networks: nodes sharing a pre-shared key (`--swarm-key`, the
//! swarm.key format of go-libp2p/IPFS) form a network and exchange
//! records; a node without the key, or with another key, cannot connect
//! and cannot read them. QUIC is refused under a key (TCP only).

mod common;
mod support;

use std::time::Duration;

use common::{NodeProc, Opts};
use support::*;

fn with_key(key: &std::path::Path, bootstrap: Option<&str>) -> NodeProc {
    let mut opts = Opts::default()
        .arg("--swarm-key")
        .arg(key.display().to_string());
    if let Some(b) = bootstrap {
        opts = opts.bootstrap(b);
    }
    NodeProc::start(opts)
}

#[test]
fn only_nodes_with_the_key_connect_and_read_records() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("swarm.key");
    let other_key = tmp.path().join("other.key");
    write_swarm_key(&key, 0x11);
    write_swarm_key(&other_key, 0x22);

    let mut a = with_key(&key, None);
    let seed = a.tcp_addr().to_string();
    let mut b = with_key(&key, Some(&seed));
    b.wait_routing(1, SETTLE);
    a.wait_routing(1, SETTLE);
    assert_ok(&a.cmd("put secret only-for-members"));
    let got = b.cmd("get secret");
    assert_ok(&got);
    assert_eq!(got["value"], "only-for-members");

    let mut stranger = NodeProc::start(Opts::default());
    let mut wrong_key = with_key(&other_key, None);
    // The handshakes fail (or time out) in parallel.
    stranger.send(&format!("dial {seed}"));
    wrong_key.send(&format!("dial {seed}"));
    a.send(&format!("dial {}", stranger.tcp_addr()));
    for n in [&mut stranger, &mut wrong_key, &mut a] {
        let dial = reply(n);
        assert_eq!(dial["ok"], false, "a connection crossed the key: {dial}");
    }
    for outsider in [&mut stranger, &mut wrong_key] {
        assert_eq!(stat(outsider, "connected_peers"), 0);
        let got = outsider.cmd("get secret");
        assert_eq!(got["ok"], false, "{got}");
    }
    // The members are still together.
    let peers = a.cmd("peers");
    assert_eq!(peers["count"], 1, "{peers}");
    assert_eq!(peers["peers"][0]["peer"], *b.peer_id);
}

#[test]
fn a_bootstrap_without_the_key_never_joins_but_keeps_serving() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("swarm.key");
    write_swarm_key(&key, 0x33);
    let mut member = with_key(&key, None);
    // A keyless node pointed at the member keeps retrying and stays alone.
    let mut stranger = NodeProc::start(Opts::default().bootstrap(member.tcp_addr()));
    assert_ok(&stranger.cmd("put mine local-only"));
    let v = stranger.cmd("get mine");
    assert_eq!(v["from"], "local", "{v}");
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while std::time::Instant::now() < deadline {
        assert_eq!(stat(&mut stranger, "connected_peers"), 0);
        assert_eq!(stat(&mut member, "connected_peers"), 0);
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn quic_is_refused_under_a_swarm_key() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("swarm.key");
    write_swarm_key(&key, 0x44);
    let k = key.display().to_string();
    let (code, err) = run_to_exit(
        &[
            "--swarm-key",
            &k,
            "--listen",
            "/ip4/127.0.0.1/udp/0/quic-v1",
        ],
        &tmp.path().join("n"),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("QUIC") && err.contains("--swarm-key"), "{err}");

    // A malformed key file is named.
    std::fs::write(&key, "not a key").unwrap();
    let (code, err) = run_to_exit(
        &["--swarm-key", &k, "--listen", "/ip4/127.0.0.1/tcp/0"],
        &tmp.path().join("n"),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&k), "{err}");
}
