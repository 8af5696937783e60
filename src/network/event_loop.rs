//! The [`EventLoop`]: the one task that owns the [`Swarm`]. It takes
//! [`Command`]s from [`Client`](super::Client)s, starts Kademlia queries and
//! answers each command once its query says so; and it reacts to the
//! network (identify feeds addresses into Kademlia, bootstrap peers are
//! retried with backoff, inbound records are validated before storing).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::core::ConnectedPoint;
use libp2p::core::transport::ListenerId;
use libp2p::kad::store::RecordStore;
use libp2p::kad::{self, QueryId, QueryResult, Record, RecordKey};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{ConnectionId, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, identify, ping};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, trace, warn};

use super::behaviour::{Behaviour, BehaviourEvent, speaks_kad};
use super::client::*;
use super::peers::PeerBook;
use super::retry::Retries;
use crate::config::Limits;
use crate::error::{Error, StartError};
use crate::keys;
use crate::store::Store;

/// How often the loop looks at timers (bootstrap retries, store flushes).
const TICK: Duration = Duration::from_millis(500);

/// How many restored records (or provided keys) one tick republishes, so a
/// large store does not start thousands of queries at once.
const REPUBLISH_PER_TICK: usize = 16;

/// Something this node published before it was restarted.
enum Restored {
    Record(Record),
    Provider(RecordKey),
}

struct PendingPut {
    reply: oneshot::Sender<Result<PutReport, Error>>,
    key: RecordKey,
    quorum: Quorum,
    started: Instant,
}

struct PendingGet {
    key: RecordKey,
    reply: oneshot::Sender<Result<GetReport, Error>>,
    quorum: Quorum,
    started: Instant,
    values: Vec<Found>,
    copies: usize,
}

struct PendingProviders {
    key: RecordKey,
    reply: oneshot::Sender<Result<ProvidersReport, Error>>,
    started: Instant,
    found: HashSet<PeerId>,
}

/// Owns the swarm; see the module docs.
pub struct EventLoop {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    limits: Limits,
    started: Instant,
    peers: PeerBook,
    retries: Retries,
    pending_listen: HashSet<ListenerId>,
    pending_put: HashMap<QueryId, PendingPut>,
    pending_get: HashMap<QueryId, PendingGet>,
    pending_provide: HashMap<QueryId, (oneshot::Sender<Result<Duration, Error>>, Instant)>,
    pending_providers: HashMap<QueryId, PendingProviders>,
    pending_bootstrap: HashMap<QueryId, Vec<oneshot::Sender<Result<usize, Error>>>>,
    pending_dial: HashMap<ConnectionId, oneshot::Sender<Result<PeerId, Error>>>,
    stats: Stats,
    /// What the store held from this node's own publishing at start:
    /// republished once the node has joined (its first bootstrap finished).
    restored: VecDeque<Restored>,
    joined: bool,
    /// Whether the first join attempt is over (see `Client::wait_joined`),
    /// and who waits for it.
    join_settled: bool,
    join_waiters: Vec<oneshot::Sender<()>>,
    /// Prometheus metrics, with `--metrics`.
    metrics: Option<crate::metrics::Recorder>,
}

impl EventLoop {
    pub(crate) fn new(
        mut swarm: Swarm<Behaviour>,
        commands: mpsc::Receiver<Command>,
        limits: Limits,
        retries: Retries,
    ) -> Self {
        let retries_have_targets = retries.has_targets();
        let store = swarm.behaviour_mut().kademlia.store_mut();
        let restored: VecDeque<Restored> = store
            .originated()
            .into_iter()
            .map(Restored::Record)
            .chain(store.provided_keys().into_iter().map(Restored::Provider))
            .collect();
        EventLoop {
            swarm,
            commands,
            limits,
            started: Instant::now(),
            peers: PeerBook::default(),
            retries,
            pending_listen: HashSet::new(),
            pending_put: HashMap::new(),
            pending_get: HashMap::new(),
            pending_provide: HashMap::new(),
            pending_providers: HashMap::new(),
            pending_bootstrap: HashMap::new(),
            pending_dial: HashMap::new(),
            stats: Stats::default(),
            restored,
            joined: false,
            join_settled: !retries_have_targets,
            join_waiters: Vec::new(),
            metrics: None,
        }
    }

