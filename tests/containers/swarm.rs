//! The swarm scenario: docker/stack.yml deployed with `docker stack
//! deploy` on a single-node swarm, driven with `docker exec ... p2pnode
//! ctl --json` in the task containers, as p2p_setup.md tells users to.

use std::time::{Duration, Instant};

use ipnet::IpNet;
use serde_json::Value;

use crate::engine::docker_ok;
use crate::lab::Lab;
use crate::stack::{Stack, overlay_subnet};
use crate::{prepare, step};

/// How long the stack's tasks may take to turn healthy.
const TASKS_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a rolling update of the peers may take.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(240);

/// Deploys the stack (a seed and 3 peers); put through one peer, get
/// through every other task; scales the peers to 4 and the new task gets
/// every record from its peers; a rolling update (`service update --force`)
/// during which gets through the seed and the running peers keep
/// succeeding; and no node advertises, or keeps in its routing table, a
/// docker_gwbridge address. Prints the time from deploy to the first
/// cross-task get and the gets' success rate during the update.
pub fn swarm_stack_put_get_scale_and_rolling_update() {
    prepare();
    let t = Instant::now();
    let stack = Stack::new();
    let overlay: IpNet = overlay_subnet().parse().expect("overlay subnet");
    step(t, "swarm active");
    let lab = Lab::new("sw");

    let deployed = Instant::now();
    stack.deploy();
    let seed = stack.wait_tasks("seed", 1, TASKS_TIMEOUT).remove(0);
    let peers = stack.wait_tasks("peer", 3, TASKS_TIMEOUT);
    // Docker makes docker_gwbridge with the first task, if it was not there.
    let gwbridge: IpNet = Stack::gwbridge_subnet().parse().expect("gwbridge subnet");
    step(
        t,
        &format!("stack deployed: seed and 3 peers healthy; docker_gwbridge is {gwbridge}"),
    );
    let mut all = vec![seed.clone()];
    all.extend(peers.iter().cloned());
    lab.wait_routing(&all, 3);
    lab.put(&peers[0], "first", "across tasks");
    lab.get(&peers[1], "first", "across tasks");
    let first_get = deployed.elapsed();
    eprintln!(
        "[swarm] figure: docker stack deploy -> first cross-task get: {:.1} s",
        first_get.as_secs_f64()
    );

    // Put through one peer, get through every other task.
    let records: Vec<(String, String)> = (0..3)
        .map(|i| (format!("key-{i}"), format!("value {i} from {}", peers[0])))
        .collect();
    for (key, value) in &records {
        let v = lab.put(&peers[0], key, value);
        assert!(
            v["replicated"].as_u64().unwrap_or(0) >= 1,
            "put {key} reached no peer: {v}"
        );
    }
    for name in all.iter().filter(|n| **n != peers[0]) {
        for (key, value) in &records {
            lab.get(name, key, value);
        }
    }
    step(
        t,
        "3 records put through one peer, got through the seed and 2 peers",
    );
    check_addresses(&lab, &all, gwbridge, overlay);
    step(
        t,
        "no node advertises or routes to a docker_gwbridge address",
    );

    // Scale up: the new task holds no copy and finds every record.
    docker_ok(&[
        "service",
        "scale",
        "--detach",
        &format!("{}=4", stack.service("peer")),
    ]);
    let scaled = stack.wait_tasks("peer", 4, TASKS_TIMEOUT);
    let new: Vec<&String> = scaled.iter().filter(|n| !peers.contains(n)).collect();
    assert_eq!(new.len(), 1, "after scaling to 4: {scaled:?}");
    lab.wait_routing(&[new[0].clone()], 2);
    for (key, value) in &records {
        let v = lab.get(new[0], key, value);
        assert_ne!(
            v["from"], "local",
            "{} had {key} before asking: {v}",
            new[0]
        );
    }
    step(
        t,
        "scaled peer to 4: the new task got every record from its peers",
    );

    // A rolling update, gets through the seed and a running peer meanwhile.
    docker_ok(&[
        "service",
        "update",
        "--force",
        "--detach",
        &stack.service("peer"),
    ]);
    let gets = gets_during_update(&lab, &stack, &seed, &records);
    eprintln!("[swarm] figure: gets during the rolling update: {gets}");
    assert_eq!(
        gets.seed_ok, gets.seed,
        "gets through the seed failed during the update: {gets}"
    );
    assert_eq!(
        gets.peer_ok, gets.peer,
        "gets through running peers failed during the update: {gets}"
    );
    assert!(
        gets.seed > 0 && gets.peer > 0,
        "no get ran during the update: {gets}"
    );
    let updated = stack.wait_tasks("peer", 4, TASKS_TIMEOUT);
    assert!(
        updated.iter().all(|n| !scaled.contains(n)),
        "tasks not replaced: {updated:?}"
    );
    let mut all = vec![seed.clone()];
    all.extend(updated.iter().cloned());
    for name in &updated {
        for (key, value) in &records {
            lab.get(name, key, value);
        }
    }
    check_addresses(&lab, &all, gwbridge, overlay);
    step(
        t,
        "rolling update done: 4 new peer tasks get every record; no gwbridge address anywhere",
    );
}

