//! Queries in flight: each is a [`Lookup`] plus what its kind does with
//! the answers, and, for puts and provider announcements, a store phase
//! that sends the record to the closest peers the lookup found. Every
//! request sent is mapped back to its query and peer here.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use libp2p::request_response::{OutboundFailure, OutboundRequestId};
use libp2p::{Multiaddr, PeerId};
use tracing::debug;

use super::EventLoop;
use super::get::GetQuery;
use super::providers::{ProvideQuery, ProvidersQuery};
use super::put::PutQuery;
use crate::dht::Point;
use crate::dht::lookup::Lookup;
use crate::dht::wire::{Message, PeerAddrs};

/// A query's number, for this node only.
pub(super) type QueryId = u64;

/// What a query is for.
pub(super) enum Kind {
    /// `get`: GET_VALUE to the closest peers.
    Get(GetQuery),
    /// `put`, republishing or replication: a lookup, then PUT_VALUE.
    Put(PutQuery),
    /// `provide`: a lookup, then ADD_PROVIDER.
    Provide(ProvideQuery),
    /// `providers`: GET_PROVIDERS to the closest peers.
    Providers(ProvidersQuery),
    /// Joining or refreshing: lookups of this node's ID and of one random
    /// ID per k-bucket, one after the other.
    Bootstrap(super::bootstrap::BootstrapQuery),
    /// `dial PEER_ID`: FIND_NODE for the peer's ID until a peer names it.
    FindPeer(super::find_peer::FindPeerQuery),
    /// `trace`: a lookup whose steps are the answer.
    Trace(super::trace::TraceQuery),
}

/// One query; see the module docs.
pub(super) struct Query {
    pub lookup: Lookup,
    /// The request sent to each peer of the lookup.
    pub message: Message,
    pub kind: Kind,
    pub started: Instant,
    /// Peers sent the record in the store phase, still to answer; `None`
    /// while the lookup runs.
    pub storing: Option<HashSet<PeerId>>,
}

/// Which part of a query a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Lookup,
    Store,
}

/// The queries in flight and their requests.
#[derive(Default)]
pub(super) struct Queries {
    next: QueryId,
    active: HashMap<QueryId, Query>,
    sent: HashMap<OutboundRequestId, (QueryId, PeerId, Stage)>,
}

impl Queries {
    /// How many queries are running.
    pub fn len(&self) -> usize {
        self.active.len()
    }
}

impl EventLoop {
    /// The kind of query `id`, if it runs.
    pub(super) fn queries_kind_mut(&mut self, id: QueryId) -> Option<&mut Kind> {
        self.queries.active.get_mut(&id).map(|q| &mut q.kind)
    }

    /// Gives query `id` a new lookup (the next step of a bootstrap).
    pub(super) fn replace_lookup(&mut self, id: QueryId, lookup: Lookup, message: Message) {
        self.queries.sent.retain(|_, (qid, _, _)| *qid != id);
        if let Some(q) = self.queries.active.get_mut(&id) {
            q.lookup = lookup;
            q.message = message;
        }
    }

    /// Registers a query for `target` (the bytes hashed into the ID space),
    /// seeded with the closest peers of the routing table; it starts
    /// sending at the caller's [`EventLoop::advance`].
    pub(super) fn new_query(&mut self, target: &[u8], message: Message, kind: Kind) -> QueryId {
        let now = Instant::now();
        let point = Point::of_bytes(target);
        let lookup = self.new_lookup(point, now);
        let id = self.queries.next;
        self.queries.next += 1;
        self.stats.queries_started += 1;
        self.queries.active.insert(
            id,
            Query {
                lookup,
                message,
                kind,
                started: now,
                storing: None,
            },
        );
        id
    }

    /// A lookup of `point` seeded with the routing table's k closest peers.
    pub(super) fn new_lookup(&self, point: Point, now: Instant) -> Lookup {
        let seeds: Vec<(PeerId, Vec<Multiaddr>)> = self
            .routing
            .closest(&point, self.settings.k)
            .into_iter()
            .map(|(_, e)| (e.peer, e.addrs.clone()))
            .collect();
        Lookup::new(
            point,
            *self.swarm.local_peer_id(),
            self.settings.k,
            self.settings.alpha,
            seeds,
            now,
        )
    }