    /// Records into `recorder` from now on (`--metrics`).
    pub(crate) fn set_metrics(&mut self, recorder: crate::metrics::Recorder) {
        self.metrics = Some(recorder);
    }

    /// Starts listening on `addrs` and returns once every listener has
    /// reported an address, so callers learn real ports (port 0).
    pub(crate) async fn listen(
        &mut self,
        addrs: &[Multiaddr],
        announce: &[Multiaddr],
        timeout: Duration,
    ) -> Result<Vec<Multiaddr>, StartError> {
        for addr in addrs {
            let id = self.swarm.listen_on(addr.clone()).map_err(|e| {
                let mut reason = error_chain(&e).trim_start_matches([':', ' ']).to_string();
                if reason.contains("in use") {
                    reason
                        .push_str(" (another node on this port? pick one with --port or --listen)");
                }
                StartError::Listen {
                    addr: addr.to_string(),
                    reason,
                }
            })?;
            self.pending_listen.insert(id);
        }
        for addr in announce {
            self.swarm.add_external_address(addr.clone());
        }
        let deadline = tokio::time::Instant::now() + timeout;
        while !self.pending_listen.is_empty() {
            let event = tokio::time::timeout_at(deadline, self.swarm.select_next_some())
                .await
                .map_err(|_| StartError::Setup("listeners did not start in time".into()))?;
            match event {
                SwarmEvent::ListenerClosed {
                    listener_id,
                    reason: Err(e),
                    addresses,
                } if self.pending_listen.contains(&listener_id) => {
                    return Err(StartError::Listen {
                        addr: format!("{addresses:?}"),
                        reason: e.to_string(),
                    });
                }
                event => self.handle_event(event),
            }
        }
        Ok(self.listen_addrs())
    }

    /// Listen addresses with `/p2p/<our id>`.
    fn listen_addrs(&self) -> Vec<Multiaddr> {
        let me = *self.swarm.local_peer_id();
        self.swarm
            .listeners()
            .map(|a| a.clone().with_p2p(me).unwrap_or_else(|a| a))
            .collect()
    }

