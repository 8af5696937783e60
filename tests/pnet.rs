//! Private networks: nodes sharing a pre-shared key (`--swarm-key`, the
//! swarm.key format of go-libp2p/IPFS) form a network and exchange
//! records; a node without the key, or with another key, cannot connect
//! and cannot read them (in-process). QUIC is refused under a key, and a
//! malformed key file is named (the binary's start-up, end to end).

use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;

use p2pnode::Config;
use p2pnode_testkit::{Binary, Net, NodeExt, SETTLE, assert_ok, throughout, write_swarm_key};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

/// A configuration step: use the swarm key at `key`.
fn with_key(key: &Path) -> impl FnOnce(&mut Config) {
    let key = key.to_path_buf();
    move |c| c.swarm_key = Some(key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_nodes_with_the_key_connect_and_read_records() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("swarm.key");
    let other_key = tmp.path().join("other.key");
    write_swarm_key(&key, 0x11);
    write_swarm_key(&other_key, 0x22);

    let mut net = Net::new();
    let a = net.spawn(with_key(&key)).await;
    let seed = a.listen_addrs[0].to_string();
    let b = net.join(&a, with_key(&key)).await;
    b.wait_routing(1, SETTLE).await;
    a.wait_routing(1, SETTLE).await;
    assert_ok(&a.cmd("put secret only-for-members").await);
    let got = b.cmd("get secret").await;
    assert_ok(&got);
    assert_eq!(got["value"], "only-for-members");

    let stranger = net.spawn(|_| {}).await;
    let wrong_key = net.spawn(with_key(&other_key)).await;
    // The handshakes fail (or time out) in parallel.
    let to_seed = format!("dial {seed}");
    let to_stranger = format!("dial {}", stranger.listen_addrs[0]);
    let dials = tokio::join!(
        stranger.cmd(&to_seed),
        wrong_key.cmd(&to_seed),
        a.cmd(&to_stranger)
    );
    for dial in [dials.0, dials.1, dials.2] {
        assert_eq!(dial["ok"], false, "a connection crossed the key: {dial}");
    }
    for outsider in [&stranger, &wrong_key] {
        assert_eq!(outsider.stat("connected_peers").await, 0);
        let got = outsider.cmd("get secret").await;
        assert_eq!(got["ok"], false, "{got}");
    }
    // The members are still together.
    let peers = a.cmd("peers").await;
    assert_eq!(peers["count"], 1, "{peers}");
    assert_eq!(peers["peers"][0]["peer"], b.peer_id.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bootstrap_without_the_key_never_joins_but_keeps_serving() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("swarm.key");
    write_swarm_key(&key, 0x33);
    let mut net = Net::new();
    let member = net.spawn(with_key(&key)).await;
    // A keyless node pointed at the member keeps retrying and stays alone.
    let stranger = net.join(&member, |_| {}).await;
    assert_ok(&stranger.cmd("put mine local-only").await);
    let v = stranger.cmd("get mine").await;
    assert_eq!(v["from"], "local", "{v}");
    let until = Instant::now() + Duration::from_secs(3);
    throughout(until, Duration::from_millis(250), || async {
        assert_eq!(stranger.stat("connected_peers").await, 0);
        assert_eq!(member.stat("connected_peers").await, 0);
    })
    .await;
}

#[test]
fn quic_is_refused_under_a_swarm_key() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("swarm.key");
    write_swarm_key(&key, 0x44);
    let k = key.display().to_string();
    let (code, err) = BIN.run_to_exit(
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
    let (code, err) = BIN.run_to_exit(
        &["--swarm-key", &k, "--listen", "/ip4/127.0.0.1/tcp/0"],
        &tmp.path().join("n"),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&k), "{err}");
}
