//! What each [`Command`] from a [`Client`](crate::network::Client) does:
//! answered at once from local state, or started as a query whose
//! completion answers it.

use libp2p::swarm::dial_opts::DialOpts;

use super::EventLoop;
use crate::dht::Point;
use crate::error::Error;
use crate::network::client::Command;
use crate::reports::{Bucket, Close, NodeInfo};

impl EventLoop {
    pub(super) fn handle_command(&mut self, command: Command) {
        match command {
            Command::Put {
                key,
                value,
                quorum,
                reply,
            } => self.start_put(key, value, quorum, reply),
            Command::Get { key, quorum, reply } => self.start_get(key, quorum, reply),
            Command::Provide { key, reply } => self.start_provide(key, Some(reply)),
            Command::Providers { key, reply } => self.start_providers(key, reply),
            Command::Trace { target, reply } => self.start_trace(target, reply),
            Command::Peers { reply } => {
                let _ = reply.send(self.peers.list());
            }
            Command::Info { reply } => {
                let info = NodeInfo {
                    peer: *self.swarm.local_peer_id(),
                    listen: self.listen_addrs(),
                    external: self.swarm.external_addresses().cloned().collect(),
                    k: self.settings.k,
                    alpha: self.settings.alpha,
                    kad_protocols: self.kad_protocols.names().to_vec(),
                };
                let _ = reply.send(info);
            }
            Command::Routing { reply } => {
                let buckets = self
                    .routing
                    .buckets()
                    .map(|(index, entries)| Bucket {
                        index,
                        entries: entries
                            .iter()
                            .map(|e| (e.peer, e.addrs.clone(), e.connected))
                            .collect(),
                    })
                    .collect();
                let _ = reply.send(buckets);
            }
            Command::Closest { key, reply } => {
                let target = Point::of_bytes(key.as_ref());
                let close = self
                    .routing
                    .closest(&target, self.settings.k)
                    .into_iter()
                    .map(|(d, e)| Close {
                        peer: e.peer,
                        distance: d.to_hex(),
                        common_prefix_bits: d.common_prefix_bits(),
                        bucket: d.ilog2(),
                    })
                    .collect();
                let _ = reply.send(close);
            }
            Command::Dial { target, reply } => {
                if target.peer == Some(*self.swarm.local_peer_id()) {
                    let _ = reply.send(Err(Error::Dial("that is this node's own address".into())));
                    return;
                }
                let opts = match target.peer {
                    Some(peer) => DialOpts::peer_id(peer)
                        .addresses(vec![target.addr.clone()])
                        .build(),
                    None => DialOpts::unknown_peer_id()
                        .address(target.addr.clone())
                        .build(),
                };
                self.dial_with(opts, reply);
            }
            Command::DialPeer { peer, reply } => self.dial_peer(peer, reply),
            Command::Bootstrap { reply } => self.bootstrap_command(reply),
            Command::Stats { reply } => {
                let s = self.snapshot();
                let _ = reply.send(s);
            }
            Command::WaitJoined { reply } => self.wait_joined(reply),
            Command::Health { reply } => {
                let facts = self.health_facts();
                let _ = reply.send(facts);
            }
            Command::Delete { key, reply } => self.delete_local(key, reply),
            Command::Compact { reply } => self.store.compact(reply),
            Command::Backup { dest, reply } => self.store.backup(dest, reply),
            Command::Shutdown { reply } => {
                // Handled by the run loop before dispatch; answer anyway.
                let _ = reply.send(());
            }
        }
    }
}
