//! Gauges and counters mirroring the node's [`Stats`], refreshed by the
//! event loop every tick: peers and routing table, records and the store's
//! health (bytes on disk, capacity, write errors, keys not yet on disk),
//! queries in flight.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::reports::Stats;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: &'static str,
}

/// See the module docs.
#[derive(Default)]
pub(super) struct StatsMetrics {
    connected_peers: Gauge,
    connections: Gauge,
    routing_table: Gauge,
    records: Gauge,
    records_limit: Gauge,
    provided: Gauge,
    queries_started: Counter,
    queries_active: Gauge,
    requests_served: Counter,
    records_refused: Counter,
    store_bytes: Gauge,
    store_write_errors: Counter,
    store_failing: Gauge,
    unflushed: Gauge,
    skipped: Family<Reason, Gauge>,
    record_bytes: Gauge,
    records_corrupt: Gauge,
    connections_denied: Counter,
    uptime: Gauge,
    /// The counters' values at the last refresh (they only grow).
    last: Stats,
}

fn set(g: &Gauge, v: impl TryInto<i64>) {
    g.set(v.try_into().unwrap_or(i64::MAX));
}

impl StatsMetrics {
    /// Registers every metric under `r` (prefix `p2pnode_` given).
    pub fn register(&self, r: &mut Registry) {
        let gauges: [(&str, &str, &Gauge); 11] = [
            (
                "record_bytes",
                "What the records held cost in bytes (the unit of --max-store-bytes)",
                &self.record_bytes,
            ),
            (
                "records_corrupt",
                "Damaged records found in the store at start (quarantined, never served)",
                &self.records_corrupt,
            ),
            (
                "connected_peers",
                "Peers with at least one open connection",
                &self.connected_peers,
            ),
            ("connections", "Open connections", &self.connections),
            (
                "routing_table_peers",
                "Peers in the Kademlia routing table",
                &self.routing_table,
            ),
            (
                "records_stored",
                "Records held in the local store",
                &self.records,
            ),
            (
                "records_limit",
                "The most records the store holds (--max-records)",
                &self.records_limit,
            ),
            (
                "provided_keys",
                "Keys this node announces as a provider",
                &self.provided,
            ),
            (
                "dht_queries_active",
                "DHT queries of this node in flight",
                &self.queries_active,
            ),
            (
                "store_writes_failing",
                "1 while writes to the record store fail, else 0",
                &self.store_failing,
            ),
            (
                "store_unflushed_keys",
                "Keys whose latest state is not on disk yet",
                &self.unflushed,
            ),
        ];
        for (name, help, g) in gauges {
            r.register(name, help, g.clone());
        }
        let counters: [(&str, &str, &Counter); 5] = [
            (
                "connections_denied",
                "Incoming connections denied by a connection limit",
                &self.connections_denied,
            ),
            (
                "queries_started",
                "Kademlia queries started by this node",
                &self.queries_started,
            ),
            (
                "requests_served",
                "Inbound Kademlia requests served",
                &self.requests_served,
            ),
            (
                "records_refused",
                "Records pushed by peers and refused (limits, validation, quotas, write policy)",
                &self.records_refused,
            ),
            (
                "store_write_errors",
                "Commits of the record store that failed",
                &self.store_write_errors,
            ),
        ];
        for (name, help, c) in counters {
            r.register(name, help, c.clone());
        }
        r.register_with_unit(
            "store_size",
            "Size of the record store's database file",
            Unit::Bytes,
            self.store_bytes.clone(),
        );
        r.register(
            "store_skipped_entries",
            "Entries the store skipped when it opened, by reason (left on disk or quarantined)",
            self.skipped.clone(),
        );
        r.register_with_unit(
            "uptime",
            "Time since the node started",
            Unit::Seconds,
            self.uptime.clone(),
        );
    }

    /// Brings every metric up to date with `s`.
    pub fn refresh(&mut self, s: &Stats) {
        set(&self.connected_peers, s.connected_peers);
        set(&self.connections, s.connections);
        set(&self.routing_table, s.routing_table);
        set(&self.records, s.records);
        set(&self.records_limit, s.records_limit);
        set(&self.provided, s.provided);
        set(&self.queries_active, s.queries_active);
        set(&self.store_bytes, s.store_bytes);
        set(&self.store_failing, i64::from(s.store_failing.is_some()));
        set(&self.unflushed, s.unflushed);
        set(&self.uptime, s.uptime_secs);
        set(&self.record_bytes, s.record_bytes);
        set(&self.records_corrupt, s.records_corrupt);
        let skipped = [
            ("unknown_format", s.store_unknown_entries),
            ("corrupt", s.store_quarantined),
        ];
        for (reason, n) in skipped {
            set(&self.skipped.get_or_create(&Reason { reason }), n);
        }
        let grow = |c: &Counter, now: u64, before: u64| {
            c.inc_by(now.saturating_sub(before));
        };
        grow(
            &self.queries_started,
            s.queries_started,
            self.last.queries_started,
        );
        grow(
            &self.requests_served,
            s.requests_served,
            self.last.requests_served,
        );
        grow(
            &self.records_refused,
            s.records_refused,
            self.last.records_refused,
        );
        grow(
            &self.connections_denied,
            s.connections_denied,
            self.last.connections_denied,
        );
        grow(
            &self.store_write_errors,
            s.store_write_errors,
            self.last.store_write_errors,
        );
        self.last = s.clone();
    }
}