    /// Sends one request to `peer`, dialling it at `addrs` (plus what the
    /// routing table knows) when not connected.
    pub(super) fn send(
        &mut self,
        id: QueryId,
        peer: PeerId,
        mut addrs: Vec<Multiaddr>,
        message: Message,
        stage: Stage,
    ) {
        if let Some(e) = self.routing.get(&peer) {
            for a in &e.addrs {
                if !addrs.contains(a) {
                    addrs.push(a.clone());
                }
            }
        }
        let rid = self
            .swarm
            .behaviour_mut()
            .kad
            .send_request_with_addresses(&peer, message, addrs);
        self.queries.sent.insert(rid, (id, peer, stage));
    }

    /// Moves a query on: sends what its lookup wants sent, and ends the
    /// lookup or the store phase when they are over.
    pub(super) fn advance(&mut self, id: QueryId) {
        let now = Instant::now();
        let Some(q) = self.queries.active.get_mut(&id) else {
            return;
        };
        if q.storing.is_none() {
            let asks = q.lookup.next_requests(now);
            let message = q.message.clone();
            let finished = q.lookup.is_finished();
            for (peer, addrs) in asks {
                self.send(id, peer, addrs, message.clone(), Stage::Lookup);
            }
            if finished {
                self.lookup_done(id);
            }
        } else if q.storing.as_ref().is_some_and(HashSet::is_empty) {
            self.finish(id);
        }
    }

    /// The lookup is over: finish the query or start its store phase.
    fn lookup_done(&mut self, id: QueryId) {
        let Some(q) = self.queries.active.get_mut(&id) else {
            return;
        };
        if let Kind::Trace(t) = &mut q.kind
            && !t.may_answer(&q.lookup, Instant::now())
        {
            return;
        }
        let store = match &q.kind {
            Kind::Put(p) => Some(p.store_request()),
            Kind::Provide(p) => Some(p.store_request(&self.swarm)),
            _ => None,
        };
        let Some(message) = store else {
            if let Some(Kind::Bootstrap(_)) = self.queries.active.get(&id).map(|q| &q.kind) {
                self.bootstrap_step(id);
            } else {
                self.finish(id);
            }
            return;
        };
        let targets = q.lookup.answered_closest(self.settings.k);
        q.storing = Some(targets.iter().map(|(p, _)| *p).collect());
        if let Kind::Put(p) = &mut q.kind {
            p.wanted = targets.len();
        }
        if let Kind::Provide(p) = &mut q.kind {
            p.announced = targets.len();
        }
        if targets.is_empty() {
            self.finish(id);
            return;
        }
        for (peer, addrs) in targets {
            self.send(id, peer, addrs, message.clone(), Stage::Store);
        }
    }

    /// Ends a query: its kind answers whoever waits.
    pub(super) fn finish(&mut self, id: QueryId) {
        let Some(q) = self.queries.active.remove(&id) else {
            return;
        };
        self.queries.sent.retain(|_, (qid, _, _)| *qid != id);
        let Query {
            lookup,
            kind,
            started,
            ..
        } = q;
        if let Some(m) = &self.metrics {
            let name = match &kind {
                Kind::Get(_) => "get",
                Kind::Put(_) => "put",
                Kind::Provide(_) => "provide",
                Kind::Providers(_) => "providers",
                Kind::Bootstrap(_) => "bootstrap",
                Kind::FindPeer(_) => "find_peer",
                Kind::Trace(_) => "trace",
            };
            m.query(name, started.elapsed(), lookup.steps().len());
        }
        match kind {
            Kind::Get(g) => self.get_done(g, &lookup),
            Kind::Put(p) => self.put_network_done(id, p, &lookup),
            Kind::Provide(p) => p.done(),
            Kind::Providers(p) => p.done(&lookup),
            Kind::Bootstrap(b) => self.bootstrap_done(b),
            Kind::FindPeer(f) => self.find_peer_done(f, &lookup),
            Kind::Trace(t) => self.trace_done(t, &lookup),
        }
    }

