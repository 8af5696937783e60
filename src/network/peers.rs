//! [`PeerBook`]: what we know of the peers we are connected to (their
//! connection addresses, agent, protocols and round-trip time), for the
//! `peers` command and for judging which of their advertised addresses to
//! route through.

use std::collections::HashMap;
use std::time::Duration;

use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId};

use super::behaviour::is_p2pnode;
use crate::address::{is_loopback, strip_p2p};
use crate::reports::PeerInfo;

#[derive(Default)]
struct Entry {
    /// Each connection's remote address, and whether we dialled it (then
    /// it is one of the peer's listen addresses).
    connections: HashMap<ConnectionId, (Multiaddr, bool)>,
    agent: Option<String>,
    rtt: Option<Duration>,
    kad: bool,
    /// Warned that it runs a DHT under another protocol name.
    warned_foreign_dht: bool,
}

/// The connected peers.
#[derive(Default)]
pub struct PeerBook {
    peers: HashMap<PeerId, Entry>,
}

impl PeerBook {
    /// A connection to `peer` was established over `addr` (`dialer`: by us).
    pub fn connected(&mut self, peer: PeerId, id: ConnectionId, addr: Multiaddr, dialer: bool) {
        self.peers
            .entry(peer)
            .or_default()
            .connections
            .insert(id, (strip_p2p(addr), dialer));
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

    /// Identify told us the peer serves our Kademlia protocol.
    pub fn set_kad(&mut self, peer: PeerId) {
        if let Some(e) = self.peers.get_mut(&peer) {
            e.kad = true;
        }
    }

    /// True the first time it is asked for a connected peer (then false
    /// until the peer reconnects): whether to warn that it runs a DHT under
    /// another protocol name.
    pub fn first_foreign_dht(&mut self, peer: &PeerId) -> bool {
        self.peers
            .get_mut(peer)
            .is_some_and(|e| !std::mem::replace(&mut e.warned_foreign_dht, true))
    }

    /// Whether identify said the peer serves our Kademlia protocol.
    pub fn speaks_kad(&self, peer: &PeerId) -> bool {
        self.peers.get(peer).is_some_and(|e| e.kad)
    }

    /// Whether identify said the peer runs p2pnode.
    pub fn is_p2pnode(&self, peer: &PeerId) -> bool {
        self.peers
            .get(peer)
            .and_then(|e| e.agent.as_deref())
            .is_some_and(is_p2pnode)
    }

    /// Ping measured a round trip.
    pub fn set_rtt(&mut self, peer: PeerId, rtt: Duration) {
        if let Some(e) = self.peers.get_mut(&peer) {
            e.rtt = Some(rtt);
        }
    }

    /// The addresses we dialled the peer at (its listen addresses).
    pub fn dialed_addrs(&self, peer: &PeerId) -> Vec<Multiaddr> {
        let mut v: Vec<Multiaddr> = self
            .peers
            .get(peer)
            .map(|e| {
                e.connections
                    .values()
                    .filter(|(_, dialer)| *dialer)
                    .map(|(a, _)| a.clone())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v.dedup();
        v
    }

    /// Whether we reach `peer` over loopback: then its loopback listen
    /// addresses are meaningful to us too (same host).
    pub fn reached_over_loopback(&self, peer: &PeerId) -> bool {
        self.peers
            .get(peer)
            .is_some_and(|e| e.connections.values().any(|(a, _)| is_loopback(a)))
    }

    /// The connected peers, sorted by peer ID.
    pub fn list(&self) -> Vec<PeerInfo> {
        let mut list: Vec<PeerInfo> = self
            .peers
            .iter()
            .map(|(peer, e)| {
                let mut addrs: Vec<Multiaddr> =
                    e.connections.values().map(|(a, _)| a.clone()).collect();
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
