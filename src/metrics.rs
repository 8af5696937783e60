//! Prometheus metrics (`--metrics ADDR`): libp2p's own (connections,
//! identify, ping), the standard process metrics, the build, and
//! p2pnode's: the `stats` essentials and the store's health, DHT query
//! durations, refusals by reason, connection errors by cause, and commands
//! served by command, outcome and duration. Served over a minimal HTTP/1.1
//! server on the given address, as OpenMetrics or as the Prometheus text
//! format, whichever the scraper asks for; off unless asked for.
//!
//! Names follow the Prometheus conventions: a `p2pnode_` (or `process_`,
//! `libp2p_`) prefix, base units in the name (`_seconds`, `_bytes`),
//! counters ending in `_total`.
//!
//! # Layout
//! - `http`: the scrape endpoint and the two text formats.
//! - `process`: the process collector.
//! - `stats`: gauges and counters refreshed from [`Stats`].
//! - `commands`: [`Commands`], counted by the command layer.

mod commands;
mod http;
mod process;
mod stats;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tracing::info;

pub use commands::Commands;
pub use http::to_text_format;

use crate::error::StartError;
use crate::reports::Stats;

/// The metric name prefix of p2pnode's own metrics (libp2p's use `libp2p_`).
const PREFIX: &str = "p2pnode";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueryLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectionLabels {
    direction: &'static str,
    cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CauseLabels {
    cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    commit: &'static str,
    store_schema: String,
}

/// The causes of [`Recorder::request_failed`].
pub const REQUEST_FAILURES: [&str; 5] = [
    "dial_failure",
    "timeout",
    "connection_closed",
    "unsupported_protocols",
    "io",
];

/// Requests per query: 1 doubling to 512.
fn request_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(1.0, 2.0, 10)
}

/// What the event loop records into; dropping it stops the HTTP server.
pub struct Recorder {
    libp2p: libp2p::metrics::Metrics,
    refusals: Family<ReasonLabels, Counter>,
    query_seconds: Family<QueryLabels, Histogram>,
    query_requests: Family<QueryLabels, Histogram>,
    connection_errors: Family<ConnectionLabels, Counter>,
    request_failures: Family<CauseLabels, Counter>,
    stats: stats::StatsMetrics,
    /// The address the server is bound to (the real port when 0 was asked).
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl Recorder {
    /// The address metrics are served on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// libp2p's own metrics (connections, identify, ping), which the
    /// event loop records its swarm events into.
    pub fn libp2p(&self) -> &libp2p::metrics::Metrics {
        &self.libp2p
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

    /// Counts one connection that failed (`direction`: `outgoing` or
    /// `incoming`), by cause (one of the labels given to [`start`]).
    pub fn connection_error(&self, direction: &'static str, cause: &'static str) {
        self.connection_errors
            .get_or_create(&ConnectionLabels { direction, cause })
            .inc();
    }

    /// Counts one DHT request of ours that failed, by cause.
    pub fn request_failed(&self, cause: &'static str) {
        self.request_failures
            .get_or_create(&CauseLabels { cause })
            .inc();
    }

    /// Brings the gauges and counters up to date with `s`.
    pub fn refresh(&mut self, s: &Stats) {
        self.stats.refresh(s);
    }
}

/// Binds `addr`, starts serving metrics on it, and returns the recorder the
/// event loop feeds; `commands` (counted by the command layer) are served
/// too, and `connection_causes` (every cause a connection error can have)
/// start at zero. The server stops when the recorder is dropped.
pub async fn start(
    addr: SocketAddr,
    commands: &Commands,
    connection_causes: &[&'static str],
) -> Result<Recorder, StartError> {
    let setup = |e: std::io::Error| StartError::Setup(format!("metrics address {addr}: {e}"));
    let listener = TcpListener::bind(addr).await.map_err(setup)?;
    let bound = listener.local_addr().map_err(setup)?;
    let mut registry = Registry::default();
    let libp2p = libp2p::metrics::Metrics::new(&mut registry);
    registry
        .sub_registry_with_prefix("process")
        .register_collector(Box::new(process::ProcessCollector));
    let stats = stats::StatsMetrics::default();
    let refusals = Family::<ReasonLabels, Counter>::default();
    let query_seconds = Family::<QueryLabels, Histogram>::new_with_constructor(|| {
        Histogram::new(commands::duration_buckets())
    });
    let query_requests =
        Family::<QueryLabels, Histogram>::new_with_constructor(
            || Histogram::new(request_buckets()),
        );
    // Every series starts at zero, so `increase()` sees the first one.
    let connection_errors = Family::<ConnectionLabels, Counter>::default();
    for direction in ["incoming", "outgoing"] {
        for &cause in connection_causes {
            let _ = connection_errors.get_or_create(&ConnectionLabels { direction, cause });
        }
    }
    let request_failures = Family::<CauseLabels, Counter>::default();
    for cause in REQUEST_FAILURES {
        let _ = request_failures.get_or_create(&CauseLabels { cause });
    }
    for reason in crate::store::Refusal::LABELS {
        let _ = refusals.get_or_create(&ReasonLabels { reason });
    }
    let sub = registry.sub_registry_with_prefix(PREFIX);
    stats.register(sub);
    commands.register(sub);
    let build = Family::<BuildLabels, Gauge>::default();
    build
        .get_or_create(&BuildLabels {
            version: crate::version::VERSION,
            commit: crate::version::COMMIT,
            store_schema: crate::store::SCHEMA.to_string(),
        })
        .set(1);
    sub.register(
        "build_info",
        "The running p2pnode: version, git commit and store schema (always 1)",
        build,
    );
    sub.register(
        "records_refused_by_reason",
        "Records and provider records refused, by reason",
        refusals.clone(),
    );
    sub.register_with_unit(
        "dht_query_duration",
        "Duration of this node's DHT queries, by kind",
        Unit::Seconds,
        query_seconds.clone(),
    );
    sub.register(
        "dht_query_requests",
        "Requests sent per DHT query, by kind",
        query_requests.clone(),
    );
    sub.register(
        "dht_request_failures",
        "DHT requests of this node that failed, by cause",
        request_failures.clone(),
    );
    sub.register(
        "connection_errors",
        "Connections that failed to open, by direction and cause",
        connection_errors.clone(),
    );
    let (stop, stopped) = oneshot::channel();
    tokio::spawn(http::serve(listener, Arc::new(registry), stopped));
    info!(addr = %bound, "serving metrics");
    Ok(Recorder {
        libp2p,
        refusals,
        query_seconds,
        query_requests,
        connection_errors,
        request_failures,
        stats,
        addr: bound,
        _stop: stop,
    })
}
