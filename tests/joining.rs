//! Joining a network, in-process: nodes on 127.0.0.1 bootstrapped through
//! every form of address a user may give (`P2P_REMOTE_HOST` and
//! `--bootstrap` parse the same text), over TCP and over QUIC alone.

use p2pnode::bootstrap;
use p2pnode_testkit::inproc::tcp_port;
use p2pnode_testkit::{Net, NodeExt, SETTLE, assert_ok};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_nodes_join_through_every_form_of_bootstrap_address() {
    let mut net = Net::new();
    let seed = net.spawn(|_| {}).await;
    let addr = seed.listen_addrs[0].to_string();
    let without_id = addr.rsplit_once("/p2p/").expect("p2p suffix").0.to_string();
    let port = tcp_port(&seed);
    let forms = [
        addr.clone(),
        without_id,
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
    ];
    let mut nodes = vec![seed];
    for form in forms {
        let targets = bootstrap::parse_list(&form).expect("a valid bootstrap address");
        nodes.push(net.spawn(|c| c.bootstrap = targets).await);
        // The next node's bootstrap lookup, through the seed, finds this one.
        nodes[0].wait_routing(nodes.len() - 1, SETTLE).await;
    }
    // Every node learns all four others.
    for n in &nodes {
        n.wait_routing(4, SETTLE).await;
    }
    let put = nodes[2].cmd("put greeting hello big world").await;
    assert_ok(&put);
    assert_eq!(
        put["replicated"], 4,
        "all four others are among the k closest: {put}"
    );
    for (i, n) in nodes.iter().enumerate() {
        let got = n.cmd("get greeting").await;
        assert_ok(&got);
        assert_eq!(got["value"], "hello big world", "node {i}: {got}");
    }
    // A node joining late has no local copy: it finds the record on the network.
    let targets = bootstrap::parse_list(&addr).expect("the seed's address");
    let late = net.spawn(|c| c.bootstrap = targets).await;
    late.wait_routing(5, SETTLE).await;
    let got = late.cmd("get greeting").await;
    assert_ok(&got);
    assert_eq!(got["value"], "hello big world");
    assert_ne!(
        got["from"], "local",
        "the late node must have asked the network: {got}"
    );
    assert!(got["peers_queried"].as_u64().unwrap() >= 1, "{got}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_only_network() {
    let quic = || vec!["/ip4/127.0.0.1/udp/0/quic-v1".parse().expect("a multiaddr")];
    let mut net = Net::new();
    let seed = net.spawn(|c| c.listen = quic()).await;
    let seed_addr = seed.listen_addrs[0].to_string();
    assert!(seed_addr.contains("/quic-v1/"), "{seed_addr}");
    let mut nodes = vec![seed];
    for _ in 0..3 {
        let via = bootstrap::parse_list(&seed_addr).expect("the seed's address");
        nodes.push(
            net.spawn(|c| {
                c.listen = quic();
                c.bootstrap = via;
            })
            .await,
        );
        nodes[0].wait_routing(nodes.len() - 1, SETTLE).await;
    }
    for n in &nodes {
        n.wait_routing(3, SETTLE).await;
    }
    assert_ok(&nodes[1].cmd("put over-quic value").await);
    for n in &nodes {
        assert_eq!(n.cmd("get over-quic").await["value"], "value");
    }
    let peers = nodes[3].cmd("peers").await;
    for p in peers["peers"].as_array().unwrap() {
        for a in p["addrs"].as_array().unwrap() {
            assert!(
                a.as_str().unwrap().contains("quic-v1"),
                "non-QUIC connection: {a}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dial_by_peer_id_finds_the_peer_in_the_dht() {
    let mut net = Net::new();
    let a = net.spawn(|_| {}).await;
    let b = net.join(&a, |_| {}).await;
    b.wait_routing(1, SETTLE).await;
    // D joins the network through A and asks for B by its ID alone.
    let d = net.join(&a, |_| {}).await;
    d.wait_routing(1, SETTLE).await;
    let got = d.cmd(&format!("dial {}", b.peer_id)).await;
    assert_ok(&got);
    assert_eq!(got["peer"], b.peer_id.to_string(), "{got}");
    // An ID nobody has: one line saying so, after asking the network.
    let nobody = libp2p::PeerId::random();
    let got = d.cmd(&format!("dial {nobody}")).await;
    assert_eq!(got["ok"], false, "{got}");
    let e = got["error"].as_str().unwrap_or_default();
    assert!(e.contains("not found in the DHT"), "{got}");
}
