//! In-process networks with a small Kademlia k (`--replication-factor`):
//! a routing table then cannot hold every other node, records live on k
//! nodes only, and lookups take several rounds, as in a large network.
//!
//! Such a network is settled when every routing table holds, in each of
//! its k-buckets, as many peers as k allows: min(k, the nodes of the
//! network in that k-bucket), computed from the peer IDs.

use std::time::Duration;

use p2pnode::Node;
use p2pnode::config::Kademlia;
use p2pnode::dht::Point;

use crate::SETTLE;
use crate::inproc::{Net, NodeExt, target};
use crate::wait::Wait;

/// How long one node may take to join.
const JOIN_TIMEOUT: Duration = Duration::from_secs(30);
/// The pace of the settle checks (each asks every node, and nudges the
/// nodes not settled yet with a `bootstrap`).
const SETTLE_PACE: Duration = Duration::from_millis(500);

/// How many peers a full routing table of `nodes[me]` holds in the
/// network of `nodes` with buckets of `k`.
pub fn full_routing(me: usize, nodes: &[Node], k: usize) -> usize {
    let mine = Point::of_peer(&nodes[me].peer_id);
    let mut per_bucket = std::collections::HashMap::<u32, usize>::new();
    for (_, n) in nodes.iter().enumerate().filter(|(i, _)| *i != me) {
        if let Some(b) = mine.distance(&Point::of_peer(&n.peer_id)).ilog2() {
            *per_bucket.entry(b).or_default() += 1;
        }
    }
    per_bucket.values().map(|n| (*n).min(k)).sum()
}

/// Starts `n` nodes with Kademlia's `k` and `alpha` (the first creates the
/// network, each other one joins through it and waits until it has
/// joined), then waits until every routing table is full (see the module
/// docs), asking the nodes not there yet to `bootstrap` again.
pub async fn spawn_with_k(n: usize, k: usize, alpha: usize) -> Net {
    let kademlia = Kademlia::new(k, alpha).unwrap_or_else(|e| panic!("{e}"));
    let mut net = Net::new();
    let first = net.spawn(|c| c.kademlia = kademlia).await;
    let via = target(&first);
    net.nodes.push(first);
    for _ in 1..n {
        let via = via.clone();
        let node = net
            .spawn(|c| {
                c.kademlia = kademlia;
                c.bootstrap = vec![via];
            })
            .await;
        joined(&node).await;
        net.nodes.push(node);
    }
    settle(&net, k).await;
    net
}

async fn joined(node: &Node) {
    tokio::time::timeout(JOIN_TIMEOUT, node.client.wait_joined())
        .await
        .expect("the node joins in time")
        .expect("the node is running");
}

/// Waits until every routing table of `net` is full for buckets of `k`.
pub async fn settle(net: &Net, k: usize) {
    Wait::new(SETTLE)
        .pace(SETTLE_PACE)
        .eventually_async(|| async {
            let mut short = Vec::new();
            for (i, node) in net.nodes.iter().enumerate() {
                let (have, want) = (node.routing_size().await, full_routing(i, &net.nodes, k));
                if have < want {
                    short.push(format!("{have}/{want}"));
                    let _ = node.client.bootstrap().await;
                }
            }
            match short.is_empty() {
                true => Ok(()),
                false => Err(format!("routing tables not full yet: {}", short.join(" "))),
            }
        })
        .await;
}
