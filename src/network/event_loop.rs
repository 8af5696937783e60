//! The [`EventLoop`]: the one task that owns the [`Swarm`], the routing
//! table and the record store, so nothing is shared and nothing locks. It
//! takes [`Command`]s from [`Client`](super::Client)s and answers each once
//! its query says so; it serves peers' DHT requests; and it runs the DHT's
//! background jobs (republishing, replication, routing-table refresh).
//!
//! One file per concern: [`commands`] (what each command starts),
//! [`query`] (lookups in flight and their requests), [`get`], [`put`],
//! [`providers`] (what each kind of query does with answers), [`serve`]
//! (peers' requests), [`swarm`] (connections, identify, listeners),
//! [`join`] (bootstrap peers, rejoining, this node's own address), [`admit`]
//! (which peers enter the routing table: those serving one of our DHT
//! protocol names), [`jobs`] (timers), [`trace`] (a lookup whose requests
//! are the answer).

mod admit;
mod bootstrap;
mod commands;
mod connections;
mod find_peer;
mod get;
mod health;
mod jobs;
mod join;
mod listen;
mod local;
mod providers;
mod put;
mod query;
mod serve;
mod swarm;
mod trace;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::core::transport::ListenerId;
use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId, Swarm};
use tokio::sync::{mpsc, oneshot};
use tracing::info;

use super::behaviour::Behaviour;
use super::client::Command;
use super::peers::PeerBook;
use crate::config::Timings;
use crate::dht::protocols::KadProtocols;
use crate::dht::routing::RoutingTable;
use crate::error::{Error, StartError};
use crate::reports::Stats;
use crate::store::Limits;
use crate::store::Store;

/// How often the loop looks at its timers (lookup rounds, retries, jobs).
const TICK: Duration = Duration::from_millis(250);

/// The DHT's parameters, as configured.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Kademlia's k: bucket size and replication factor.
    pub k: usize,
    /// Kademlia's alpha: requests in flight per lookup round.
    pub alpha: usize,
    /// Record lifetimes and intervals.
    pub timings: Timings,
    /// Storage limits.
    pub limits: Limits,
}

/// What waits for a batch of writes to reach the disk.
enum Ack {
    /// A peer's PUT_VALUE: answered once its record is on disk.
    Inbound(
        libp2p::request_response::ResponseChannel<Option<crate::dht::wire::Message>>,
        Box<crate::dht::wire::Message>,
    ),
    /// This node's own put, by query.
    Own(query::QueryId),
    /// A local change (`delete`): answered with `.1` once on disk.
    Local(oneshot::Sender<Result<bool, Error>>, bool),
}

/// Owns the swarm; see the module docs.
pub struct EventLoop {
    swarm: Swarm<Behaviour>,
    /// This node's identity key: signs its owned records.
    signer: libp2p::identity::Keypair,
    commands: mpsc::Receiver<Command>,
    settings: Settings,
    kad_protocols: KadProtocols,
    store: Store,
    routing: RoutingTable,
    peers: PeerBook,
    join: join::Join,
    queries: query::Queries,
    jobs: jobs::Jobs,
    acks: BTreeMap<u64, Vec<Ack>>,
    own_puts: put::OwnPuts,
    failures: HashMap<PeerId, u32>,
    serve_log: serve::RefusalLog,
    stats: Stats,
    started: Instant,
    pending_listen: HashSet<ListenerId>,
    listening: Vec<Multiaddr>,
    pending_dial: HashMap<ConnectionId, oneshot::Sender<Result<PeerId, Error>>>,
    metrics: Option<crate::metrics::Recorder>,
    connection_failures: connections::Failures,
    /// Since when the node has had no peer (`None`: it has one).
    alone_since: Option<Instant>,
    reach: crate::address::Reach,
}

