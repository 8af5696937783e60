//! [`PeerBook`]: what we know of the peers we are connected to (their
//! connection addresses, agent and round-trip time), for the `peers` command
//! and for judging which of their advertised addresses to route through.

use std::collections::HashMap;
use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId};

use super::client::PeerInfo;

#[derive(Default)]
struct Entry {
    connections: HashMap<ConnectionId, Multiaddr>,
    agent: Option<String>,
    rtt: Option<Duration>,
}

/// The connected peers.
#[derive(Default)]
pub struct PeerBook {
    peers: HashMap<PeerId, Entry>,
}

impl PeerBook {
    /// A connection to `peer` was established over `addr`.
    pub fn connected(&mut self, peer: PeerId, id: ConnectionId, addr: Multiaddr) {
        let mut addr = addr;
        if matches!(addr.iter().last(), Some(Protocol::P2p(_))) {
            addr.pop();
        }
        self.peers
            .entry(peer)
            .or_default()
            .connections
            .insert(id, addr);
    }

    /// A connection closed; the peer is forgotten with its last connection.
    pub fn closed(&mut self, peer: PeerId, id: ConnectionId) {
        if let Some(e) = self.peers.get_mut(&peer) {
            e.connections.remove(&id);
            if e.connections.is_empty() {
                self.peers.remove(&peer);
            }
        }
    }

    /// Identify told us the peer's agent.
    pub fn set_agent(&mut self, peer: PeerId, agent: String) {
        if let Some(e) = self.peers.get_mut(&peer) {
            e.agent = Some(agent);
        }
    }

    /// Ping measured a round trip.
    pub fn set_rtt(&mut self, peer: PeerId, rtt: Duration) {
        if let Some(e) = self.peers.get_mut(&peer) {
            e.rtt = Some(rtt);
        }
    }

    /// Whether we reach `peer` over loopback: then its loopback listen
    /// addresses are meaningful to us too (same host).
    pub fn reached_over_loopback(&self, peer: &PeerId) -> bool {
        self.peers.get(peer).is_some_and(|e| {
            e.connections.values().any(|a| {
                a.iter().any(|p| match p {
                    Protocol::Ip4(ip) => ip.is_loopback(),
                    Protocol::Ip6(ip) => ip.is_loopback(),
                    Protocol::Dns(h) | Protocol::Dns4(h) | Protocol::Dns6(h) => h == "localhost",
                    _ => false,
                })
            })
        })
    }

    /// The connected peers, sorted by peer ID.
    pub fn list(&self) -> Vec<PeerInfo> {
        let mut list: Vec<PeerInfo> = self
            .peers
            .iter()
            .map(|(peer, e)| {
                let mut addrs: Vec<Multiaddr> = e.connections.values().cloned().collect();
                addrs.sort();
                addrs.dedup();
                PeerInfo {
                    peer: *peer,
                    addrs,
                    agent: e.agent.clone(),
                    rtt: e.rtt,
                }
            })
            .collect();
        list.sort_by_key(|p| p.peer);
        list
    }
}
