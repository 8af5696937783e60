//! Swarm events: listeners and their addresses, connections, identify
//! (which tells who serves the DHT and where to reach them), ping, the
//! Kademlia protocol's requests and responses, and dial outcomes.

use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use libp2p::core::ConnectedPoint;
use libp2p::request_response::{self, InboundFailure, Message as RrMessage, OutboundFailure};
use libp2p::swarm::{DialError, ListenError, SwarmEvent};
use libp2p::{Multiaddr, PeerId, identify, ping};
use tracing::{debug, info, trace, warn};

use super::{EventLoop, error_chain};
use crate::dht::RecordKey;
use crate::dht::routing::Inserted;
use crate::error::{Error, StartError};
use crate::network::address::{strip_p2p, usable};
use crate::network::behaviour::{BehaviourEvent, speaks_kad};
use crate::store::Refusal;

/// How many failed requests in a row make a peer leave the routing table
/// (a failed dial makes it leave at once).
const MAX_FAILURES: u32 = 3;

/// Listens on `addrs`, announces `announce`, and returns once every
/// listener has reported its addresses.
pub(super) async fn listen(
    lp: &mut EventLoop,
    addrs: &[Multiaddr],
    announce: &[Multiaddr],
    timeout: Duration,
) -> Result<(), StartError> {
    for addr in addrs {
        let id = lp.swarm.listen_on(addr.clone()).map_err(|e| {
            let mut reason = error_chain(&e).trim_start_matches([':', ' ']).to_string();
            if reason.contains("in use") {
                reason.push_str(" (another node on this port? pick one with --port or --listen)");
            }
            StartError::Listen {
                addr: addr.to_string(),
                reason,
            }
        })?;
        lp.pending_listen.insert(id);
    }
    for addr in announce {
        lp.swarm.add_external_address(addr.clone());
    }
    let deadline = tokio::time::Instant::now() + timeout;
    while !lp.pending_listen.is_empty() {
        let event = tokio::time::timeout_at(deadline, lp.swarm.select_next_some())
            .await
            .map_err(|_| StartError::Setup("listeners did not start in time".into()))?;
        lp.listen_event(event)?;
    }
    // A 0.0.0.0 listener reports one address per interface, together:
    // take every one already reported.
    while let Some(event) = lp.swarm.next().now_or_never().flatten() {
        lp.listen_event(event)?;
    }
    Ok(())
}

impl EventLoop {
    fn listen_event(&mut self, event: SwarmEvent<BehaviourEvent>) -> Result<(), StartError> {
        match event {
            SwarmEvent::ListenerClosed {
                listener_id,
                reason: Err(e),
                addresses,
            } if self.pending_listen.contains(&listener_id) => Err(StartError::Listen {
                addr: addresses
                    .first()
                    .map_or_else(|| "?".to_string(), ToString::to_string),
                reason: e.to_string(),
            }),
            event => {
                self.handle_event(event);
                Ok(())
            }
        }
    }

    pub(super) fn handle_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        if let Some(m) = &self.metrics {
            m.record(&event);
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
                info!(%address, "listening");
                self.pending_listen.remove(&listener_id);
                if !self.listening.contains(&address) {
                    self.listening.push(address.clone());
                }
                // A concrete interface address (never 0.0.0.0): others may dial it.
                self.swarm.add_external_address(address);
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.listening.retain(|a| *a != address);
                self.swarm.remove_external_address(&address);
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
                error,
                send_back_addr,
                ..
            } => {
                if let ListenError::Denied { .. } = &error {
                    self.stats.connections_denied += 1;
                    if self.serve_log.denied_due() {
                        warn!(from = %send_back_addr, reason = %error_chain(&error), total = self.stats.connections_denied,
                            "incoming connection denied by a connection limit (further ones are counted in stats, logged at most once a minute)");
                    }
                }
                debug!(error = %error_chain(&error), "incoming connection failed");
            }
            other => trace!(event = ?other, "swarm event"),
        }
    }

    fn dial_failed(
        &mut self,
        connection_id: libp2p::swarm::ConnectionId,
        peer_id: Option<PeerId>,
        error: &DialError,
    ) {
        let why = dial_error(error);
        if let Some(reply) = self.pending_dial.remove(&connection_id) {
            let _ = reply.send(Err(Error::Dial(why.clone())));
        }
        if let DialError::LocalPeerId { address } = error {
            self.join_is_self(connection_id, address);
            return;
        }
        if !self.join_failed(connection_id, &why) {
            debug!(peer = ?peer_id, error = %why, "outgoing connection failed");
        }
    }

    fn on_identify(&mut self, event: identify::Event) {
        let identify::Event::Received { peer_id, info, .. } = event else {
            return;
        };
        self.peers.set_agent(peer_id, info.agent_version.clone());
        if !speaks_kad(&info.protocols) {
            debug!(peer = %peer_id, "peer does not serve Kademlia; not routing through it");
            return;
        }
        self.peers.set_kad(peer_id);
        let loopback_ok = self.peers.reached_over_loopback(&peer_id);
        let addrs: Vec<Multiaddr> = info
            .listen_addrs
            .into_iter()
            .filter(|a| usable(a, loopback_ok))
            .map(strip_p2p)
            .collect();
        self.route(peer_id, &addrs, true);
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

    /// A request to `peer` failed: a failed dial or a peer without the
    /// protocol leaves the routing table at once; other failures after
    /// [`MAX_FAILURES`] in a row.
    pub(super) fn peer_failed(&mut self, peer: &PeerId, error: &OutboundFailure) {
        let n = self.failures.entry(*peer).or_insert(0);
        *n += 1;
        let out = matches!(
            error,
            OutboundFailure::DialFailure | OutboundFailure::UnsupportedProtocols
        ) || *n >= MAX_FAILURES;
        if out && self.routing.remove(peer) {
            debug!(%peer, error = %error_chain(error), "removed from the routing table: it did not answer");
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
                let text = error_chain(&error);
                if let InboundFailure::Io(_) = &error
                    && text.contains("over the limit")
                {
                    let limit = self.settings.limits.max_value_bytes;
                    let why = Refusal::ValueTooLarge {
                        size: limit + 1,
                        limit,
                    };
                    self.note_refusal(peer, &RecordKey::new(&"?"), &why);
                    debug!(%peer, error = %text, "refused an oversized DHT message");
                } else {
                    trace!(%peer, error = %text, "inbound DHT request failed");
                }
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}

/// A failed dial, in one line a person can act on.
fn dial_error(error: &DialError) -> String {
    match error {
        DialError::Transport(errors) => {
            let parts: Vec<String> = errors
                .iter()
                .map(|(addr, e)| {
                    format!(
                        "{}: {}",
                        strip_p2p(addr.clone()),
                        short_transport_error(&error_chain(e))
                    )
                })
                .collect();
            parts.join("; ")
        }
        DialError::LocalPeerId { address } => format!("{address} is this node itself"),
        DialError::WrongPeerId { obtained, address } => {
            format!("{address} is peer {obtained}, not the one asked for")
        }
        DialError::NoAddresses => "no known address for that peer".into(),
        other => error_chain(other),
    }
}

/// The useful end of a transport error chain ("connection refused").
fn short_transport_error(chain: &str) -> String {
    for needle in [
        "Connection refused",
        "connection refused",
        "timed out",
        "No route to host",
        "Network is unreachable",
        "failed to lookup address",
        "no record found",
    ] {
        if chain.contains(needle) {
            return needle.to_lowercase();
        }
    }
    chain.to_string()
}
