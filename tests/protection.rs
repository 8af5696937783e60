//! A node among hostile peers: a private network whose write policy
//! (`owned+allowlist`) refuses plain puts from a member not on its
//! allowlist, and a put flood from rogue peers that stays within each one's
//! quota and the peers' share of the store while the victim's own puts
//! still succeed (in-process nodes, rogue peers in the test).

use std::collections::BTreeMap;

use p2pnode::store::quota::cost;
use p2pnode::store::{Accept, WritePolicy};
use p2pnode::{Config, dht};
use p2pnode_testkit::rogue::{Rogue, wire_record};
use p2pnode_testkit::{Net, NodeExt, SETTLE, assert_ok, write_swarm_key};

const KIB: usize = 1024;

fn private(key: &std::path::Path, allow: Vec<libp2p::PeerId>) -> impl FnOnce(&mut Config) {
    let key = key.to_path_buf();
    move |c| {
        c.swarm_key = Some(key);
        c.policy = WritePolicy {
            accept: Accept::OwnedAndAllowlist,
            allow,
        };
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owned_and_allowlist_refuses_plain_puts_from_a_member_not_allowed() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let key = tmp.path().join("swarm.key");
    write_swarm_key(&key, 0x5a);
    let mut net = Net::new();
    let writer = net.spawn(private(&key, vec![])).await;
    let allowed = vec![writer.peer_id];
    let seed = net.join(&writer, private(&key, allowed.clone())).await;
    let member = net.join(&writer, private(&key, allowed)).await;
    for n in [&writer, &seed, &member] {
        n.wait_routing(2, SETTLE).await;
    }

    let put = member.cmd("put notice from-a-member").await;
    assert_ok(&put);
    assert_eq!(put["replicated"], 0, "{put}");
    let refused = put["refused"].as_array().expect("refusals");
    assert_eq!(refused.len(), 2, "{put}");
    for r in refused {
        assert!(
            r["reason"].as_str().unwrap_or("").contains("allowlisted"),
            "{r}"
        );
    }
    for n in [&writer, &seed] {
        let s = n.cmd("stats").await;
        assert_eq!(s["records"], 0, "{s}");
        assert_eq!(s["refused_by_reason"]["policy"], 1, "{s}");
    }
    // The allowlisted writer's plain puts and anyone's owned ones pass.
    let put = writer.cmd("put notice from-the-writer").await;
    assert_eq!(put["replicated"], 2, "{put}");
    let put = member.cmd("put @self/notes signed-by-the-member").await;
    assert_eq!(put["replicated"], 2, "{put}");
    let got = seed.cmd(&format!("get @{}/notes", member.peer_id)).await;
    assert_eq!(got["from"], "local", "{got}");
    assert_eq!(got["owner"], member.peer_id.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_flood_stays_within_quotas_and_own_puts_still_succeed() {
    let value = vec![b'x'; 16 * KIB];
    let each = cost(&dht::Record::new(
        dht::RecordKey::new(&"flood-000-0000"),
        value.clone(),
    ));
    let (per_peer, budget) = (KIB * KIB, 3 * KIB * KIB);
    let mut net = Net::new();
    let victim = net
        .spawn(|c| {
            c.limits.max_bytes_per_peer = per_peer;
            c.limits.max_store_bytes = budget;
        })
        .await;
    let addr = victim.listen_addrs[0].clone();

    // Four rogues, 100 values of 16 KiB each: 6.4 MB against a 3 MiB store.
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut stored = Vec::new();
    for r in 0..4 {
        let mut rogue = Rogue::new();
        let peer = rogue.connect(&addr).await;
        let records =
            (0..100).map(|i| wire_record(format!("flood-{r:03}-{i:04}").as_bytes(), &value, 1));
        let flood = rogue.flood(peer, records, 16).await;
        for (reason, n) in flood.refused {
            *refused.entry(reason).or_default() += n;
        }
        stored.push(flood.stored);
    }
    // Each rogue placed at most its quota; together at most the peers' share.
    let quota = per_peer / each;
    let share = (budget - budget.div_ceil(4)) / each;
    assert!(stored.iter().all(|n| *n <= quota), "{stored:?} > {quota}");
    assert_eq!(stored[0], quota, "the first fills its quota: {stored:?}");
    assert_eq!(stored.iter().sum::<usize>(), share, "{stored:?}");
    assert!(refused.keys().any(|r| r.contains("quota")), "{refused:?}");
    assert!(
        refused.keys().any(|r| r.contains("other peers")),
        "{refused:?}"
    );
    let s = victim.cmd("stats").await;
    assert!(
        s["refused_by_reason"]["peer_quota"].as_u64() > Some(0),
        "{s}"
    );
    assert!(
        s["refused_by_reason"]["peers_share_full"].as_u64() > Some(0),
        "{s}"
    );
    assert!(s["record_bytes"].as_u64() <= Some(budget as u64), "{s}");

    // The victim's own puts fit in the room kept for them.
    let own = "o".repeat(16 * KIB);
    for i in 0..30 {
        assert_ok(&victim.cmd(&format!("put own-{i} {own}")).await);
    }
    let s = victim.cmd("stats").await;
    assert_eq!(s["records"].as_u64(), Some((share + 30) as u64), "{s}");
}
