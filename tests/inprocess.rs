//! In-process tests: several nodes in one test process, each a real swarm
//! on 127.0.0.1 with its own port, driven through the library's `Client`
//! and the REPL over byte buffers (no terminal needed).

use std::time::Duration;

use p2pnode::bootstrap::Target;
use p2pnode::network::{Node, Quorum};
use p2pnode::output::Format;
use p2pnode::{Config, keys, repl};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

const SETTLE: Duration = Duration::from_secs(30);

fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

async fn spawn(dir: &tempfile::TempDir, i: usize, bootstrap: Option<&Node>) -> Node {
    let mut config = Config::local(dir.path().join(format!("n{i}")));
    if let Some(seed) = bootstrap {
        let addr = seed.listen_addrs[0].to_string();
        config.bootstrap = vec![addr.parse::<Target>().expect("listen address parses")];
    }
    Node::spawn(config)
        .instrument(tracing::info_span!("node", i))
        .await
        .expect("node starts")
}

/// Waits until `node` has at least `n` peers in its routing table.
async fn settle(node: &Node, n: usize) {
    tokio::time::timeout(SETTLE, async {
        loop {
            let size: usize = node
                .client
                .routing()
                .await
                .unwrap()
                .iter()
                .map(|b| b.entries.len())
                .sum();
            if size >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("routing tables settle in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_in_process_nodes_put_and_get() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let seed = spawn(&dir, 0, None).await;
    let mut nodes = vec![];
    for i in 1..5 {
        nodes.push(spawn(&dir, i, Some(&seed)).await);
    }
    nodes.insert(0, seed);
    for n in &nodes {
        settle(n, 4).await;
    }
    let key = keys::parse("answer").unwrap();
    let put = nodes[3]
        .client
        .put(key.clone(), b"42".to_vec(), Quorum::Default)
        .await
        .unwrap();
    assert_eq!(put.replicated, 4);
    for n in &nodes {
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
    for n in &nodes {
        n.client.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repl_runs_a_script_over_byte_buffers() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let a = spawn(&dir, 0, None).await;
    let b = spawn(&dir, 1, Some(&a)).await;
    settle(&b, 1).await;
    settle(&a, 1).await;
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
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let a = spawn(&dir, 0, None).await;
    let b = spawn(&dir, 1, None).await;
    let key = keys::parse("island").unwrap();
    a.client
        .put(key.clone(), b"a".to_vec(), Quorum::Default)
        .await
        .unwrap();
    let before = b.client.get(key.clone(), Quorum::Default).await.unwrap();
    assert!(before.values.is_empty(), "b cannot see a yet");
    let target: Target = a.listen_addrs[0].to_string().parse().unwrap();
    assert_eq!(b.client.dial(target).await.unwrap(), a.peer_id);
    settle(&b, 1).await;
    let after = b.client.get(key, Quorum::Default).await.unwrap();
    assert_eq!(after.values[0].value, b"a");
    assert_eq!(after.values[0].from, Some(a.peer_id));
    assert!(b.client.bootstrap().await.unwrap() >= 1);
}