impl EventLoop {
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        signer: libp2p::identity::Keypair,
        commands: mpsc::Receiver<Command>,
        settings: Settings,
        kad_protocols: KadProtocols,
        store: Store,
        bootstrap: Vec<crate::bootstrap::Target>,
    ) -> Self {
        let local = *swarm.local_peer_id();
        let routing = RoutingTable::new(&local, settings.k);
        let join = join::Join::new(bootstrap, store.saved_peers().to_vec());
        let mut jobs = jobs::Jobs::new(&settings.timings);
        let restored: Vec<_> = store.originated().into_iter().map(|r| r.key).collect();
        jobs.restored(restored, store.provided_keys(), Instant::now());
        EventLoop {
            swarm,
            signer,
            commands,
            settings,
            kad_protocols,
            store,
            routing,
            peers: PeerBook::default(),
            join,
            queries: query::Queries::default(),
            jobs,
            acks: BTreeMap::new(),
            own_puts: put::OwnPuts::new(),
            failures: HashMap::new(),
            serve_log: serve::RefusalLog::new(serve::LOG_EVERY),
            stats: Stats::default(),
            started: Instant::now(),
            pending_listen: HashSet::new(),
            listening: Vec::new(),
            pending_dial: HashMap::new(),
            metrics: None,
            connection_failures: connections::Failures::default(),
            alone_since: Some(Instant::now()),
            reach: crate::address::Reach::default(),
        }
    }

    /// How the node joins: `"create"`, `"join"` or `"rejoin"` (it has
    /// peers saved from its last run).
    pub(crate) fn join_mode(&self) -> &'static str {
        self.join.mode()
    }

    /// Records into `recorder` from now on (`--metrics`).
    pub(crate) fn set_metrics(&mut self, recorder: crate::metrics::Recorder) {
        self.metrics = Some(recorder);
    }

    /// Advertises and keeps only the addresses `reach` admits
    /// (`--announce-subnet`); set before [`EventLoop::listen`].
    pub(crate) fn set_reach(&mut self, reach: crate::address::Reach) {
        self.reach = reach;
    }

    /// Starts listening on `addrs` and returns once every listener has
    /// reported its addresses, so callers learn real ports (port 0).
    pub(crate) async fn listen(
        &mut self,
        addrs: &[Multiaddr],
        announce: &[Multiaddr],
        timeout: Duration,
    ) -> Result<Vec<Multiaddr>, StartError> {
        listen::listen(self, addrs, announce, timeout).await?;
        self.join.saved_in_reach(&self.reach);
        let hosts = super::hosts_file::HostsFile::read();
        let named = self.join.named_targets();
        let resolved = listen::resolve(&named).await;
        self.join
            .drop_own_addresses(&self.listening, &hosts, &resolved);
        Ok(self.listen_addrs())
    }

    /// Listen addresses with `/p2p/<our id>`.
    fn listen_addrs(&self) -> Vec<Multiaddr> {
        let me = *self.swarm.local_peer_id();
        self.listening
            .iter()
            .map(|a| crate::address::with_p2p(a, me))
            .collect()
    }

    /// Runs until a `Shutdown` command arrives or every `Client` is dropped.
    pub async fn run(mut self) {
        self.join_start();
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
                event = self.store.disk_event() => self.on_disk_event(event),
                event = self.swarm.select_next_some() => self.handle_event(event),
                _ = tick.tick() => self.on_tick(),
            }
        }
    }

    fn shutdown(&mut self) {
        self.save_routing_table();
        self.store.close();
        info!("node stopped");
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        self.join_tick();
        self.queries_tick(now);
        self.jobs_tick(now);
        self.health_tick(now);
        self.clashes_tick(now);
        self.store.retry_failed(now);
        if self.metrics.is_some() {
            let s = self.snapshot();
            if let Some(m) = &mut self.metrics {
                m.refresh(&s);
            }
        }
    }

    /// A batch of writes reached the disk (or failed): answer who waited.
    fn on_disk_event(&mut self, event: crate::store::DiskEvent) {
        self.store.on_disk_event(&event);
        let (done, error) = match &event {
            crate::store::DiskEvent::Committed(upto) => (*upto, None),
            crate::store::DiskEvent::Failed { last, error, .. } => (*last, Some(error.clone())),
        };
        let ready: Vec<u64> = self.acks.range(..=done).map(|(k, _)| *k).collect();
        for seq in ready {
            for ack in self.acks.remove(&seq).unwrap_or_default() {
                match ack {
                    Ack::Inbound(channel, response) => {
                        // Not on disk: no acknowledgement (the sender counts a failure).
                        if error.is_none() {
                            let _ = self
                                .swarm
                                .behaviour_mut()
                                .kad
                                .send_response(channel, Some(*response));
                        }
                    }
                    Ack::Own(q) => self.own_write_done(q, error.clone()),
                    Ack::Local(reply, answer) => {
                        let _ = reply.send(self.local_write_done(answer, error.clone()));
                    }
                }
            }
        }
    }

    /// Waits for the disk before `ack` is answered (`seq` from the store),
    /// or answers now when nothing needs writing.
    fn ack_after(&mut self, seq: Option<u64>, ack: Ack) {
        match seq {
            Some(seq) => self.acks.entry(seq).or_default().push(ack),
            None => match ack {
                Ack::Inbound(channel, response) => {
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .kad
                        .send_response(channel, Some(*response));
                }
                Ack::Own(q) => self.own_write_done(q, None),
                Ack::Local(reply, answer) => {
                    let _ = reply.send(Ok(answer));
                }
            },
        }
    }

    /// The node's counters, as of now.
    fn snapshot(&mut self) -> Stats {
        let mut s = self.stats.clone();
        s.connected_peers = self.swarm.connected_peers().count();
        s.connections = self
            .swarm
            .network_info()
            .connection_counters()
            .num_established() as usize;
        s.routing_table = self.routing.len();
        s.records = self.store.record_count();
        s.record_bytes = self.store.record_bytes();
        s.records_corrupt = self.store.load_report().corrupt;
        s.provided = self.store.provided_count();
        s.provider_records = self.store.provider_record_count();
        s.queries_active = self.queries.len();
        s.unflushed = self.store.unflushed();
        s.uptime_secs = self.started.elapsed().as_secs();
        s.metrics = self.metrics.as_ref().map(|m| m.addr());
        s.records_limit = self.settings.limits.max_records;
        s.store_bytes = self.store.file_bytes();
        s.store_write_errors = self.store.write_errors();
        s.store_failing = self.store.failing().map(str::to_string);
        let load = self.store.load_report();
        s.store_unknown_entries = load.unknown;
        s.store_quarantined = load.corrupt;
        s.k = self.settings.k;
        s.alpha = self.settings.alpha;
        s
    }

    /// Saves the routing table's peers, to rejoin through after a restart.
    fn save_routing_table(&mut self) {
        let peers = self
            .routing
            .entries()
            .filter(|e| !e.addrs.is_empty())
            .map(|e| (e.peer, e.addrs.clone()))
            .collect();
        self.store.save_peers(peers);
    }
}
