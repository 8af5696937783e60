//! The event loop's side of `health`: how long the node has been without
//! any peer (tracked every tick), and the [`Facts`] it reports; the verdict
//! is [`crate::health::assess`]'s.

use std::time::Instant;

use super::EventLoop;
use crate::health::Facts;

impl EventLoop {
    /// Every tick: notes when the node last had a peer.
    pub(super) fn health_tick(&mut self, now: Instant) {
        let has_peers = !self.routing.is_empty() || self.swarm.connected_peers().next().is_some();
        match (has_peers, self.alone_since) {
            (true, _) => self.alone_since = None,
            (false, None) => self.alone_since = Some(now),
            (false, Some(_)) => {}
        }
    }

    /// What a health check needs to know, as of now.
    pub(super) fn health_facts(&mut self) -> Facts {
        let now = Instant::now();
        self.health_tick(now);
        Facts {
            connected_peers: self.swarm.connected_peers().count(),
            routing_table: self.routing.len(),
            join_targets: self.join.targets(),
            alone_for: self.alone_since.map(|t| now.saturating_duration_since(t)),
            store_failing: self.store.failing().map(str::to_string),
            unflushed: self.store.unflushed(),
        }
    }
}
