//! Commands served, counted where they are served: the command layer
//! ([`crate::command::apply`]), once per command run from the REPL or
//! `p2pnode ctl`, named by the command table ([`crate::command::Command::name`]).
//! The count exists with or without `--metrics` (`stats` shows it); the
//! families are registered when metrics are served.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    command: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Name {
    command: &'static str,
}

/// Command durations: 100 µs doubling to about 52 s, so a command answered
/// from memory and a lookup that times out both land in a real bucket.
pub(super) fn duration_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.0001, 2.0, 20)
}

/// The counters of commands served; cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct Commands {
    served: Arc<AtomicU64>,
    outcomes: Family<Outcome, Counter>,
    seconds: Family<Name, Histogram>,
}

impl Default for Commands {
    fn default() -> Self {
        Commands {
            served: Arc::default(),
            outcomes: Family::default(),
            seconds: Family::new_with_constructor(|| Histogram::new(duration_buckets())),
        }
    }
}

impl Commands {
    /// Counts one command, its outcome (`ok` or the word naming why it
    /// failed: [`crate::output::Reply::outcome`]) and how long it took.
    pub fn observe(&self, command: &'static str, outcome: &'static str, elapsed: Duration) {
        self.served.fetch_add(1, Ordering::Relaxed);
        self.outcomes
            .get_or_create(&Outcome { command, outcome })
            .inc();
        self.seconds
            .get_or_create(&Name { command })
            .observe(elapsed.as_secs_f64());
    }

    /// Commands served so far.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Registers the families under `registry` (prefix `p2pnode_` given).
    pub(super) fn register(&self, registry: &mut Registry) {
        registry.register(
            "commands",
            "Commands served (REPL, ctl), by command and outcome",
            self.outcomes.clone(),
        );
        registry.register_with_unit(
            "command_duration",
            "Time to serve a command, by command",
            Unit::Seconds,
            self.seconds.clone(),
        );
    }
}
