//! A hostile peer: a bare libp2p swarm on 127.0.0.1 that speaks the kad-dht
//! wire protocol through p2pnode's own codec, so it can send what no p2pnode
//! node sends: records under another peer's owned key, replayed or forged
//! envelopes, floods of PUT_VALUE. It announces itself as `p2pnode/rogue`
//! through identify, so p2pnode nodes tell it why they refuse.
//!
//! Every wait is bounded; a flood sends a given number of records and stops.

use std::time::Duration;

use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, identify, noise, tcp, yamux};
use p2pnode::dht::codec::KadCodec;
use p2pnode::dht::wire::{Message, MessageType, WirePeer, WireRecord};

/// How long connecting or one answer may take.
const TIMEOUT: Duration = Duration::from_secs(20);
/// The largest message the rogue reads or writes.
const MAX_MESSAGE: usize = 1024 * 1024;

#[derive(NetworkBehaviour)]
struct Behaviour {
    kad: request_response::Behaviour<KadCodec>,
    identify: identify::Behaviour,
}

/// What the peer answered to one PUT_VALUE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Stored: the record was echoed.
    Stored,
    /// Refused, with the reason a p2pnode node gives.
    Refused(String),
    /// No answer (a refusal to other implementations, or a failure).
    Nothing(String),
}

/// What a flood of PUT_VALUEs got.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flood {
    /// Records stored.
    pub stored: usize,
    /// Records refused, by reason.
    pub refused: std::collections::BTreeMap<String, usize>,
    /// Requests that got no answer.
    pub unanswered: usize,
}

/// The hostile peer.
pub struct Rogue {
    swarm: Swarm<Behaviour>,
    key: Keypair,
}

impl Rogue {
    /// A new rogue with a fresh identity.
    pub fn new() -> Rogue {
        Rogue::build(ProtocolSupport::Outbound)
    }

    /// A rogue that says through identify it serves the DHT and advertises
    /// `addrs` as its addresses (identify's listen addresses), whatever
    /// they are (`0.0.0.0`, port 0...): a node decides which it keeps. It
    /// answers no request (nobody polls it between the test's calls).
    pub fn advertising(addrs: &[Multiaddr]) -> Rogue {
        let mut rogue = Rogue::build(ProtocolSupport::Full);
        for a in addrs {
            rogue.swarm.add_external_address(a.clone());
        }
        rogue
    }

