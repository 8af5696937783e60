//! The Kademlia bootstrap that fills the routing table (Kademlia paper
//! §2.3, libp2p kad-dht spec "Bootstrap process"): a lookup of this node's
//! own ID, then one of a random ID in each k-bucket farther than its
//! closest neighbour. Started when the node joins, periodically, when a
//! routing table smaller than k gains a peer, and by the `bootstrap`
//! command.

use std::time::Instant;

use tokio::sync::oneshot;
use tracing::{debug, info};

use super::EventLoop;
use super::query::{Kind, QueryId};
use crate::dht::Point;
use crate::dht::wire::{Message, MessageType};
use crate::error::Error;

/// The lowest k-bucket refreshed: random targets for lower ones take too
/// long to find (bucket i holds 2^(i-256) of the ID space), and a network
/// would need thousands of nodes to reach them.
const LOWEST_REFRESHED_BUCKET: u32 = 242;

/// A bootstrap (join or periodic refresh) in flight.
pub(super) struct BootstrapQuery {
    pub replies: Vec<oneshot::Sender<Result<usize, Error>>>,
    /// Random targets still to look up, one per k-bucket.
    pub refresh: Option<Vec<Vec<u8>>>,
}

impl EventLoop {
    /// Starts a bootstrap, or adds `reply` to the one running.
    pub(super) fn start_bootstrap(&mut self, reply: Option<oneshot::Sender<Result<usize, Error>>>) {
        if let Some(id) = self.join.bootstrap
            && let Some(b) = self.bootstrap_query_mut(id)
        {
            b.replies.extend(reply);
            return;
        }
        let me = self.swarm.local_peer_id().to_bytes();
        let message = Message::request(MessageType::FindNode, me.clone());
        let id = self.new_query(
            &me,
            message,
            Kind::Bootstrap(BootstrapQuery {
                replies: reply.into_iter().collect(),
                refresh: None,
            }),
        );
        self.join.bootstrap = Some(id);
        self.advance(id);
    }

    fn bootstrap_query_mut(&mut self, id: QueryId) -> Option<&mut BootstrapQuery> {
        match self.queries_kind_mut(id)? {
            Kind::Bootstrap(b) => Some(b),
            _ => None,
        }
    }

    /// One lookup of a bootstrap is over: start the next, or finish.
    pub(super) fn bootstrap_step(&mut self, id: QueryId) {
        let local = *self.routing.local();
        let lowest = self.routing.buckets().map(|(i, _)| i).next();
        let Some(b) = self.bootstrap_query_mut(id) else {
            return;
        };
        let refresh = b.refresh.get_or_insert_with(|| {
            let from = lowest.map_or(256, |i| (i + 1).max(LOWEST_REFRESHED_BUCKET));
            (from..256)
                .filter_map(|i| random_id_in_bucket(&local, i))
                .collect()
        });
        match refresh.pop() {
            Some(target) => {
                let point = Point::of_bytes(&target);
                let lookup = self.new_lookup(point, Instant::now());
                self.replace_lookup(id, lookup, Message::request(MessageType::FindNode, target));
                self.advance(id);
            }
            None => self.finish(id),
        }
    }

    /// A bootstrap is over.
    pub(super) fn bootstrap_done(&mut self, b: BootstrapQuery) {
        self.join.bootstrap = None;
        let size = self.routing.len();
        for reply in b.replies {
            let _ = reply.send(Ok(size));
        }
        debug!(routing_table = size, "bootstrap finished");
        if size > 0 {
            if !self.join.joined {
                info!(routing_table = size, "joined the network");
            } else if self.join.isolated {
                info!(routing_table = size, "rejoined the network");
            }
            self.join.joined = true;
            self.join.isolated = false;
        }
        self.settle_join();
    }

    /// The `bootstrap` command: dial the bootstrap peers again and refresh.
    pub(super) fn bootstrap_command(&mut self, reply: oneshot::Sender<Result<usize, Error>>) {
        self.join.retries.reset(&mut self.swarm);
        self.start_bootstrap(Some(reply));
    }
}

/// A random 32-byte lookup target whose point lies in bucket `i` of
/// `local`: found by trying, about 2^(256-i) tries on average (a few
/// milliseconds for the buckets refreshed); `None` if unlucky.
fn random_id_in_bucket(local: &Point, i: u32) -> Option<Vec<u8>> {
    let tries = 16usize << (256 - i).min(16);
    (0..tries).find_map(|_| {
        let key: [u8; 32] = rand::random();
        (local.distance(&Point::of_bytes(&key)).ilog2() == Some(i)).then(|| key.to_vec())
    })
}