    /// Runs until a `Shutdown` command arrives or every `Client` is dropped.
    pub async fn run(mut self) {
        self.retries.dial_due(&mut self.swarm);
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown { reply }) => {
                        self.shutdown();
                        let _ = reply.send(());
                        return;
                    }
                    Some(command) => self.handle_command(command),
                    None => {
                        self.shutdown();
                        return;
                    }
                },
                event = self.swarm.select_next_some() => self.handle_event(event),
                _ = tick.tick() => self.on_tick(),
            }
        }
    }

    fn shutdown(&mut self) {
        if let Err(e) = self.kad().store_mut().flush() {
            warn!(error = %e, "flushing the record store failed");
        }
        info!("node stopped");
    }

    fn on_tick(&mut self) {
        self.retries.dial_due(&mut self.swarm);
        if self.metrics.is_some() {
            let s = self.snapshot();
            if let Some(m) = &mut self.metrics {
                m.refresh(&s);
            }
        }
        self.kad().store_mut().flush_logged();
        if self.joined && !self.restored.is_empty() {
            self.republish_restored();
        }
    }

    /// Announces again, a few per tick, the records and provider records
    /// this node published before it was restarted: the network may have
    /// dropped them while it was away.
    fn republish_restored(&mut self) {
        for _ in 0..REPUBLISH_PER_TICK {
            let started = match self.restored.pop_front() {
                None => return,
                Some(Restored::Record(r)) => self.kad().put_record(r, kad::Quorum::One).map(drop),
                Some(Restored::Provider(key)) => self.kad().start_providing(key).map(drop),
            };
            match started {
                Ok(()) => self.stats.queries_started += 1,
                Err(e) => warn!(error = %e, "cannot republish a restored record"),
            }
        }
    }

    /// How many peers the routing table holds.
    fn routing_table_len(&mut self) -> usize {
        self.kad().kbuckets().map(|b| b.num_entries()).sum()
    }

    fn kad(&mut self) -> &mut kad::Behaviour<Store> {
        &mut self.swarm.behaviour_mut().kademlia
    }

    fn check_key(&self, key: &RecordKey) -> Result<(), Error> {
        let len = key.as_ref().len();
        if len > self.limits.max_key_bytes {
            return Err(Error::Invalid(format!(
                "the key is {len} bytes; the limit is {} (--max-key-size)",
                self.limits.max_key_bytes
            )));
        }
        Ok(())
    }

    fn handle_command(&mut self, command: Command) {
        self.stats.commands_served += 1;
        if let Some(m) = &self.metrics {
            m.command(crate::metrics::command_name(&command));
        }
        match command {
            Command::Put {
                key,
                value,
                quorum,
                reply,
            } => self.start_put(key, value, quorum, reply),
            Command::Get { key, quorum, reply } => {
                if let Err(e) = self.check_key(&key) {
                    let _ = reply.send(Err(e));
                    return;
                }
                self.stats.queries_started += 1;
                let id = self.kad().get_record(key.clone());
                self.pending_get.insert(
                    id,
                    PendingGet {
                        key,
                        reply,
                        quorum,
                        started: Instant::now(),
                        values: Vec::new(),
                        copies: 0,
                    },
                );
            }
            Command::Provide { key, reply } => {
                if let Err(e) = self.check_key(&key) {
                    let _ = reply.send(Err(e));
                    return;
                }
                match self.kad().start_providing(key) {
                    Ok(id) => {
                        self.stats.queries_started += 1;
                        self.pending_provide.insert(id, (reply, Instant::now()));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(Error::Invalid(format!("cannot provide: {e}"))));
                    }
                }
            }
            Command::Providers { key, reply } => {
                if let Err(e) = self.check_key(&key) {
                    let _ = reply.send(Err(e));
                    return;
                }
                self.stats.queries_started += 1;
                let id = self.kad().get_providers(key.clone());
                self.pending_providers.insert(
                    id,
                    PendingProviders {
                        key,
                        reply,
                        started: Instant::now(),
                        found: HashSet::new(),
                    },
                );
            }
            Command::Peers { reply } => {
                let _ = reply.send(self.peers.list());
            }
            Command::Info { reply } => {
                let me = *self.swarm.local_peer_id();
                let info = NodeInfo {
                    peer: me,
                    listen: self.listen_addrs(),
                    external: self.swarm.external_addresses().cloned().collect(),
                };
                let _ = reply.send(info);
            }
            Command::Routing { reply } => {
                let buckets = self
                    .kad()
                    .kbuckets()
                    .map(|b| Bucket {
                        index: b.range().0.ilog2().unwrap_or(0),
                        entries: b
                            .iter()
                            .map(|e| {
                                (
                                    *e.node.key.preimage(),
                                    e.node.value.iter().cloned().collect(),
                                    matches!(e.status, kad::NodeStatus::Connected),
                                )
                            })
                            .collect(),
                    })
                    .collect();
                let _ = reply.send(buckets);
            }
            Command::Closest { key, reply } => {
                let target = kad::KBucketKey::new(key.to_vec());
                let close = self
                    .kad()
                    .get_closest_local_peers(&target)
                    .take(kad::K_VALUE.get())
                    .map(|k| {
                        let d = target.distance(&k);
                        Close {
                            peer: *k.preimage(),
                            distance: format!("{:064x}", d.0),
                            bucket: d.ilog2(),
                        }
                    })
                    .collect();
                let _ = reply.send(close);
            }
            Command::Dial { target, reply } => {
                if target.peer == Some(*self.swarm.local_peer_id()) {
                    let _ = reply.send(Err(Error::Invalid(
                        "that is this node's own address".into(),
                    )));
                    return;
                }
                let opts = match target.peer {
                    Some(peer) => {
                        self.kad().add_address(&peer, target.addr.clone());
                        DialOpts::peer_id(peer)
                            .addresses(vec![target.addr.clone()])
                            .build()
                    }
                    None => DialOpts::unknown_peer_id()
                        .address(target.addr.clone())
                        .build(),
                };
                let id = opts.connection_id();
                match self.swarm.dial(opts) {
                    Ok(()) => {
                        self.pending_dial.insert(id, reply);
                    }
                    Err(e) => {
                        let _ = reply.send(Err(Error::Network(format!(
                            "cannot dial {target}: {}",
                            error_chain(&e)
                        ))));
                    }
                }
            }
            Command::Bootstrap { reply } => {
                self.retries.reset(&mut self.swarm);
                match self.kad().bootstrap() {
                    Ok(id) => {
                        self.stats.queries_started += 1;
                        self.pending_bootstrap.entry(id).or_default().push(reply);
                    }
                    Err(_) => {
                        let _ = reply.send(Err(Error::Network(
                            "no known peers to bootstrap from (dial one, or give --bootstrap)"
                                .into(),
                        )));
                    }
                }
            }
            Command::Stats { reply } => {
                let _ = reply.send(self.snapshot());
            }
            Command::WaitJoined { reply } => {
                if self.join_settled {
                    let _ = reply.send(());
                } else {
                    self.join_waiters.push(reply);
                }
            }
            Command::Shutdown { reply } => {
                // Handled in `run`; kept here so the match is complete.
                let _ = reply.send(());
            }
        }
    }

    fn start_put(
        &mut self,
        key: RecordKey,
        value: Vec<u8>,
        quorum: Quorum,
        reply: oneshot::Sender<Result<PutReport, Error>>,
    ) {
        if let Err(e) = self.check_key(&key) {
            let _ = reply.send(Err(e));
            return;
        }
        if value.len() > self.limits.max_value_bytes {
            let _ = reply.send(Err(Error::Invalid(format!(
                "the value is {} bytes; the limit is {} (--max-value-size)",
                value.len(),
                self.limits.max_value_bytes
            ))));
            return;
        }
        let record = Record::new(key.clone(), value);
        // Ask every one of the k closest peers, so the reply can say how many
        // really stored it; the user's quorum decides success.
        match self.kad().put_record(record, kad::Quorum::All) {
            Ok(id) => {
                self.stats.queries_started += 1;
                self.pending_put.insert(
                    id,
                    PendingPut {
                        reply,
                        key,
                        quorum,
                        started: Instant::now(),
                    },
                );
            }
            Err(e) => {
                let _ = reply.send(Err(Error::Invalid(format!("cannot store locally: {e}"))));
            }
        }
    }

    /// The counters and the state they describe, as `stats` shows them.
    fn snapshot(&mut self) -> Stats {
        let mut s = self.stats.clone();
        s.connected_peers = self.swarm.connected_peers().count();
        s.connections = self
            .swarm
            .network_info()
            .connection_counters()
            .num_established() as usize;
        s.routing_table = self.routing_table_len();
        s.queries_active = self.kad().iter_queries().count();
        s.records = self.kad().store_mut().record_count();
        s.provided = self.kad().store_mut().provided_count();
        s.unflushed = self.kad().store_mut().unflushed();
        s.uptime_secs = self.started.elapsed().as_secs();
        s.metrics = self.metrics.as_ref().map(|m| m.addr());
        s
    }

    pub(crate) fn handle_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        if let Some(m) = &self.metrics {
            m.record(&event);
        }
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Kademlia(e)) => self.on_kad(e),
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
                // A concrete interface address (never 0.0.0.0): others may dial it.
                self.swarm.add_external_address(address);
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.swarm.remove_external_address(&address);
            }
            SwarmEvent::ListenerError { error, .. } => warn!(error = %error, "listener error"),
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
                );
                if let Some(reply) = self.pending_dial.remove(&connection_id) {
                    let _ = reply.send(Ok(peer_id));
                }
                if let ConnectedPoint::Dialer { address, .. } = &endpoint {
                    let addr = strip_p2p(address.clone());
                    if self.retries.connected(connection_id) {
                        info!(peer = %peer_id, %addr, "joined through bootstrap peer");
                        self.kad().add_address(&peer_id, addr);
                        // A full bootstrap (a lookup per bucket) only when
                        // this node knows nobody else: at the first join, or
                        // after losing its whole routing table. A node that
                        // merely reconnects still knows its neighbourhood, and
                        // a thousand nodes re-bootstrapping at once is a storm.
                        if self.routing_table_len() <= 1 && self.kad().bootstrap().is_ok() {
                            self.stats.queries_started += 1;
                        }
                    }
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                cause,
                ..
            } => {
                self.peers.closed(peer_id, connection_id);
                // `cause` is None when this node closed the connection itself
                // (idle, or shutting down): nothing was lost, the routing
                // table still knows where its peers are.
                if let Some(cause) = cause
                    && self.swarm.connected_peers().next().is_none()
                    && self.retries.has_targets()
                {
                    warn!(last = %error_chain(&cause), "lost every peer; dialling the bootstrap peers again");
                    self.retries.reset(&mut self.swarm);
                }
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                peer_id,
                error,
            } => {
                if let Some(reply) = self.pending_dial.remove(&connection_id) {
                    let _ = reply.send(Err(Error::Network(format!(
                        "dial failed: {}",
                        error_chain(&error)
                    ))));
                }
                if self.retries.failed(connection_id, &error_chain(&error)) {
                    // Unreachable for now: retried in the background; don't hold the user.
                    self.settle_join();
                } else {
                    debug!(peer = ?peer_id, error = %error, "outgoing connection failed");
                }
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                debug!(error = %error, "incoming connection failed");
            }
            other => trace!(event = ?other, "swarm event"),
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
        let loopback_ok = self.peers.reached_over_loopback(&peer_id);
        for addr in info.listen_addrs {
            if usable(&addr, loopback_ok) {
                self.kad().add_address(&peer_id, strip_p2p(addr));
            }
        }
    }

    fn on_kad(&mut self, event: kad::Event) {
        match event {
            kad::Event::OutboundQueryProgressed {
                id,
                result,
                stats,
                step,
            } => self.on_query(id, result, stats, step),
            kad::Event::InboundRequest { request } => {
                self.stats.requests_served += 1;
                self.on_inbound(request)
            }
            kad::Event::RoutingUpdated {
                peer,
                is_new_peer: true,
                ..
            } => {
                debug!(%peer, "added to the routing table")
            }
            other => trace!(event = ?other, "kademlia event"),
        }
    }

    /// Stores what peers push, after checking it: records under `/pk/` must
    /// be the public key of the peer the key names (as go-libp2p checks).
    fn on_inbound(&mut self, request: kad::InboundRequest) {
        match request {
            kad::InboundRequest::PutRecord {
                source,
                record: Some(record),
                ..
            } => {
                if let Err(why) = validate(&record) {
                    self.stats.records_refused += 1;
                    warn!(peer = %source, key = %keys::display(&record.key), why, "refused a record");
                    return;
                }
                if let Err(e) = self.kad().store_mut().put(record) {
                    self.stats.records_refused += 1;
                    warn!(peer = %source, error = %e, "refused a record");
                }
            }
            kad::InboundRequest::AddProvider {
                record: Some(record),
            } => {
                if let Err(e) = self.kad().store_mut().add_provider(record) {
                    self.stats.records_refused += 1;
                    warn!(error = %e, "refused a provider record");
                }
            }
            _ => {}
        }
    }

    fn on_query(
        &mut self,
        id: QueryId,
        result: QueryResult,
        stats: kad::QueryStats,
        step: kad::ProgressStep,
    ) {
        match result {
            QueryResult::PutRecord(result) => {
                let Some(p) = self.pending_put.remove(&id) else {
                    return;
                };
                let replicated = match &result {
                    Ok(_) => kad::K_VALUE.get(),
                    Err(kad::PutRecordError::QuorumFailed { success, .. })
                    | Err(kad::PutRecordError::Timeout { success, .. }) => success.len(),
                };
                let quorum_met = match p.quorum {
                    Quorum::Default => true,
                    Quorum::N(n) => replicated >= n.get(),
                    // kad's `All` asks for k (20) peers, which a smaller
                    // network can never give: "all" is every one of the k
                    // closest peers known, as the lookup has just refreshed them.
                    Quorum::All => {
                        let target = kad::KBucketKey::new(p.key.to_vec());
                        let closest = self
                            .kad()
                            .get_closest_local_peers(&target)
                            .take(kad::K_VALUE.get())
                            .count();
                        result.is_ok() || (closest > 0 && replicated >= closest)
                    }
                };
                let _ = p.reply.send(Ok(PutReport {
                    key: p.key,
                    replicated,
                    quorum: p.quorum,
                    quorum_met,
                    elapsed: p.started.elapsed(),
                }));
            }
            QueryResult::GetRecord(result) => self.on_get(id, result, stats, step),
            QueryResult::StartProviding(result) => {
                if let Some((reply, started)) = self.pending_provide.remove(&id) {
                    let _ = reply.send(match result {
                        Ok(_) => Ok(started.elapsed()),
                        Err(e) => Err(Error::Network(e.to_string())),
                    });
                }
            }
            QueryResult::GetProviders(result) => {
                let Some(p) = self.pending_providers.get_mut(&id) else {
                    return;
                };
                if let Ok(kad::GetProvidersOk::FoundProviders { providers, .. }) = result {
                    p.found.extend(providers);
                }
                if step.last
                    && let Some(p) = self.pending_providers.remove(&id)
                {
                    let mut providers: Vec<PeerId> = p.found.into_iter().collect();
                    providers.sort();
                    let _ = p.reply.send(Ok(ProvidersReport {
                        key: p.key,
                        providers,
                        elapsed: p.started.elapsed(),
                    }));
                }
            }
            QueryResult::Bootstrap(result) => {
                if !step.last {
                    return;
                }
                if let Some(replies) = self.pending_bootstrap.remove(&id) {
                    let size = self.routing_table_len();
                    for reply in replies {
                        let _ = reply.send(match &result {
                            Ok(_) => Ok(size),
                            Err(e) => Err(Error::Network(e.to_string())),
                        });
                    }
                }
                debug!(ok = result.is_ok(), "bootstrap finished");
                self.settle_join();
                if !self.joined
                    && !self.restored.is_empty()
                    && self.kad().kbuckets().any(|b| b.num_entries() > 0)
                {
                    info!(
                        count = self.restored.len(),
                        "joined: republishing what this node published before its restart"
                    );
                    self.joined = true;
                }
            }
            other => trace!(result = ?other, "query progressed"),
        }
    }

    /// The first join attempt is over: release whoever waits for it.
    fn settle_join(&mut self) {
        self.join_settled = true;
        for waiter in self.join_waiters.drain(..) {
            let _ = waiter.send(());
        }
    }

    fn on_get(
        &mut self,
        id: QueryId,
        result: Result<kad::GetRecordOk, kad::GetRecordError>,
        stats: kad::QueryStats,
        step: kad::ProgressStep,
    ) {
        let Some(p) = self.pending_get.get_mut(&id) else {
            return;
        };
        if let Ok(kad::GetRecordOk::FoundRecord(found)) = &result {
            p.copies += 1;
            if !p.values.iter().any(|f| f.value == found.record.value) {
                p.values.push(Found {
                    value: found.record.value.clone(),
                    from: found.peer,
                });
            }
        }
        let wanted = match p.quorum {
            Quorum::Default => Some(1),
            Quorum::N(n) => Some(n.get()),
            Quorum::All => None,
        };
        let satisfied = wanted.is_some_and(|n| p.copies >= n);
        if !(satisfied || step.last) {
            return;
        }
        let Some(p) = self.pending_get.remove(&id) else {
            return;
        };
        if !step.last
            && let Some(mut q) = self.kad().query_mut(&id)
        {
            q.finish();
        }
        let quorum_met = match wanted {
            Some(n) => p.copies >= n,
            None => !p.values.is_empty(),
        };
        let _ = p.reply.send(Ok(GetReport {
            key: p.key,
            values: p.values,
            copies: p.copies,
            quorum_met,
            elapsed: p.started.elapsed(),
            peers_queried: stats.num_requests(),
        }));
    }
}