    /// Closer peers named in an answer, with the addresses worth dialling.
    fn closer_peers(&self, from: &PeerId, m: &Message) -> Vec<PeerAddrs> {
        let loopback_ok = self.peers.reached_over_loopback(from);
        m.closer_peers
            .iter()
            .filter_map(|p| p.decode())
            .map(|mut p| {
                p.addrs.retain(|a| self.reach.keeps(a, loopback_ok));
                p
            })
            .collect()
    }

    /// A peer answered one of our requests.
    pub(super) fn on_response(
        &mut self,
        rid: OutboundRequestId,
        peer: PeerId,
        response: Option<Message>,
    ) {
        let Some((id, _, stage)) = self.queries.sent.remove(&rid) else {
            return;
        };
        self.peer_answered(&peer);
        let Some(mut q) = self.queries.active.remove(&id) else {
            return;
        };
        let now = Instant::now();
        match stage {
            Stage::Lookup => {
                let message = response.unwrap_or_default();
                let closer = self.closer_peers(&peer, &message);
                let had_value = match &mut q.kind {
                    Kind::Get(g) => self.get_answer(g, &peer, &message, &mut q.lookup),
                    Kind::Providers(p) => p.answer(&peer, &message),
                    Kind::FindPeer(f) => {
                        let named = f.answer(&closer);
                        if named {
                            q.lookup.stop();
                        }
                        named
                    }
                    Kind::Trace(t) => self.trace_answer(t, &peer, &message, &mut q.lookup),
                    _ => false,
                };
                q.lookup.on_answer(&peer, closer, had_value, now);
            }
            Stage::Store => {
                if let Some(s) = &mut q.storing {
                    s.remove(&peer);
                }
                if let Kind::Put(p) = &mut q.kind
                    && let Some(newer) = p.on_store_answer(&peer, response.as_ref())
                {
                    self.learn_newer(newer, peer);
                }
            }
        }
        self.queries.active.insert(id, q);
        self.advance(id);
    }

    /// One of our requests failed.
    pub(super) fn on_failure(
        &mut self,
        rid: OutboundRequestId,
        peer: PeerId,
        error: &OutboundFailure,
    ) {
        let Some((id, _, stage)) = self.queries.sent.remove(&rid) else {
            return;
        };
        let why = self.failure_text(error);
        debug!(%peer, error = %why, "request failed");
        if let Some(m) = &self.metrics {
            m.request_failed(match error {
                e if super::admit::no_common_protocol(e) => "unsupported_protocols",
                OutboundFailure::DialFailure => "dial_failure",
                OutboundFailure::Timeout => "timeout",
                OutboundFailure::ConnectionClosed => "connection_closed",
                OutboundFailure::UnsupportedProtocols => "unsupported_protocols",
                OutboundFailure::Io(_) => "io",
            });
        }
        self.peer_failed(&peer, error);
        let Some(q) = self.queries.active.get_mut(&id) else {
            return;
        };
        match stage {
            Stage::Lookup => {
                if let Kind::Get(g) = &mut q.kind
                    && why.contains("over the limit")
                {
                    g.oversized += 1;
                }
                q.lookup.on_failure(&peer, why, Instant::now());
            }
            Stage::Store => {
                if let Some(s) = &mut q.storing {
                    s.remove(&peer);
                }
                if let Kind::Put(p) = &mut q.kind {
                    p.unreachable += 1;
                }
            }
        }
        self.advance(id);
    }

    /// Every tick: lookup rounds that timed out move on; queries over
    /// their time limit end with what they have.
    pub(super) fn queries_tick(&mut self, now: Instant) {
        let timeout = self.settings.timings.query_timeout;
        let ids: Vec<QueryId> = self.queries.active.keys().copied().collect();
        for id in ids {
            let over = self
                .queries
                .active
                .get(&id)
                .is_some_and(|q| now.saturating_duration_since(q.started) >= timeout);
            if over && let Some(q) = self.queries.active.get_mut(&id) {
                q.lookup.stop();
                if let Some(s) = &mut q.storing {
                    if let Kind::Put(p) = &mut q.kind {
                        p.unreachable += s.len();
                    }
                    s.clear();
                }
            }
            self.advance(id);
        }
    }
}
