//! The macvlan scenario: p2pnode containers on a macvlan network over a
//! parent interface the test creates itself (a dummy, or a veth pair where
//! the kernel has no dummy driver), each with its own MAC and address.

use std::time::{Duration, Instant};

use crate::engine::{repo, run};
use crate::lab::Lab;
use crate::{prepare, step};

/// Three nodes on a macvlan network over a parent interface of the test's
/// own: each gets its own MAC and an address of the test's subnet, and a
/// value put through one is got through the others.
pub fn macvlan_network_put_get() {
    prepare();
    let t = Instant::now();
    let mut lab = Lab::new("mv");
    let pid = std::process::id();
    let parent = format!("p2pt{pid}");
    let script = repo().join("docker/macvlan-parent.sh");
    lab.res.interfaces.push(parent.clone());
    let made = run(
        "bash",
        &[
            script.to_str().unwrap_or("docker/macvlan-parent.sh"),
            "up",
            &parent,
        ],
        Duration::from_secs(20),
    );
    if !made.ok() {
        lab.res.interfaces.clear();
        panic!("creating the macvlan parent {parent} failed: {made}");
    }
    step(t, made.stdout.trim());
    // A /24 of our own, spread by pid so parallel runs do not overlap.
    let (a, b) = (200 + pid % 50, (pid / 50) % 256);
    let subnet = format!("10.{a}.{b}.0/24");
    let seed_ip = format!("10.{a}.{b}.10");
    let range = format!("10.{a}.{b}.128/25");
    let parent_opt = format!("parent={parent}");
    let net = lab.network(&[
        "--driver",
        "macvlan",
        "--subnet",
        &subnet,
        "--ip-range",
        &range,
        "-o",
        &parent_opt,
        "-o",
        "macvlan_mode=bridge",
    ]);

    let names = lab.start_seeded(&net, &["seed", "n1", "n2"], Some(&seed_ip));
    for name in &names {
        lab.wait_healthy(name);
        let ip = lab.ip_of(name);
        assert!(
            ip.starts_with(&format!("10.{a}.{b}.")),
            "{name} has address {ip}, not in {subnet}"
        );
    }
    step(
        t,
        &format!("3 containers healthy on macvlan {net} ({subnet})"),
    );
    lab.wait_routing(&names, 2);

    // The seed's connections run over the macvlan subnet.
    let peers = lab
        .ctl(&names[0], &["peers"])
        .unwrap_or_else(|e| panic!("{e}"));
    let addrs = peers["peers"].to_string();
    assert!(
        addrs.contains(&format!("/ip4/10.{a}.{b}.")),
        "seed peers not on {subnet}: {peers}"
    );

    lab.put(&names[1], "macvlan-greeting", "hello over macvlan");
    for name in [&names[0], &names[2]] {
        lab.get(name, "macvlan-greeting", "hello over macvlan");
    }
    step(t, "put through n1, got through the seed and n2");
}
