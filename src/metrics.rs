//! Prometheus metrics (`--metrics ADDR`): libp2p's own metrics (connections,
//! Kademlia queries with their request counts and durations, identify,
//! ping) recorded from the event loop's swarm events, plus p2pnode's gauges
//! and counters (the `stats` essentials: routing table, records stored,
//! commands served). Served as OpenMetrics text over a minimal HTTP/1.1
//! server on the given address; off unless asked for.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use libp2p::metrics::Recorder as _;
use libp2p::swarm::SwarmEvent;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

use crate::error::StartError;
use crate::network::behaviour::BehaviourEvent;
use crate::network::reports::Stats;

/// The metric name prefix of p2pnode's own metrics (libp2p's use `libp2p_`).
const PREFIX: &str = "p2pnode";
/// Longest HTTP request head read from a scraper.
const MAX_REQUEST: usize = 8 * 1024;
/// How long one scrape connection may take.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);
/// The content type of the OpenMetrics text format.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    command: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueryLabels {
    kind: &'static str,
}

/// DHT query durations: 100 µs doubling to about 52 s, so a LAN lookup
/// (a few milliseconds) and a timed-out one both land in a real bucket.
fn duration_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.0001, 2.0, 20)
}

/// Requests per query: 1 doubling to 512.
fn request_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(1.0, 2.0, 10)
}

/// Gauges and counters mirroring [`Stats`].
#[derive(Default)]
struct StatsMetrics {
    connected_peers: Gauge,
    connections: Gauge,
    routing_table: Gauge,
    records: Gauge,
    provided: Gauge,
    queries_started: Counter,
    requests_served: Counter,
    records_refused: Counter,
    record_bytes: Gauge,
    records_corrupt: Gauge,
    connections_denied: Counter,
    uptime: Gauge,
}

