//! Swarm events: listeners and their addresses, connections, identify
//! (which tells who serves the DHT and where to reach them), ping, the
//! Kademlia protocol's requests and responses, and dial outcomes.

use std::time::Instant;

use libp2p::core::ConnectedPoint;
use libp2p::request_response::{self, Message as RrMessage, OutboundFailure};
use libp2p::swarm::{ListenError, SwarmEvent};
use libp2p::{Multiaddr, PeerId, ping};
use tracing::{debug, info, trace, warn};

use super::EventLoop;
use crate::address::strip_p2p;
use crate::dht::routing::Inserted;
use crate::network::behaviour::BehaviourEvent;
use crate::network::cause::error_chain;

/// How many failed requests in a row make a peer leave the routing table
/// (a failed dial makes it leave at once).
const MAX_FAILURES: u32 = 3;

/// Records a swarm event, and the identify or ping event inside it, into
/// libp2p's own metrics; DHT requests are counted by p2pnode's.
fn record(m: &libp2p::metrics::Metrics, event: &SwarmEvent<BehaviourEvent>) {
    use libp2p::metrics::Recorder as _;
    match event {
        SwarmEvent::Behaviour(BehaviourEvent::Kad(_)) => {}
        SwarmEvent::Behaviour(BehaviourEvent::Identify(e)) => m.record(e),
        SwarmEvent::Behaviour(BehaviourEvent::Ping(e)) => m.record(e),
        other => m.record(other),
    }
}

impl EventLoop {
    pub(super) fn handle_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        if let Some(m) = &self.metrics {
            record(m.libp2p(), &event);
        }
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Kad(e)) => self.on_kad(e),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(e)) => self.on_identify(e),
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event { peer, result, .. })) => {
                if let Ok(rtt) = result {
                    self.peers.set_rtt(peer, rtt);
                }
            }
            SwarmEvent::NewListenAddr {
                listener_id,
                address,
            } => {
                info!(target: crate::logging::STARTUP, %address, "listening");
                self.pending_listen.remove(&listener_id);
                if !self.listening.contains(&address) {
                    self.listening.push(address);
                }
                self.update_external();
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.listening.retain(|a| *a != address);
                self.swarm.remove_external_address(&address);
                self.update_external();
            }
            SwarmEvent::ListenerError { error, .. } => {
                warn!(error = %error_chain(&error), "listener error");
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                connection_id,
                ..
            } => {
                debug!(peer = %peer_id, addr = %endpoint.get_remote_address(), "connected");
                self.peers.connected(
                    peer_id,
                    connection_id,
                    endpoint.get_remote_address().clone(),
                    endpoint.is_dialer(),
                );
                self.routing.set_connected(&peer_id, true);
                if let Some(reply) = self.pending_dial.remove(&connection_id) {
                    let _ = reply.send(Ok(peer_id));
                }
                if let ConnectedPoint::Dialer { address, .. } = &endpoint {
                    self.join_connected(connection_id, peer_id, strip_p2p(address.clone()));
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                cause,
                ..
            } => {
                self.peers.closed(peer_id, connection_id);
                if num_established == 0 {
                    self.routing.set_connected(&peer_id, false);
                    self.join_disconnected(&peer_id);
                }
                // Idle timeouts (ours or the peer's) close connections all the
                // time: that is not losing the peer. A dead peer shows when a
                // request to it fails, which removes it from the routing table.
                trace!(peer = %peer_id, cause = ?cause.as_ref().map(|c| error_chain(c)), "connection closed");
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                peer_id,
                error,
            } => self.dial_failed(connection_id, peer_id, &error),
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error,
                ..
            } => {
                if let ListenError::Denied { .. } = &error {
                    self.stats.connections_denied += 1;
                    let me = *self.swarm.local_peer_id();
                    if self.serve_log.due((me, "connection_denied")) {
                        warn!(from = %send_back_addr, reason = %error_chain(&error), total = self.stats.connections_denied,
                            "incoming connection denied by a connection limit (further ones are counted in stats, logged at most once a minute)");
                    }
                }
                self.incoming_failed(send_back_addr, &error)
            }
            other => trace!(event = ?other, "swarm event"),
        }
    }

    /// Adds or refreshes `peer` in the routing table.
    pub(super) fn route(&mut self, peer: PeerId, addrs: &[Multiaddr], replace: bool) {
        let connected = self.swarm.is_connected(&peer);
        let inserted = self
            .routing
            .insert(peer, addrs, replace, connected, Instant::now());
        self.failures.remove(&peer);
        match inserted {
            Inserted::New => debug!(%peer, "added to the routing table"),
            Inserted::Replaced(old) => {
                debug!(%peer, %old, "added to the routing table in place of a disconnected peer");
            }
            _ => return,
        }
        if self.routing.len() < self.settings.k {
            self.join.want_bootstrap = true;
        }
    }

    /// A peer answered a request: it is alive and serves the DHT.
    pub(super) fn peer_answered(&mut self, peer: &PeerId) {
        let addrs = self.peers.dialed_addrs(peer);
        self.route(*peer, &addrs, false);
    }

    /// A peer sent us a request: refresh it if it serves the DHT.
    pub(super) fn peer_asked(&mut self, peer: &PeerId) {
        if self.peers.speaks_kad(peer) && self.routing.get(peer).is_some() {
            self.route(*peer, &[], false);
        }
    }

    /// A request to `peer` failed: a failed dial or a peer without any of
    /// our DHT protocols leaves the routing table at once; other failures
    /// after [`MAX_FAILURES`] in a row.
    pub(super) fn peer_failed(&mut self, peer: &PeerId, error: &OutboundFailure) {
        let n = self.failures.entry(*peer).or_insert(0);
        *n += 1;
        let out = matches!(error, OutboundFailure::DialFailure)
            || super::admit::no_common_protocol(error)
            || *n >= MAX_FAILURES;
        if out && self.routing.remove(peer) {
            debug!(%peer, error = %self.failure_text(error), "removed from the routing table: it did not answer");
            self.failures.remove(peer);
            self.routing_lost_peer();
        }
    }

    fn on_kad(
        &mut self,
        event: request_response::Event<
            crate::dht::wire::Message,
            Option<crate::dht::wire::Message>,
        >,
    ) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                RrMessage::Request {
                    request, channel, ..
                } => self.on_request(peer, request, channel),
                RrMessage::Response {
                    request_id,
                    response,
                } => self.on_response(request_id, peer, response),
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                self.on_failure(request_id, peer, &error);
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                trace!(%peer, error = %error_chain(&error), "inbound DHT request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}