    fn build(support: ProtocolSupport) -> Rogue {
        let key = Keypair::generate_ed25519();
        let swarm = libp2p::SwarmBuilder::with_existing_identity(key.clone())
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )
            .expect("a TCP transport")
            .with_behaviour(|k| Behaviour {
                kad: request_response::Behaviour::with_codec(
                    KadCodec::new(MAX_MESSAGE),
                    [(p2pnode::dht::PROTOCOL, support)],
                    request_response::Config::default().with_request_timeout(TIMEOUT),
                ),
                identify: identify::Behaviour::new(
                    identify::Config::new("/ipfs/id/1.0.0".into(), k.public())
                        .with_agent_version("p2pnode/rogue".into()),
                ),
            })
            .expect("a behaviour")
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(300)))
            .build();
        Rogue { swarm, key }
    }

    /// Its identity key (to sign what it forges).
    pub fn keypair(&self) -> &Keypair {
        &self.key
    }

    /// Its peer ID.
    pub fn peer_id(&self) -> PeerId {
        *self.swarm.local_peer_id()
    }

    /// Connects to the node at `addr` (with `/p2p/<id>`) and waits until
    /// the node has identified it (so it answers refusals with reasons).
    pub async fn connect(&mut self, addr: &Multiaddr) -> PeerId {
        self.swarm
            .dial(addr.clone())
            .unwrap_or_else(|e| panic!("rogue dial {addr}: {e}"));
        let wait = async {
            loop {
                match self.swarm.select_next_some().await {
                    SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Sent {
                        peer_id,
                        ..
                    })) => return peer_id,
                    SwarmEvent::OutgoingConnectionError { error, .. } => {
                        panic!("rogue cannot connect to {addr}: {error}")
                    }
                    _ => {}
                }
            }
        };
        tokio::time::timeout(TIMEOUT, wait)
            .await
            .unwrap_or_else(|_| panic!("rogue: no connection to {addr} in time"))
    }

    /// Asks `peer` for the record under `key` (GET_VALUE), as it holds it:
    /// `None` when it holds none (or the request failed).
    pub async fn get(&mut self, peer: PeerId, key: &[u8]) -> Option<WireRecord> {
        let m = Message::request(MessageType::GetValue, key.to_vec());
        self.request(peer, m).await.and_then(|m| m.record)
    }

    /// Sends `message` to `peer` and waits for the answer: `None` when the
    /// peer answered nothing (ADD_PROVIDER is not answered) or failed.
    pub async fn request(&mut self, peer: PeerId, message: Message) -> Option<Message> {
        let id = self.swarm.behaviour_mut().kad.send_request(&peer, message);
        let wait = async {
            loop {
                match self.swarm.select_next_some().await {
                    SwarmEvent::Behaviour(BehaviourEvent::Kad(
                        request_response::Event::Message {
                            message:
                                request_response::Message::Response {
                                    request_id,
                                    response,
                                },
                            ..
                        },
                    )) if request_id == id => return response,
                    SwarmEvent::Behaviour(BehaviourEvent::Kad(
                        request_response::Event::OutboundFailure { request_id, .. },
                    )) if request_id == id => return None,
                    _ => {}
                }
            }
        };
        tokio::time::timeout(TIMEOUT, wait)
            .await
            .expect("an answer (or a failure) in time")
    }

    /// From now on answers every request, in a task of its own on the
    /// current (multi-threaded) runtime, naming `closer` as the closer
    /// peers, whatever their addresses: a peer whose answers a node must
    /// judge. The task ends when the handle is aborted or dropped with
    /// the runtime.
    pub fn serve(mut self, closer: Vec<WirePeer>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let SwarmEvent::Behaviour(BehaviourEvent::Kad(
                    request_response::Event::Message {
                        message:
                            request_response::Message::Request {
                                request, channel, ..
                            },
                        ..
                    },
                )) = self.swarm.select_next_some().await
                {
                    let kind = request.kind().unwrap_or(MessageType::FindNode);
                    let mut m = Message::request(kind, request.key.clone());
                    m.closer_peers = closer.clone();
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .kad
                        .send_response(channel, Some(m));
                }
            }
        })
    }

    /// Sends one PUT_VALUE of `record` to `peer` and waits for the answer.
    pub async fn put(&mut self, peer: PeerId, record: WireRecord) -> Answer {
        let mut flood = self.flood(peer, std::iter::once(record), 1).await;
        if flood.stored == 1 {
            return Answer::Stored;
        }
        match flood.refused.pop_first() {
            Some((reason, _)) => Answer::Refused(reason),
            None => Answer::Nothing(format!("{flood:?}")),
        }
    }

    /// Sends every record of `records` to `peer` as PUT_VALUEs, at most
    /// `in_flight` at a time, and counts the answers.
    pub async fn flood(
        &mut self,
        peer: PeerId,
        records: impl IntoIterator<Item = WireRecord>,
        in_flight: usize,
    ) -> Flood {
        let mut records = records.into_iter();
        let mut pending: Vec<(OutboundRequestId, WireRecord)> = Vec::new();
        let mut out = Flood::default();
        loop {
            while pending.len() < in_flight.max(1) {
                let Some(r) = records.next() else { break };
                let mut m = Message::request(MessageType::PutValue, r.key.clone());
                m.record = Some(r.clone());
                let id = self.swarm.behaviour_mut().kad.send_request(&peer, m);
                pending.push((id, r));
            }
            if pending.is_empty() {
                return out;
            }
            let event = tokio::time::timeout(TIMEOUT, self.swarm.select_next_some())
                .await
                .expect("the rogue's swarm moves within the request timeout");
            let (id, answer) = match event {
                SwarmEvent::Behaviour(BehaviourEvent::Kad(request_response::Event::Message {
                    message:
                        request_response::Message::Response {
                            request_id,
                            response,
                        },
                    ..
                })) => (request_id, Some(response)),
                SwarmEvent::Behaviour(BehaviourEvent::Kad(
                    request_response::Event::OutboundFailure { request_id, .. },
                )) => (request_id, None),
                _ => continue,
            };
            let Some(i) = pending.iter().position(|(p, _)| *p == id) else {
                continue;
            };
            let (_, sent) = pending.swap_remove(i);
            match answer.flatten() {
                Some(m) if m.refused.is_some() => {
                    *out.refused
                        .entry(m.refused.unwrap_or_default())
                        .or_default() += 1
                }
                Some(m) if m.record.as_ref().is_some_and(|r| r.value == sent.value) => {
                    out.stored += 1
                }
                _ => out.unanswered += 1,
            }
        }
    }
}

impl Default for Rogue {
    fn default() -> Self {
        Rogue::new()
    }
}

/// A record as the wire carries it, with a version, a day to live and no
/// publisher.
pub fn wire_record(key: &[u8], value: &[u8], version: u64) -> WireRecord {
    WireRecord {
        key: key.to_vec(),
        value: value.to_vec(),
        version,
        ttl: 24 * 3600,
        ..Default::default()
    }
}
