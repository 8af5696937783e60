//! Which peers enter the routing table: identify tells which protocols a
//! peer serves, and a peer is routed through only when it serves one of
//! this node's DHT protocol names (see [`crate::dht::protocols`]). A peer
//! serving none leaves the table (a saved peer from a run under another
//! name, say); one that runs a DHT under another name gets one warning
//! line per connection, since that is a network split by configuration
//! (`--kad-protocol`, `--lan`), not a passing fault.

use libp2p::core::upgrade::NegotiationError;
use libp2p::request_response::OutboundFailure;
use libp2p::{Multiaddr, PeerId, StreamProtocol, identify};
use tracing::{debug, warn};

use super::EventLoop;
use crate::address::strip_p2p;
use crate::dht::protocols::is_kad_name;

impl EventLoop {
    /// Identify answered, or failed, for a peer.
    pub(super) fn on_identify(&mut self, event: identify::Event) {
        match event {
            identify::Event::Received { peer_id, info, .. } => self.identified(peer_id, info),
            identify::Event::Error { peer_id, error, .. } => {
                // No protocol list: a bootstrap peer is tried anyway, and
                // its first answer (or failure) tells.
                debug!(peer = %peer_id, error = %crate::network::cause::error_chain(&error), "identify failed");
                self.join_identified(peer_id, None);
            }
            _ => {}
        }
    }

    fn identified(&mut self, peer: PeerId, info: identify::Info) {
        self.peers.set_agent(peer, info.agent_version.clone());
        let Some(name) = self.kad_protocols.shared(&info.protocols).cloned() else {
            self.serves_none(peer, &info.protocols);
            return;
        };
        debug!(%peer, protocol = %name, "peer serves the DHT");
        self.peers.set_kad(peer);
        let loopback_ok = self.peers.reached_over_loopback(&peer);
        let addrs: Vec<Multiaddr> = info
            .listen_addrs
            .into_iter()
            .filter(|a| self.reach.keeps(a, loopback_ok))
            .map(strip_p2p)
            .collect();
        self.route(peer, &addrs, true);
        self.join_identified(peer, Some(true));
    }

    /// The peer serves none of our DHT protocol names: not routed through.
    fn serves_none(&mut self, peer: PeerId, theirs: &[StreamProtocol]) {
        if self.routing.remove(&peer) {
            debug!(%peer, "removed from the routing table: it serves none of this node's DHT protocols");
            self.routing_lost_peer();
        }
        let other_dhts: Vec<&str> = theirs
            .iter()
            .filter(|p| is_kad_name(p))
            .map(AsRef::as_ref)
            .collect();
        let serves = match other_dhts.is_empty() {
            true => "no DHT".to_string(),
            false => other_dhts.join(", "),
        };
        if self.join.is_awaiting(&peer) {
            warn!(%peer, ours = %self.kad_protocols, theirs = %serves,
                "peer to join through serves none of this node's DHT protocols; not joining through it (see --kad-protocol, --lan)");
        } else if !other_dhts.is_empty() && self.peers.first_foreign_dht(&peer) {
            warn!(%peer, ours = %self.kad_protocols, theirs = %serves,
                "peer runs a DHT under another protocol name; not routing through it (see --kad-protocol, --lan)");
        } else {
            debug!(%peer, protocols = ?theirs, "peer does not serve this node's DHT; not routing through it");
        }
        self.join_identified(peer, Some(false));
    }
}

/// Whether a request failed because the peer serves none of our DHT
/// protocol names. multistream-select says so in one of two ways: before
/// the stream opens (several names proposed), or, with one name (proposed
/// optimistically, multistream-select's `V1Lazy`), at the stream's first
/// read, as an I/O error wrapping its `NegotiationError::Failed`.
pub(super) fn no_common_protocol(error: &OutboundFailure) -> bool {
    match error {
        OutboundFailure::UnsupportedProtocols => true,
        OutboundFailure::Io(e) => e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<NegotiationError>())
            .is_some_and(|n| matches!(n, NegotiationError::Failed)),
        _ => false,
    }
}

impl EventLoop {
    /// A failed request, in one line (what a lookup's trace and the log show).
    pub(super) fn failure_text(&self, error: &OutboundFailure) -> String {
        match no_common_protocol(error) {
            true => format!(
                "no common DHT protocol (this node serves {})",
                self.kad_protocols
            ),
            false => crate::network::cause::error_chain(error),
        }
    }
}
