//! Serving peers' DHT requests: FIND_NODE, GET_VALUE, PUT_VALUE,
//! ADD_PROVIDER, GET_PROVIDERS and PING, as the kad-dht spec says.
//!
//! A PUT_VALUE passes the store's rules (limits, `/pk/` validation, newest
//! write wins) and is answered only once the record is on disk. A refused
//! record is not acknowledged: a p2pnode sender gets the reason (and the
//! newer record, when ours is newer); other implementations get no answer,
//! which every one of them counts as a failed store. Every refusal is
//! counted; a peer's refusals are logged at most once a minute per reason.

use std::time::{Duration, Instant};

use libp2p::PeerId;
use libp2p::request_response::ResponseChannel;
use tracing::{debug, warn};

use super::put::{from_wire, to_wire};
use super::{Ack, EventLoop};
use crate::dht::wire::{Message, MessageType, WirePeer};
use crate::dht::{Point, ProviderRecord, RecordKey, Version};
use crate::keys;
use crate::store::{Refusal, Stored};

/// How often one peer's refusals of one kind are logged.
pub(super) const LOG_EVERY: Duration = Duration::from_secs(60);

/// When each (peer, reason) was last logged, so a peer cannot control the
/// log's volume.
pub(super) type RefusalLog = crate::network::ratelimit::Limiter<(PeerId, &'static str)>;

type Channel = ResponseChannel<Option<Message>>;

impl EventLoop {
    /// A peer's request.
    pub(super) fn on_request(&mut self, peer: PeerId, request: Message, channel: Channel) {
        self.stats.requests_served += 1;
        if let Some(size) = request.oversized_len() {
            // Too large to decode: refused (with the limit as the reason).
            let limit = crate::network::behaviour::max_message(&self.settings.limits);
            let why = Refusal::MessageTooLarge { size, limit };
            self.refuse(peer, &RecordKey::new(&""), why, channel);
            return;
        }
        if let Some(kind) = request.kind() {
            *self
                .stats
                .requests_by_type
                .entry(kind.spec_name())
                .or_default() += 1;
        }
        self.peer_asked(&peer);
        let key = request.key.clone();
        let response = match request.kind() {
            Some(MessageType::FindNode) => Some(self.find_node(&peer, &key)),
            Some(MessageType::GetValue) => {
                let mut m = self.closer(&peer, &key, MessageType::GetValue);
                if let Some(h) = self.store.get(&RecordKey::new(&key)) {
                    m.record = Some(to_wire(&h.record, Instant::now()));
                }
                Some(m)
            }
            Some(MessageType::GetProviders) => {
                let mut m = self.closer(&peer, &key, MessageType::GetProviders);
                m.provider_peers = self
                    .store
                    .providers(&RecordKey::new(&key))
                    .iter()
                    .map(|p| WirePeer::new(&p.provider, &p.addresses, false))
                    .collect();
                Some(m)
            }
            Some(MessageType::Ping) => Some(Message::request(MessageType::Ping, Vec::new())),
            Some(MessageType::PutValue) => return self.serve_put(peer, request, channel),
            Some(MessageType::AddProvider) => {
                self.serve_add_provider(peer, &request);
                None
            }
            None => {
                debug!(%peer, kind = request.r#type, "unknown DHT message type; not answered");
                return;
            }
        };
        let _ = self
            .swarm
            .behaviour_mut()
            .kad
            .send_response(channel, response);
    }

    /// A response of `kind` naming the k peers closest to `key` (the asker excluded).
    fn closer(&self, asker: &PeerId, key: &[u8], kind: MessageType) -> Message {
        let mut m = Message::request(kind, key.to_vec());
        m.closer_peers = self
            .routing
            .closest(&Point::of_bytes(key), self.settings.k + 1)
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e| e.peer != *asker)
            .take(self.settings.k)
            .map(|e| WirePeer::new(&e.peer, &e.addrs, e.connected))
            .collect();
        m
    }

    /// FIND_NODE: the k peers closest to `key`. Asked for this node's own
    /// ID, it names itself first, with its addresses, as go-libp2p-kad-dht
    /// does; go-libp2p-kad-dht (kubo) also requires it: it adds a peer to
    /// its routing table only after that peer named at least one peer when
    /// asked for its own ID, and a node alone in its network knows no other.
    fn find_node(&self, asker: &PeerId, key: &[u8]) -> Message {
        let mut m = self.closer(asker, key, MessageType::FindNode);
        let me = *self.swarm.local_peer_id();
        if key == me.to_bytes().as_slice() {
            let addrs: Vec<_> = self.swarm.external_addresses().cloned().collect();
            m.closer_peers.truncate(self.settings.k.saturating_sub(1));
            m.closer_peers.insert(0, WirePeer::new(&me, &addrs, true));
        }
        m
    }

    fn serve_put(&mut self, peer: PeerId, request: Message, channel: Channel) {
        let key = RecordKey::new(&request.key);
        let Some(w) = request.record.as_ref().filter(|w| w.key == request.key) else {
            self.refuse(
                peer,
                &key,
                Refusal::Invalid("a PUT_VALUE must carry a record under its key"),
                channel,
            );
            return;
        };
        let mut record = from_wire(&key, w, self.settings.timings.record_ttl);
        if !record.version.is_some() {
            // No version (another implementation): a write made now.
            let held = self.store.get(&key).map(|h| h.record.version);
            record.version = Version::next_after(held);
        }
        match self.store.accept(record, Some(peer)) {
            Ok(Stored::Written(seq) | Stored::Same(seq)) => {
                self.ack_after(seq, Ack::Inbound(channel, Box::new(request)))
            }
            Err(refusal) => self.refuse(peer, &key, refusal, channel),
        }
    }

    /// Refuses a pushed record: counted, logged (rate-limited), and
    /// answered with the reason to p2pnode peers only.
    fn refuse(&mut self, peer: PeerId, key: &RecordKey, why: Refusal, channel: Channel) {
        self.note_refusal(peer, key, &why);
        if !self.peers.is_p2pnode(&peer) {
            // No answer: every implementation counts that as not stored.
            drop(channel);
            return;
        }
        let mut m = Message::request(MessageType::PutValue, key.to_vec());
        m.refused = Some(why.to_string());
        if why == Refusal::Stale {
            m.record = self
                .store
                .get(key)
                .map(|h| to_wire(&h.record, Instant::now()));
        }
        let _ = self
            .swarm
            .behaviour_mut()
            .kad
            .send_response(channel, Some(m));
    }

    /// Counts and (at most once a minute per peer and reason) logs a refusal.
    pub(super) fn note_refusal(&mut self, peer: PeerId, key: &RecordKey, why: &Refusal) {
        self.stats.records_refused += 1;
        *self.stats.refused_by_reason.entry(why.label()).or_default() += 1;
        if let Some(m) = &self.metrics {
            m.refused(why.label());
        }
        if self.serve_log.due((peer, why.label())) {
            let level_warn = !matches!(why, Refusal::Stale);
            if level_warn {
                warn!(%peer, key = %keys::display(key), reason = %why, "refused a record from a peer (further ones of this kind from this peer are counted, logged at most once a minute)");
            } else {
                debug!(%peer, key = %keys::display(key), "refused a stale copy; sent the newer one back");
            }
        }
    }

    fn serve_add_provider(&mut self, peer: PeerId, request: &Message) {
        let key = RecordKey::new(&request.key);
        let loopback_ok = self.peers.reached_over_loopback(&peer);
        let ttl = self.settings.timings.record_ttl;
        for p in request.provider_peers.iter().filter_map(|p| p.decode()) {
            if p.peer != peer {
                // Only a peer may announce itself (as go-libp2p checks).
                continue;
            }
            let addresses = p
                .addrs
                .into_iter()
                .filter(|a| self.reach.keeps(a, loopback_ok))
                .collect();
            let record = ProviderRecord {
                key: key.clone(),
                provider: peer,
                addresses,
                expires: Some(Instant::now() + ttl),
            };
            if let Err(why) = self.store.add_provider(record) {
                self.note_refusal(peer, &key, &why);
            }
        }
    }
}