/// Gets run during a rolling update.
#[derive(Debug, Default)]
struct Gets {
    seed: u32,
    seed_ok: u32,
    peer: u32,
    peer_ok: u32,
    /// Gets through a peer task that swarm was stopping (its desired state
    /// `shutdown`: the update was replacing it) and that failed: not counted.
    peer_stopped: u32,
    elapsed: Duration,
}

impl std::fmt::Display for Gets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "through the seed {}/{} ok, through running peers {}/{} ok ({} asked a task that stopped meanwhile, not counted), over {:.1} s",
            self.seed_ok,
            self.seed,
            self.peer_ok,
            self.peer,
            self.peer_stopped,
            self.elapsed.as_secs_f64()
        )
    }
}

/// Gets the records in turn through the seed and through a running peer
/// task until the peers' update completes. A get through a peer task that
/// failed because swarm was stopping that task (`docker exec` killed with
/// it) is counted apart: the node was going away, not failing to find.
fn gets_during_update(lab: &Lab, stack: &Stack, seed: &str, records: &[(String, String)]) -> Gets {
    let started = Instant::now();
    let mut gets = Gets::default();
    let ok = |v: &Result<Value, String>, value: &str| {
        v.as_ref()
            .is_ok_and(|v| v["ok"] == true && v["value"] == value)
    };
    let mut i = 0usize;
    loop {
        assert!(
            started.elapsed() < UPDATE_TIMEOUT,
            "update not done within {UPDATE_TIMEOUT:?}: {gets}"
        );
        let state = stack.update_state("peer");
        if state == "completed" && gets.peer > 0 {
            break;
        }
        assert!(
            !state.starts_with("rollback") && state != "paused",
            "update {state}: {gets}"
        );
        let (key, value) = &records[i % records.len()];
        gets.seed += 1;
        if ok(&lab.ctl(seed, &["get", key]), value) {
            gets.seed_ok += 1;
        }
        let running = stack.healthy_tasks("peer");
        if let Some(peer) = running.get(i % running.len().max(1)) {
            let answer = lab.ctl(peer, &["get", key]);
            if ok(&answer, value) {
                gets.peer += 1;
                gets.peer_ok += 1;
            } else if Stack::told_to_stop(peer) {
                eprintln!("[swarm] get {key} through {peer}, a task being stopped: {answer:?}");
                gets.peer_stopped += 1;
            } else {
                eprintln!("[swarm] get {key} through {peer} failed: {answer:?}");
                gets.peer += 1;
            }
        }
        i += 1;
    }
    gets.elapsed = started.elapsed();
    gets
}

/// Every node advertises only overlay addresses (while listening on a
/// docker_gwbridge one too, so the rule had something to drop), and no
/// routing table holds a docker_gwbridge address.
fn check_addresses(lab: &Lab, nodes: &[String], gwbridge: IpNet, overlay: IpNet) {
    let ip_of = |a: &str| -> Option<std::net::IpAddr> {
        let parts: Vec<&str> = a.split('/').collect();
        parts.get(2).and_then(|s| s.parse().ok())
    };
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    for name in nodes {
        let id = lab.ctl(name, &["id"]).unwrap_or_else(|e| panic!("{e}"));
        let listen = strings(&id["listen"]);
        let external = strings(&id["external"]);
        assert!(
            listen
                .iter()
                .any(|a| ip_of(a).is_some_and(|ip| gwbridge.contains(&ip))),
            "{name} listens on no docker_gwbridge address ({gwbridge}): {id}"
        );
        assert!(
            !external.is_empty()
                && external
                    .iter()
                    .all(|a| ip_of(a).is_some_and(|ip| overlay.contains(&ip))),
            "{name} advertises addresses outside the overlay {overlay}: {id}"
        );
        let routing = lab
            .ctl(name, &["routing"])
            .unwrap_or_else(|e| panic!("{e}"));
        let buckets = routing["buckets"].as_array().cloned().unwrap_or_default();
        for peer in buckets
            .iter()
            .flat_map(|b| b["peers"].as_array().cloned().unwrap_or_default())
        {
            for a in strings(&peer["addrs"]) {
                assert!(
                    !ip_of(&a).is_some_and(|ip| gwbridge.contains(&ip)),
                    "{name}'s routing table holds the docker_gwbridge address {a}: {routing}"
                );
            }
        }
    }
}