/// Checks a record a peer pushed to us, as other libp2p implementations do.
pub fn validate(record: &Record) -> Result<(), &'static str> {
    let key = record.key.as_ref();
    if let Some(id) = key.strip_prefix(b"/pk/") {
        let peer = PeerId::from_bytes(id).map_err(|_| "a /pk/ key must name a peer id")?;
        let public = libp2p::identity::PublicKey::try_decode_protobuf(&record.value)
            .map_err(|_| "a /pk/ record must hold a public key")?;
        if public.to_peer_id() != peer {
            return Err("the public key does not match the peer id in the /pk/ key");
        }
    }
    Ok(())
}

/// Whether an address a peer advertised is worth dialling: not unspecified
/// (`0.0.0.0`), not a relay circuit, and loopback only between loopback peers.
fn usable(addr: &Multiaddr, loopback_ok: bool) -> bool {
    addr.iter().all(|p| match p {
        Protocol::Ip4(ip) => !ip.is_unspecified() && (loopback_ok || !ip.is_loopback()),
        Protocol::Ip6(ip) => !ip.is_unspecified() && (loopback_ok || !ip.is_loopback()),
        Protocol::P2pCircuit => false,
        _ => true,
    })
}

fn strip_p2p(mut addr: Multiaddr) -> Multiaddr {
    if matches!(addr.iter().last(), Some(Protocol::P2p(_))) {
        addr.pop();
    }
    addr
}

/// An error with its sources, on one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !text.is_empty() && !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}
