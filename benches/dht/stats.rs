//! Percentiles and the per-system summary the report is made of.

use std::time::Duration;

/// The `p`-th percentile (0..=100) of `values`, nearest-rank; `None` when empty.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    Some(v[rank.clamp(1, v.len()) - 1])
}

/// The mean of `values`; `None` when empty.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Milliseconds as f64.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// What one system did in one run.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Time until every node process reported its listen address.
    pub start_ms: f64,
    /// Time from starting the joiners until the routing tables held steady.
    pub bootstrap_ms: f64,
    /// Whether the tables held steady before the settle limit.
    pub settled: bool,
    /// Mean routing table size once settled.
    pub routing_mean: f64,
    /// Put round trips (ms), successful or not.
    pub put_ms: Vec<f64>,
    /// Puts that succeeded.
    pub puts_ok: usize,
    /// Peers that confirmed storing each put (when the system says).
    pub replicated: Vec<f64>,
    /// Get round trips (ms) of gets from nodes that did not hold the record.
    pub get_ms: Vec<f64>,
    /// Gets that returned the right value.
    pub gets_ok: usize,
    /// Gets issued.
    pub gets: usize,
    /// Gets answered from the asking node's own store (should be 0 when
    /// N > k + 1; unavoidable when every node holds every record).
    pub gets_local: usize,
    /// The same gets as timed inside the node (its `elapsed_ms`), when it says.
    pub node_get_ms: Vec<f64>,
    /// Round trips (ms) of gets answered from the asking node's own store.
    pub local_get_ms: Vec<f64>,
    /// Requests sent per get lookup (when the system says).
    pub messages: Vec<f64>,
    /// Resident set size per node process (KiB) after the workload.
    pub rss_kib: Vec<f64>,
    /// Private (anonymous) resident memory per node process (KiB).
    pub anon_kib: Vec<f64>,
    /// Proportional set size per node process (KiB): shared code divided
    /// among the processes sharing it.
    pub pss_kib: Vec<f64>,
}

impl Summary {
    /// Success rate of puts and gets together, in percent.
    pub fn success_pct(&self) -> f64 {
        let total = self.put_ms.len() + self.gets;
        if total == 0 {
            return 0.0;
        }
        100.0 * (self.puts_ok + self.gets_ok) as f64 / total as f64
    }

    /// The figures, by name, for the table, the JSON line and the ratios.
    pub fn figures(&self) -> Vec<(&'static str, Option<f64>)> {
        vec![
            ("put_p50_ms", percentile(&self.put_ms, 50.0)),
            ("put_p90_ms", percentile(&self.put_ms, 90.0)),
            ("put_p99_ms", percentile(&self.put_ms, 99.0)),
            ("get_p50_ms", percentile(&self.get_ms, 50.0)),
            ("get_p90_ms", percentile(&self.get_ms, 90.0)),
            ("get_p99_ms", percentile(&self.get_ms, 99.0)),
            ("get_in_node_p50_ms", percentile(&self.node_get_ms, 50.0)),
            ("success_pct", Some(self.success_pct())),
            ("msgs_per_lookup", mean(&self.messages)),
            ("replicated_mean", mean(&self.replicated)),
            ("gets_local", Some(self.gets_local as f64)),
            ("start_ms", Some(self.start_ms)),
            ("bootstrap_ms", Some(self.bootstrap_ms)),
            ("routing_mean", Some(self.routing_mean)),
            (
                "rss_mib_median",
                percentile(&self.rss_kib, 50.0).map(|k| k / 1024.0),
            ),
            (
                "rss_mib_max",
                percentile(&self.rss_kib, 100.0).map(|k| k / 1024.0),
            ),
            (
                "rss_anon_mib_median",
                percentile(&self.anon_kib, 50.0).map(|k| k / 1024.0),
            ),
            (
                "pss_mib_median",
                percentile(&self.pss_kib, 50.0).map(|k| k / 1024.0),
            ),
        ]
    }
}
