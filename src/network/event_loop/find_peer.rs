//! `dial PEER_ID`: find a peer by its ID and connect to it. The routing
//! table's addresses are tried first; otherwise a FIND_NODE lookup of the
//! peer's ID asks the closest peers, which name the peer with its addresses
//! when they know it (the kad-dht way to find a peer).

use libp2p::swarm::dial_opts::DialOpts;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::oneshot;

use super::EventLoop;
use super::query::Kind;
use crate::dht::lookup::Lookup;
use crate::dht::wire::{Message, MessageType, PeerAddrs};
use crate::error::Error;

/// A peer searched for.
pub(super) struct FindPeerQuery {
    pub peer: PeerId,
    pub reply: oneshot::Sender<Result<PeerId, Error>>,
    /// Its addresses, once a peer named it.
    pub found: Vec<Multiaddr>,
}

impl FindPeerQuery {
    /// A FIND_NODE answer's closer peers, with only the addresses worth
    /// dialling left (see [`crate::address::Reach::keeps`]): true when
    /// they name the peer searched for with at least one.
    pub fn answer(&mut self, closer: &[PeerAddrs]) -> bool {
        let named = closer
            .iter()
            .find(|p| p.peer == self.peer && !p.addrs.is_empty());
        match named {
            Some(p) => {
                self.found = p.addrs.clone();
                true
            }
            None => false,
        }
    }
}

impl EventLoop {
    /// Connects to `peer`, finding its addresses in the DHT if needed.
    pub(super) fn dial_peer(
        &mut self,
        peer: PeerId,
        reply: oneshot::Sender<Result<PeerId, Error>>,
    ) {
        if peer == *self.swarm.local_peer_id() {
            let _ = reply.send(Err(Error::Dial("that is this node's own peer ID".into())));
            return;
        }
        if self.swarm.is_connected(&peer) {
            let _ = reply.send(Ok(peer));
            return;
        }
        if let Some(e) = self.routing.get(&peer).filter(|e| !e.addrs.is_empty()) {
            let addrs = e.addrs.clone();
            return self.dial_found(peer, addrs, reply);
        }
        let key = peer.to_bytes();
        let message = Message::request(MessageType::FindNode, key.clone());
        let query = FindPeerQuery {
            peer,
            reply,
            found: Vec::new(),
        };
        let id = self.new_query(&key, message, Kind::FindPeer(query));
        self.advance(id);
    }

    /// The lookup is over: dial what it found, or say it found nothing.
    pub(super) fn find_peer_done(&mut self, q: FindPeerQuery, lookup: &Lookup) {
        if q.found.is_empty() {
            let asked = lookup.steps().len();
            let _ = q.reply.send(Err(Error::Dial(format!(
                "peer {} not found in the DHT ({asked} peer(s) asked)",
                q.peer
            ))));
            return;
        }
        self.dial_found(q.peer, q.found, q.reply);
    }

    fn dial_found(
        &mut self,
        peer: PeerId,
        addrs: Vec<Multiaddr>,
        reply: oneshot::Sender<Result<PeerId, Error>>,
    ) {
        self.dial_with(DialOpts::peer_id(peer).addresses(addrs).build(), reply);
    }

    /// Dials as `opts` say; `reply` learns the peer once connected, or why not.
    pub(super) fn dial_with(
        &mut self,
        opts: DialOpts,
        reply: oneshot::Sender<Result<PeerId, Error>>,
    ) {
        let id = opts.connection_id();
        match self.swarm.dial(opts) {
            Ok(()) => {
                self.pending_dial.insert(id, reply);
            }
            Err(e) => {
                let _ = reply.send(Err(Error::Dial(crate::network::cause::error_chain(&e))));
            }
        }
    }
}
