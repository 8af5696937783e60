//! The bridge scenario: p2pnode containers on a user-defined bridge
//! network, joined by a network alias, as p2p_setup.md sets them up.

use std::time::Instant;

use crate::engine::{docker, docker_ok, image};
use crate::lab::{Lab, Node};
use crate::{prepare, step};

/// Five nodes on a user-defined bridge; put through one, get through the
/// others; a sixth joins after the put and finds the records over the
/// network; two nodes stop (the seed among them) and every record stays
/// reachable; a stopped node re-created on its volume keeps its peer ID.
pub fn bridge_network_put_get_survive_stops_and_restart() {
    prepare();
    let t = Instant::now();
    let mut lab = Lab::new("br");
    let net = lab.network(&["--driver", "bridge"]);
    step(t, &format!("created bridge network {net}"));

    // The image's contract: non-root, and `ctl` without a node fails clearly.
    let contract = docker_ok(&[
        "image",
        "inspect",
        "--format",
        "{{.Config.User}}|{{json .Config.Healthcheck.Test}}|{{json .Config.Volumes}}|{{json .Config.ExposedPorts}}",
        &image(),
    ]);
    let parts: Vec<&str> = contract.split('|').collect();
    assert_eq!(parts[0], "10001:10001", "image user: {contract}");
    assert!(parts[1].contains("\"ctl\""), "health check: {contract}");
    assert!(parts[2].contains("/data"), "volume: {contract}");
    assert!(
        parts[3].contains("4001/tcp") && parts[3].contains("4001/udp"),
        "ports: {contract}"
    );
    let lonely = docker(&["run", "--rm", "--network", "none", &image(), "ctl", "id"]);
    assert_eq!(lonely.code(), Some(2), "ctl with no node: {lonely}");
    assert!(lonely.stderr.contains("no running node"), "{lonely}");

    // A seed (creates the network, reachable as `seed`) and four peers
    // joining it by that name, as in p2p_setup.md.
    let names = lab.start_seeded(&net, &["seed", "n1", "n2", "n3", "n4"], None);
    for name in &names {
        lab.wait_healthy(name);
    }
    step(t, "5 containers healthy");
    let ids: Vec<String> = names.iter().map(|n| lab.peer_id(n)).collect();
    lab.wait_routing(&names, 4);
    step(t, "every routing table holds the 4 other nodes");

    // Put through n1, get through every other node.
    let records: Vec<(String, String)> = (0..3)
        .map(|i| (format!("key-{i}"), format!("value {i} from {}", names[1])))
        .collect();
    for (key, value) in &records {
        let v = lab.put(&names[1], key, value);
        assert!(
            v["replicated"].as_u64().unwrap_or(0) >= 1,
            "put {key} reached no peer: {v}"
        );
    }
    step(t, "3 records put through n1");
    for name in names.iter().filter(|n| *n != &names[1]) {
        for (key, value) in &records {
            lab.get(name, key, value);
        }
    }
    step(t, "every record got through seed, n2, n3, n4");

    // A node joining after the put holds no copy: its get crosses the network.
    let late = lab.name("n5");
    lab.start(Node {
        name: &late,
        network: &net,
        alias: None,
        ip: None,
        remote: "seed",
    });
    lab.wait_healthy(&late);
    lab.wait_routing(std::slice::from_ref(&late), 2);
    for (key, value) in &records {
        let v = lab.get(&late, key, value);
        assert_ne!(v["from"], "local", "{late} had {key} before asking: {v}");
    }
    step(
        t,
        "n5, started after the put, got every record from its peers",
    );

    // Stop the seed and n2: every record is still found by every survivor.
    lab.stop(&names[0]);
    lab.stop(&names[2]);
    let survivors = [
        names[1].clone(),
        names[3].clone(),
        names[4].clone(),
        late.clone(),
    ];
    step(t, "stopped the seed and n2");
    for name in &survivors {
        for (key, value) in &records {
            lab.get(name, key, value);
        }
    }
    step(t, "every record got through n1, n3, n4, n5");

    // Re-create n2 on its volume; the seed is down, so it joins through n3.
    docker_ok(&["rm", &names[2]]);
    let n3 = names[3].clone();
    lab.start(Node {
        name: &names[2],
        network: &net,
        alias: None,
        ip: None,
        remote: &n3,
    });
    lab.wait_healthy(&names[2]);
    assert_eq!(
        lab.peer_id(&names[2]),
        ids[2],
        "n2 lost its identity across re-creation"
    );
    lab.wait_routing(std::slice::from_ref(&names[2]), 2);
    for (key, value) in &records {
        lab.get(&names[2], key, value);
    }
    step(
        t,
        "n2 re-created on its volume: same peer ID, every record found",
    );
}
