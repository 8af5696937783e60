//! `trace`: a query whose answer is its own lookup, request by request.
//!
//! How it observes the lookup: p2pnode does not use libp2p-kad (which runs
//! its lookups inside the behaviour and reports only their results); the
//! event loop issues every `/ipfs/kad/1.0.0` request of a lookup itself,
//! through libp2p's request-response with p2pnode's kad-dht codec, to the
//! peers the [`Lookup`] names, alpha at a time, and feeds each answer or
//! failure back to it (see [`super::query`]). The lookup records every
//! request as a step (round, peer, XOR distance, round-trip time, the
//! peers returned), so the trace is the real wire traffic to real peers,
//! go-libp2p and py-libp2p ones included, stopped by Kademlia's own rule.
//!
//! Unlike `get`, a trace never answers from this node's store. A value
//! trace sends GET_VALUE and stops at the first peer holding a valid copy
//! (FIND_VALUE); a peer trace (FIND_NODE) and a provider trace
//! (GET_PROVIDERS) run until the k closest peers known have answered. Once
//! the lookup is over, the trace waits up to [`ROUND_TIMEOUT`] for the
//! requests still running, so each one is shown with its outcome.

use std::collections::BTreeSet;
use std::time::Instant;

use libp2p::PeerId;
use tokio::sync::oneshot;

use super::EventLoop;
use super::query::Kind;
use crate::dht::lookup::{Lookup, ROUND_TIMEOUT};
use crate::dht::wire::{Message, MessageType};
use crate::error::Error;
use crate::reports::trace::{self, TraceReport, TraceTarget};

/// A `trace` in flight.
pub(super) struct TraceQuery {
    target: TraceTarget,
    reply: oneshot::Sender<Result<TraceReport, Error>>,
    /// The first peer whose answer held what is looked for.
    holder: Option<PeerId>,
    /// The value it returned (value traces).
    value: Option<Vec<u8>>,
    providers: BTreeSet<PeerId>,
    /// When the lookup was first seen over.
    ended: Option<Instant>,
}

impl TraceQuery {
    /// Whether the trace may answer: its lookup is over and no request
    /// runs, or [`ROUND_TIMEOUT`] has passed since the lookup ended.
    pub fn may_answer(&mut self, lookup: &Lookup, now: Instant) -> bool {
        let ended = *self.ended.get_or_insert(now);
        !lookup.has_waiting() || now.saturating_duration_since(ended) >= ROUND_TIMEOUT
    }
}

impl EventLoop {
    /// Starts a trace of `target`.
    pub(super) fn start_trace(
        &mut self,
        target: TraceTarget,
        reply: oneshot::Sender<Result<TraceReport, Error>>,
    ) {
        let refused = match &target {
            TraceTarget::Value(key) | TraceTarget::Providers(key) => {
                self.store.check_key(key).err().map(Error::Refused)
            }
            TraceTarget::Peer(p) if p == self.swarm.local_peer_id() => Some(Error::Invalid(
                "that is this node's own peer ID: trace another peer".into(),
            )),
            TraceTarget::Peer(_) => None,
        };
        let empty = self.routing.is_empty().then(|| {
            Error::Network(
                "no peers to ask: the routing table is empty (join a network first)".into(),
            )
        });
        if let Some(e) = refused.or(empty) {
            let _ = reply.send(Err(e));
            return;
        }
        let kind = match &target {
            TraceTarget::Value(_) => MessageType::GetValue,
            TraceTarget::Peer(_) => MessageType::FindNode,
            TraceTarget::Providers(_) => MessageType::GetProviders,
        };
        let bytes = target.key_bytes();
        let message = Message::request(kind, bytes.clone());
        let query = TraceQuery {
            target,
            reply,
            holder: None,
            value: None,
            providers: BTreeSet::new(),
            ended: None,
        };
        let id = self.new_query(&bytes, message, Kind::Trace(query));
        self.advance(id);
    }

    /// An answer to one of the trace's requests; true when it held what
    /// the trace looks for. A value trace stops at the first such answer.
    pub(super) fn trace_answer(
        &mut self,
        t: &mut TraceQuery,
        peer: &PeerId,
        m: &Message,
        lookup: &mut Lookup,
    ) -> bool {
        let found = match &t.target {
            TraceTarget::Value(key) => match self.record_in_answer(key, m) {
                Ok(Some(record)) => {
                    if t.holder.is_none() {
                        t.value = Some(record.value);
                    }
                    lookup.stop();
                    true
                }
                _ => false,
            },
            TraceTarget::Peer(wanted) => {
                peer == wanted
                    || m.closer_peers
                        .iter()
                        .filter_map(|p| p.decode())
                        .any(|p| p.peer == *wanted)
            }
            TraceTarget::Providers(_) => {
                let named: Vec<PeerId> = m
                    .provider_peers
                    .iter()
                    .filter_map(|p| p.decode())
                    .map(|p| p.peer)
                    .collect();
                t.providers.extend(&named);
                !named.is_empty()
            }
        };
        if found && t.holder.is_none() {
            t.holder = Some(*peer);
        }
        found
    }

    /// The trace is over: answer with its rounds.
    pub(super) fn trace_done(&mut self, t: TraceQuery, lookup: &Lookup) {
        let now = Instant::now();
        let rounds = trace::rounds(lookup, now);
        let holder = t.holder.and_then(|h| {
            let round = lookup.steps().iter().find(|s| s.peer == h)?.round;
            Some((h, round))
        });
        let addrs = match &t.target {
            TraceTarget::Peer(p) => lookup.addrs_of(p).map(<[_]>::to_vec).unwrap_or_default(),
            _ => Vec::new(),
        };
        let report = TraceReport {
            point: *lookup.target(),
            from: *self.swarm.local_peer_id(),
            k: self.settings.k,
            alpha: self.settings.alpha,
            rounds,
            holder,
            value: t.value,
            providers: t.providers.into_iter().collect(),
            addrs,
            elapsed: now.saturating_duration_since(lookup.started()),
            target: t.target,
        };
        let _ = t.reply.send(Ok(report));
    }
}
