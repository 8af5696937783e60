//! Container suite: p2pnode as Docker containers on a user-defined bridge
//! network, on a macvlan network and as a Docker swarm stack, driven with
//! `docker exec ... p2pnode ctl --json`, the way p2p_setup.md tells users
//! to; and the Kubernetes manifests checked against the API schemas and the
//! image.
//!
//! - Needs a Docker engine, for the macvlan test the permission to create
//!   network interfaces (root, CAP_NET_ADMIN), and for the schema check
//!   `kubectl` and `kubernetes-validate` (`P2PNODE_K8S_VALIDATE` names the
//!   latter; `P2PNODE_REQUIRE_K8S_VALIDATE=1` in CI). Where one is
//!   missing, the harness lists the tests that need it as ignored: test
//!   runners report them as skipped, not passed. With
//!   `P2PNODE_REQUIRE_DOCKER=1` (CI) they run and fail, naming what is missing.
//! - Uses the image `p2pnode:latest` (override: `P2PNODE_IMAGE`). When it is
//!   missing, runs `docker/build-offline.sh` first (`P2PNODE_REBUILD_IMAGE=1`
//!   rebuilds it even when present).
//! - The swarm test initialises a single-node swarm on 127.0.0.1 when none
//!   is active, and leaves it again (removing docker_gwbridge) at the end.
//! - Every name starts with `p2pt-<pid>` (`p2pt<pid>` for interfaces) and
//!   every Docker object is labelled `p2pnode-test=<pid>`; a guard removes
//!   them all when the test ends, also when it fails, and a run first sweeps
//!   what crashed earlier runs (dead pids) left behind.
//! - Every wait is bounded; nothing sleeps in place of a readiness check.

mod bridge;
mod cleanup;
mod engine;
mod kubernetes;
mod lab;
mod macvlan;
mod stack;
mod swarm;

use std::process::ExitCode;
use std::time::Instant;

use p2pnode_testkit::harness::{self, Prerequisite, test};

/// The label put on every Docker object the suite creates.
pub const LABEL: &str = "p2pnode-test";

/// A Docker engine that answers.
const DOCKER: Prerequisite = Prerequisite {
    what: "a Docker engine",
    required_by: "P2PNODE_REQUIRE_DOCKER",
    check: || engine::engine().map(|_| ()),
};

/// The permission to create network interfaces (the macvlan parent).
const NET_ADMIN: Prerequisite = Prerequisite {
    what: "the permission to create network interfaces (CAP_NET_ADMIN)",
    required_by: "P2PNODE_REQUIRE_DOCKER",
    check: harness::net_admin,
};

/// `kubectl` (kustomize) and `kubernetes-validate` (the API schemas).
const K8S_TOOLS: Prerequisite = Prerequisite {
    what: "kubectl and kubernetes-validate",
    required_by: "P2PNODE_REQUIRE_K8S_VALIDATE",
    check: kubernetes::tools,
};

fn main() -> ExitCode {
    harness::main(vec![
        test(
            "bridge_network_put_get_survive_stops_and_restart",
            bridge::bridge_network_put_get_survive_stops_and_restart,
        )
        .needs(DOCKER),
        test("macvlan_network_put_get", macvlan::macvlan_network_put_get)
            .needs(DOCKER)
            .needs(NET_ADMIN),
        test(
            "kubernetes_manifests_validate",
            kubernetes::kubernetes_manifests_validate,
        )
        .needs(K8S_TOOLS),
        test(
            "kubernetes_manifests_match_the_image",
            kubernetes::kubernetes_manifests_match_the_image,
        )
        .needs(DOCKER),
        test(
            "swarm_stack_put_get_scale_and_rolling_update",
            swarm::swarm_stack_put_get_scale_and_rolling_update,
        )
        .needs(DOCKER),
    ])
}

/// Logs, the engine's version, leftovers swept, the image ready.
pub fn prepare() {
    p2pnode_testkit::init_logs();
    let version = engine::engine().unwrap_or_else(|why| panic!("{why}"));
    eprintln!("[containers] Docker engine {version}");
    cleanup::sweep_leftovers();
    engine::ensure_image();
}

/// Logs a step of a test, with the time since the test began (shown when
/// a test fails, or with `--no-capture`).
pub fn step(started: Instant, what: &str) {
    eprintln!(
        "[containers +{:>5.1}s] {what}",
        started.elapsed().as_secs_f64()
    );
}
