//! In-process tests: several nodes in one test process, each a real swarm
//! on 127.0.0.1 with its own port, driven through the library's `Client`
//! and the REPL over byte buffers (no terminal needed).

use p2pnode::bootstrap::Target;
use p2pnode::network::Quorum;
use p2pnode::output::Format;
use p2pnode::{keys, repl};
use p2pnode_testkit::{Net, NodeExt, SETTLE, assert_error, assert_ok, spawn_nodes};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_in_process_nodes_put_and_get() {
    let net = spawn_nodes(5).await;
    let nodes = &net.nodes;
    let key = keys::parse("answer").unwrap();
    let put = nodes[3]
        .client
        .put(key.clone(), b"42".to_vec(), Quorum::Default)
        .await
        .unwrap();
    assert_eq!(put.replicated, 4);
    for n in nodes {
        let got = n.client.get(key.clone(), Quorum::Default).await.unwrap();
        assert_eq!(got.values[0].value, b"42");
    }
    // `get --quorum all` waits for every copy and sees no conflict.
    let all = nodes[0].client.get(key.clone(), Quorum::All).await.unwrap();
    assert_eq!(all.values.len(), 1);
    assert!(all.copies >= 2, "{all:?}");
    // Providers.
    let pkey = keys::parse("mh:some-content").unwrap();
    nodes[1].client.provide(pkey.clone()).await.unwrap();
    let found = nodes[4].client.providers(pkey).await.unwrap();
    assert_eq!(found.providers, vec![nodes[1].peer_id]);
    // Closest peers are sorted by XOR distance.
    let close = nodes[2].client.closest(key).await.unwrap();
    assert_eq!(close.len(), 4);
    assert!(close.windows(2).all(|w| w[0].distance <= w[1].distance));
    for n in nodes {
        n.client.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repl_runs_a_script_over_byte_buffers() {
    let net = spawn_nodes(2).await;
    let (a, b) = (&net[0], &net[1]);
    let script = b"# a comment\nput colour blue sky\n\nget colour\nbogus\nget missing\npeers\nquit\nget never-reached\n";
    let mut out = Vec::new();
    repl::run(&a.client, &script[..], &mut out, Format::Json)
        .await
        .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let cmds: Vec<&str> = lines.iter().map(|l| l["cmd"].as_str().unwrap()).collect();
    assert_eq!(cmds, ["put", "get", "bogus", "get", "peers", "quit"]);
    assert_eq!(lines[0]["replicated"], 1);
    assert_eq!(lines[1]["value"], "blue sky");
    assert_eq!(lines[2]["ok"], false);
    assert_eq!(lines[3]["error"], "not found");
    assert_eq!(lines[4]["count"], 1);
    // The other node reads it through its own REPL, in human mode.
    let mut out = Vec::new();
    repl::run(&b.client, &b"get colour\n"[..], &mut out, Format::Human)
        .await
        .unwrap();
    assert!(String::from_utf8(out).unwrap().starts_with("blue sky\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dial_at_runtime_joins_two_networks() {
    let mut net = Net::new();
    let a = net.spawn(|_| {}).await;
    let b = net.spawn(|_| {}).await;
    let key = keys::parse("island").unwrap();
    a.client
        .put(key.clone(), b"a".to_vec(), Quorum::Default)
        .await
        .unwrap();
    let before = b.client.get(key.clone(), Quorum::Default).await.unwrap();
    assert!(before.values.is_empty(), "b cannot see a yet");
    let target: Target = a.listen_addrs[0].to_string().parse().unwrap();
    assert_eq!(b.client.dial(target).await.unwrap(), a.peer_id);
    b.wait_routing(1, SETTLE).await;
    let after = b.client.get(key, Quorum::Default).await.unwrap();
    assert_eq!(after.values[0].value, b"a");
    assert_eq!(after.values[0].from, Some(a.peer_id));
    assert!(b.client.bootstrap().await.unwrap() >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_node_creates_and_reports_it() {
    let mut net = Net::new();
    let solo = net.spawn(|_| {}).await;
    // A one-node network: put stores locally and says nobody else took it.
    let put = solo.cmd("put k v").await;
    assert_ok(&put);
    assert_eq!(put["replicated"], 0);
    assert_eq!(solo.cmd("get k").await["value"], "v");
    let peers = solo.cmd("peers").await;
    assert_eq!(peers["count"], 0);
    // An explicit quorum that cannot be met is reported as a failure, honestly.
    let q = solo.cmd("put k2 v --quorum 1").await;
    assert_error(&q, "stored locally");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_one_line_errors_and_the_node_keeps_working() {
    let mut net = Net::new();
    let n = net.spawn(|c| c.limits.max_value_bytes = 100).await;
    for (line, needle) in [
        ("frobnicate", "unknown command"),
        ("put", "usage"),
        ("put onlykey", "missing VALUE"),
        ("get", "usage"),
        ("get hex:", "empty"),
        ("dial /ip4/300.1.1.1/tcp/1", "invalid address"),
        ("dial /ip4/127.0.0.1", "no transport"),
        ("get k --quorum zero", "bad quorum"),
    ] {
        let v = n.cmd(line).await;
        assert_error(&v, needle);
        assert!(!v["error"].as_str().unwrap().contains('\n'), "{line}: {v}");
    }
    let big = "x".repeat(101);
    let v = n.cmd(&format!("put big {big}")).await;
    assert_error(&v, "limit is 100");
    let exact = "y".repeat(100);
    assert_ok(&n.cmd(&format!("put exact {exact}")).await);
    // Nothing was lost: the node still answers and holds what it was given.
    assert_eq!(n.cmd("get exact").await["value"], exact.as_str());
    assert_eq!(n.cmd("get big").await["ok"], false);
    // An unreachable peer is an error for `dial`, not a crash.
    let v = n.cmd("dial 127.0.0.1:1").await;
    assert_eq!(v["ok"], false, "{v}");
    assert_ok(&n.cmd("id").await);
}