/// What the event loop records into; dropping it stops the HTTP server.
pub struct Recorder {
    libp2p: libp2p::metrics::Metrics,
    commands: Family<CommandLabels, Counter>,
    refusals: Family<ReasonLabels, Counter>,
    query_seconds: Family<QueryLabels, Histogram>,
    query_requests: Family<QueryLabels, Histogram>,
    stats: StatsMetrics,
    /// The counters' values at the last refresh (they only grow).
    last: Stats,
    /// The address the server is bound to (the real port when 0 was asked).
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl Recorder {
    /// The address metrics are served on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Records a swarm event and the behaviour event inside it.
    pub fn record(&self, event: &SwarmEvent<BehaviourEvent>) {
        match event {
            // DHT requests are counted by p2pnode's own metrics.
            SwarmEvent::Behaviour(BehaviourEvent::Kad(_)) => {}
            SwarmEvent::Behaviour(BehaviourEvent::Identify(e)) => self.libp2p.record(e),
            SwarmEvent::Behaviour(BehaviourEvent::Ping(e)) => self.libp2p.record(e),
            other => self.libp2p.record(other),
        }
    }

    /// Records one finished DHT query of `kind`: how long it took and how
    /// many requests it sent.
    pub fn query(&self, kind: &'static str, elapsed: Duration, requests: usize) {
        let l = QueryLabels { kind };
        self.query_seconds
            .get_or_create(&l)
            .observe(elapsed.as_secs_f64());
        self.query_requests
            .get_or_create(&l)
            .observe(requests as f64);
    }

    /// Counts one record refused, by reason.
    pub fn refused(&self, reason: &'static str) {
        self.refusals.get_or_create(&ReasonLabels { reason }).inc();
    }

    /// Counts one command served (REPL, `ctl` or the library's `Client`).
    pub fn command(&self, name: &'static str) {
        self.commands
            .get_or_create(&CommandLabels { command: name })
            .inc();
    }

    /// Brings the gauges and counters up to date with `s`.
    pub fn refresh(&mut self, s: &Stats) {
        let m = &self.stats;
        let gauge = |g: &Gauge, v: usize| g.set(i64::try_from(v).unwrap_or(i64::MAX));
        gauge(&m.connected_peers, s.connected_peers);
        gauge(&m.connections, s.connections);
        gauge(&m.routing_table, s.routing_table);
        gauge(&m.records, s.records);
        gauge(&m.provided, s.provided);
        gauge(&m.record_bytes, s.record_bytes);
        gauge(&m.records_corrupt, s.records_corrupt);
        m.connections_denied.inc_by(
            s.connections_denied
                .saturating_sub(self.last.connections_denied),
        );
        m.uptime
            .set(i64::try_from(s.uptime_secs).unwrap_or(i64::MAX));
        m.queries_started
            .inc_by(s.queries_started.saturating_sub(self.last.queries_started));
        m.requests_served
            .inc_by(s.requests_served.saturating_sub(self.last.requests_served));
        m.records_refused
            .inc_by(s.records_refused.saturating_sub(self.last.records_refused));
        self.last = s.clone();
    }
}

fn register(registry: &mut Registry) -> (StatsMetrics, Family<CommandLabels, Counter>) {
    let m = StatsMetrics::default();
    let r = registry.sub_registry_with_prefix(PREFIX);
    r.register(
        "connected_peers",
        "Peers with at least one open connection",
        m.connected_peers.clone(),
    );
    r.register("connections", "Open connections", m.connections.clone());
    r.register(
        "routing_table_peers",
        "Peers in the Kademlia routing table",
        m.routing_table.clone(),
    );
    r.register(
        "records_stored",
        "Records held in the local store",
        m.records.clone(),
    );
    r.register(
        "provided_keys",
        "Keys this node announces as a provider",
        m.provided.clone(),
    );
    r.register(
        "queries_started",
        "Kademlia queries started by this node",
        m.queries_started.clone(),
    );
    r.register(
        "requests_served",
        "Inbound Kademlia requests served",
        m.requests_served.clone(),
    );
    r.register(
        "records_refused",
        "Records pushed by peers and refused (limits, validation, quotas, write policy)",
        m.records_refused.clone(),
    );
    for (name, help, gauge) in [
        (
            "record_bytes",
            "What the records held cost in bytes (the unit of --max-store-bytes)",
            &m.record_bytes,
        ),
        (
            "records_corrupt",
            "Damaged records found in the store at start (quarantined, never served)",
            &m.records_corrupt,
        ),
    ] {
        r.register(name, help, gauge.clone());
    }
    let denied = "Incoming connections denied by a connection limit";
    r.register("connections_denied", denied, m.connections_denied.clone());
    r.register(
        "uptime_seconds",
        "Seconds since the node started",
        m.uptime.clone(),
    );
    let commands = Family::<CommandLabels, Counter>::default();
    r.register(
        "commands_served",
        "Commands served (REPL, ctl, library), by command",
        commands.clone(),
    );
    (m, commands)
}

/// Binds `addr`, starts serving metrics on it, and returns the recorder the
/// event loop feeds. The server stops when the recorder is dropped.
pub async fn start(addr: SocketAddr) -> Result<Recorder, StartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| StartError::Setup(format!("metrics address {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| StartError::Setup(format!("metrics address {addr}: {e}")))?;
    let mut registry = Registry::default();
    let libp2p = libp2p::metrics::Metrics::new(&mut registry);
    let (stats, commands) = register(&mut registry);
    let refusals = Family::<ReasonLabels, Counter>::default();
    let query_seconds = Family::<QueryLabels, Histogram>::new_with_constructor(|| {
        Histogram::new(duration_buckets())
    });
    let query_requests =
        Family::<QueryLabels, Histogram>::new_with_constructor(
            || Histogram::new(request_buckets()),
        );
    let sub = registry.sub_registry_with_prefix(PREFIX);
    sub.register(
        "records_refused_by_reason",
        "Records and provider records refused, by reason",
        refusals.clone(),
    );
    sub.register_with_unit(
        "dht_query_duration",
        "Duration of this node's DHT queries, by kind",
        prometheus_client::registry::Unit::Seconds,
        query_seconds.clone(),
    );
    sub.register(
        "dht_query_requests",
        "Requests sent per DHT query, by kind",
        query_requests.clone(),
    );
    let (stop, stopped) = oneshot::channel();
    tokio::spawn(serve(listener, Arc::new(registry), stopped));
    info!(addr = %bound, "serving metrics");
    Ok(Recorder {
        libp2p,
        commands,
        refusals,
        query_seconds,
        query_requests,
        stats,
        last: Stats::default(),
        addr: bound,
        _stop: stop,
    })
}

async fn serve(listener: TcpListener, registry: Arc<Registry>, mut stopped: oneshot::Receiver<()>) {
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let registry = registry.clone();
                    tokio::spawn(async move {
                        match tokio::time::timeout(SCRAPE_TIMEOUT, answer(stream, &registry)).await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => debug!(%peer, error = %e, "metrics request failed"),
                            Err(_) => debug!(%peer, "metrics request timed out"),
                        }
                    });
                }
                Err(e) => {
                    warn!(error = %e, "metrics listener: accept failed");
                    // Out of file descriptors and the like: don't spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
}

/// Reads one request head and answers it: `GET /metrics` (or `/`) gets the
/// registry's text; anything else a 404 or 405.
async fn answer(mut stream: TcpStream, registry: &Registry) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_REQUEST {
            return respond(
                &mut stream,
                "431 Request Header Fields Too Large",
                "text/plain",
                "",
            )
            .await;
        }
    }
    let line = String::from_utf8_lossy(head.split(|&b| b == b'\n').next().unwrap_or_default());
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET", "/metrics" | "/") => {
            let mut body = String::new();
            if let Err(e) = prometheus_client::encoding::text::encode(&mut body, registry) {
                return respond(
                    &mut stream,
                    "500 Internal Server Error",
                    "text/plain",
                    &e.to_string(),
                )
                .await;
            }
            respond(&mut stream, "200 OK", CONTENT_TYPE, &body).await
        }
        ("GET", _) => respond(&mut stream, "404 Not Found", "text/plain", "try /metrics\n").await,
        _ => respond(&mut stream, "405 Method Not Allowed", "text/plain", "").await,
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// The name a command is counted under (as the REPL spells it).
pub(crate) fn command_name(command: &crate::network::client::Command) -> &'static str {
    use crate::network::client::Command;
    match command {
        Command::Put { .. } => "put",
        Command::Get { .. } => "get",
        Command::Provide { .. } => "provide",
        Command::Providers { .. } => "providers",
        Command::Peers { .. } => "peers",
        Command::Info { .. } => "id",
        Command::Routing { .. } => "routing",
        Command::Closest { .. } => "closest",
        Command::Dial { .. } => "dial",
        Command::Bootstrap { .. } => "bootstrap",
        Command::Stats { .. } => "stats",
        Command::WaitJoined { .. } => "wait_joined",
        Command::Shutdown { .. } => "quit",
    }
}
