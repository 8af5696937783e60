//! Whether a node can do its job, for `health` (and `p2pnode ctl health`,
//! the container image's health check): three checks, each with a reason
//! a person can act on.
//!
//! - `event_loop`: the loop that owns the swarm answers within
//!   [`STALL_BOUND`]; a wedged or starved loop serves nobody.
//! - `peers`: a node that has peers to join through (bootstrap peers, or
//!   the routing table saved at its last run) has at least one peer, once
//!   it has been without any for longer than the grace period
//!   (`--health-grace`). A node with nothing to join through creates its
//!   own network and is healthy alone.
//! - `store`: writes to the record store succeed. While they fail, records
//!   are held in memory only; the check passes again by itself once a
//!   commit succeeds.
//!
//! The verdict is made here from [`Facts`] the event loop reports, without
//! I/O, so each rule is tested on its own.

use std::time::Duration;

/// How long the event loop may take to answer before the node counts as
/// stalled.
pub const STALL_BOUND: Duration = Duration::from_secs(2);

/// What the event loop reports for a health check.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    /// Peers with an open connection.
    pub connected_peers: usize,
    /// Peers in the routing table.
    pub routing_table: usize,
    /// Bootstrap peers and saved peers the node joins through.
    pub join_targets: usize,
    /// How long the node has been without any peer (`None`: it has one).
    pub alone_for: Option<Duration>,
    /// Why writes to the record store fail, while they do.
    pub store_failing: Option<String>,
    /// Keys whose latest state is not on disk yet.
    pub unflushed: usize,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `event_loop`, `peers` or `store`.
    pub name: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was found, in one line.
    pub detail: String,
}

/// The answer to `health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// Whether every check passed.
    pub healthy: bool,
    /// Every check, in a fixed order.
    pub checks: Vec<Check>,
}

impl Health {
    /// The failed checks' details, joined: the reason a health check failed.
    pub fn reasons(&self) -> String {
        let failed: Vec<String> = self
            .checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect();
        failed.join("; ")
    }
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs())
}

/// The verdict. `facts` is `None` when the event loop did not answer within
/// [`STALL_BOUND`]; `round_trip` is how long asking it took; `grace` is how
/// long a node with peers to join through may be without any.
pub fn assess(facts: Option<&Facts>, round_trip: Duration, grace: Duration) -> Health {
    let ms = (round_trip.as_secs_f64() * 1e4).round() / 10.0;
    let Some(f) = facts else {
        let detail = format!(
            "the event loop did not answer within {} (stalled)",
            secs(STALL_BOUND)
        );
        return Health {
            healthy: false,
            checks: vec![Check {
                name: "event_loop",
                ok: false,
                detail,
            }],
        };
    };
    let event_loop = if round_trip > STALL_BOUND {
        let bound = STALL_BOUND.as_millis();
        Check {
            name: "event_loop",
            ok: false,
            detail: format!("answered in {ms} ms, over the {bound} ms bound (stalled)"),
        }
    } else {
        Check {
            name: "event_loop",
            ok: true,
            detail: format!("answered in {ms} ms"),
        }
    };
    let checks = vec![event_loop, peers(f, grace), store(f)];
    Health {
        healthy: checks.iter().all(|c| c.ok),
        checks,
    }
}

fn peers(f: &Facts, grace: Duration) -> Check {
    let (ok, detail) = match f.alone_for {
        None => (
            true,
            format!(
                "{} connected, {} in the routing table",
                f.connected_peers, f.routing_table
            ),
        ),
        Some(_) if f.join_targets == 0 => (
            true,
            "no peers, and none to join through: this node creates its own network".into(),
        ),
        Some(alone) if alone <= grace => (
            true,
            format!(
                "no peers yet ({} of the {} grace period)",
                secs(alone),
                secs(grace)
            ),
        ),
        Some(alone) => (
            false,
            format!(
                "no peers for {} although it has {} peer(s) to join through \
                 (unreachable, wrong address, or a swarm key mismatch?)",
                secs(alone),
                f.join_targets
            ),
        ),
    };
    Check {
        name: "peers",
        ok,
        detail,
    }
}

fn store(f: &Facts) -> Check {
    match &f.store_failing {
        None => Check {
            name: "store",
            ok: true,
            detail: format!("writes succeed ({} key(s) not on disk yet)", f.unflushed),
        },
        Some(error) => Check {
            name: "store",
            ok: false,
            detail: format!(
                "writes to the record store fail ({error}); {} key(s) held in memory only, retried until the disk takes them",
                f.unflushed
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(60);
    const FAST: Duration = Duration::from_millis(1);

    fn check<'a>(h: &'a Health, name: &str) -> &'a Check {
        h.checks.iter().find(|c| c.name == name).unwrap()
    }

    #[test]
    fn a_node_with_peers_and_a_working_store_is_healthy() {
        let f = Facts {
            connected_peers: 3,
            routing_table: 4,
            join_targets: 1,
            ..Facts::default()
        };
        let h = assess(Some(&f), FAST, GRACE);
        assert!(h.healthy, "{h:?}");
        assert_eq!(h.checks.len(), 3);
        assert_eq!(h.reasons(), "");
    }

    #[test]
    fn alone_is_healthy_only_without_peers_to_join_or_within_the_grace() {
        let alone = |join_targets, secs| Facts {
            join_targets,
            alone_for: Some(Duration::from_secs(secs)),
            ..Facts::default()
        };
        assert!(assess(Some(&alone(0, 3600)), FAST, GRACE).healthy);
        assert!(assess(Some(&alone(2, 59)), FAST, GRACE).healthy);
        let h = assess(Some(&alone(2, 61)), FAST, GRACE);
        assert!(!h.healthy);
        let peers = check(&h, "peers");
        assert!(!peers.ok);
        assert!(peers.detail.contains("no peers for 61 s"), "{peers:?}");
        assert!(h.reasons().starts_with("peers: "), "{}", h.reasons());
    }

    #[test]
    fn failing_store_writes_make_the_node_unhealthy() {
        let f = Facts {
            store_failing: Some("No space left on device".into()),
            unflushed: 7,
            ..Facts::default()
        };
        let h = assess(Some(&f), FAST, GRACE);
        assert!(!h.healthy);
        let store = check(&h, "store");
        assert!(store.detail.contains("No space left") && store.detail.contains("7 key"));
    }

    #[test]
    fn a_slow_or_silent_event_loop_is_a_stall() {
        let h = assess(Some(&Facts::default()), STALL_BOUND * 2, GRACE);
        assert!(!check(&h, "event_loop").ok, "{h:?}");
        let h = assess(None, STALL_BOUND, GRACE);
        assert!(!h.healthy);
        assert!(h.reasons().contains("did not answer"), "{}", h.reasons());
    }
}
