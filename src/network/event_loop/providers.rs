//! Provider records: `provide` (stored here, then ADD_PROVIDER to the k
//! closest peers, with this node's external addresses, without which other
//! implementations drop the record) and `providers` (GET_PROVIDERS along a
//! lookup, collecting every provider named).

use std::collections::BTreeSet;
use std::time::Instant;

use libp2p::{PeerId, Swarm};
use tokio::sync::oneshot;

use super::EventLoop;
use super::query::Kind;
use crate::dht::lookup::Lookup;
use crate::dht::wire::{Message, MessageType, WirePeer};
use crate::dht::{ProviderRecord, RecordKey};
use crate::error::Error;
use crate::network::behaviour::Behaviour;
use crate::reports::{ProvideReport, ProvidersReport};

/// A `provide` (or its republication) in flight.
pub(super) struct ProvideQuery {
    pub key: RecordKey,
    pub reply: Option<oneshot::Sender<Result<ProvideReport, Error>>>,
    pub announced: usize,
    pub started: Instant,
}

impl ProvideQuery {
    /// The ADD_PROVIDER sent to the closest peers: this node and its
    /// external addresses.
    pub fn store_request(&self, swarm: &Swarm<Behaviour>) -> Message {
        let addrs: Vec<_> = swarm.external_addresses().cloned().collect();
        let mut m = Message::request(MessageType::AddProvider, self.key.to_vec());
        m.provider_peers = vec![WirePeer::new(swarm.local_peer_id(), &addrs, true)];
        m
    }

    /// The announcements are sent.
    pub fn done(self) {
        if let Some(reply) = self.reply {
            let _ = reply.send(Ok(ProvideReport {
                key: self.key,
                announced: self.announced,
                elapsed: self.started.elapsed(),
            }));
        }
    }
}

/// A `providers` lookup in flight.
pub(super) struct ProvidersQuery {
    pub key: RecordKey,
    pub reply: oneshot::Sender<Result<ProvidersReport, Error>>,
    pub found: BTreeSet<PeerId>,
}

impl ProvidersQuery {
    /// A GET_PROVIDERS answer; true when it named providers.
    pub fn answer(&mut self, _peer: &PeerId, m: &Message) -> bool {
        let before = self.found.len();
        for p in m.provider_peers.iter().filter_map(|p| p.decode()) {
            self.found.insert(p.peer);
        }
        !m.provider_peers.is_empty() && self.found.len() >= before
    }

    /// The lookup is over.
    pub fn done(self, lookup: &Lookup) {
        let _ = self.reply.send(Ok(ProvidersReport {
            key: self.key,
            providers: self.found.into_iter().collect(),
            elapsed: lookup.started().elapsed(),
            peers_queried: lookup.steps().len() as u32,
        }));
    }
}

impl EventLoop {
    /// Stores this node's provider record for `key` and announces it.
    pub(super) fn start_provide(
        &mut self,
        key: RecordKey,
        reply: Option<oneshot::Sender<Result<ProvideReport, Error>>>,
    ) {
        let now = Instant::now();
        let record = ProviderRecord {
            key: key.clone(),
            provider: *self.swarm.local_peer_id(),
            addresses: self.swarm.external_addresses().cloned().collect(),
            expires: Some(now + self.settings.timings.record_ttl),
        };
        if let Err(refusal) = self.store.add_provider(record) {
            if let Some(reply) = reply {
                let _ = reply.send(Err(Error::Refused(refusal)));
            }
            return;
        }
        self.jobs.provided(&key, now);
        let target = key.to_vec();
        let message = Message::request(MessageType::FindNode, target.clone());
        let id = self.new_query(
            &target,
            message,
            Kind::Provide(ProvideQuery {
                key,
                reply,
                announced: 0,
                started: now,
            }),
        );
        self.advance(id);
    }

    /// Finds the providers of `key`, this node's store included.
    pub(super) fn start_providers(
        &mut self,
        key: RecordKey,
        reply: oneshot::Sender<Result<ProvidersReport, Error>>,
    ) {
        if let Err(refusal) = self.store.check_key(&key) {
            let _ = reply.send(Err(Error::Refused(refusal)));
            return;
        }
        let found = self
            .store
            .providers(&key)
            .iter()
            .map(|p| p.provider)
            .collect();
        let target = key.to_vec();
        let message = Message::request(MessageType::GetProviders, target.clone());
        let id = self.new_query(
            &target,
            message,
            Kind::Providers(ProvidersQuery { key, reply, found }),
        );
        self.advance(id);
    }
}
