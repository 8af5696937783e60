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

/// How many peers a full routing table of the node at `me` holds, with
/// k-buckets of `k`, in a network whose nodes are at `all` (`me` may be
/// among them): in each k-bucket, min(k, the nodes in it).
pub fn full_routing(me: &Point, all: impl IntoIterator<Item = Point>, k: usize) -> usize {
    let mut per_bucket = std::collections::HashMap::<u32, usize>::new();
    for p in all {
        if let Some(b) = me.distance(&p).ilog2() {
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
            let points: Vec<Point> = net
                .nodes
                .iter()
                .map(|n| Point::of_peer(&n.peer_id))
                .collect();
            for (node, me) in net.nodes.iter().zip(&points) {
                let want = full_routing(me, points.iter().copied(), k);
                let have = node.routing_size().await;
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
