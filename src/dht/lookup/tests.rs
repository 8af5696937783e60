use super::*;
use std::collections::HashMap;

/// A simulated network: every peer's table holds up to `per_bucket`
/// peers of each of its k-buckets (a real Kademlia routing table), and
/// answers with its k closest to the target among those.
struct Net {
    peers: Vec<PeerId>,
    tables: HashMap<PeerId, Vec<PeerId>>,
}

impl Net {
    fn new(n: usize, per_bucket: usize) -> Net {
        let peers: Vec<PeerId> = (0..n).map(|_| PeerId::random()).collect();
        let mut tables = HashMap::new();
        for p in &peers {
            let me = Point::of_peer(p);
            let mut buckets: HashMap<u32, Vec<PeerId>> = HashMap::new();
            for q in peers.iter().filter(|q| *q != p) {
                let b = me.distance(&Point::of_peer(q)).ilog2().unwrap();
                let v = buckets.entry(b).or_default();
                if v.len() < per_bucket {
                    v.push(*q);
                }
            }
            tables.insert(*p, buckets.into_values().flatten().collect());
        }
        Net { peers, tables }
    }

    fn answer(&self, asked: &PeerId, target: &Point, k: usize) -> Vec<PeerAddrs> {
        let mut t = self.tables[asked].clone();
        t.sort_by_key(|q| Point::of_peer(q).distance(target));
        t.into_iter()
            .take(k)
            .map(|peer| PeerAddrs {
                peer,
                addrs: vec![],
            })
            .collect()
    }
}

fn run(net: &Net, start: PeerId, target: Point, k: usize, alpha: usize) -> Lookup {
    let now = Instant::now();
    let seeds = net.answer(&start, &target, k);
    let mut l = Lookup::new(
        target,
        start,
        k,
        alpha,
        seeds.into_iter().map(|p| (p.peer, p.addrs)),
        now,
    );
    for _ in 0..1000 {
        let asks = l.next_requests(now);
        if asks.is_empty() && !l.has_waiting() {
            break;
        }
        for (p, _) in asks {
            let closer = net.answer(&p, &target, k);
            l.on_answer(&p, closer, false, now);
        }
    }
    l
}

#[test]
fn the_lookup_finds_the_k_closest_peers_of_the_network() {
    let net = Net::new(200, 5);
    let target = Point::of_bytes(b"some key");
    let l = run(&net, net.peers[0], target, 5, 3);
    assert!(l.is_finished());
    let found: Vec<PeerId> = l.answered_closest(5).into_iter().map(|p| p.0).collect();
    let mut truth: Vec<PeerId> = net.peers[1..].to_vec();
    truth.sort_by_key(|p| Point::of_peer(p).distance(&target));
    assert_eq!(found, truth[..5].to_vec());
    assert!(l.rounds() >= 2, "{}", l.rounds());
}

#[test]
fn rounds_ask_alpha_peers_until_no_progress_then_the_rest_of_the_k_closest() {
    let net = Net::new(100, 6);
    let target = Point::of_bytes(b"k2");
    let l = run(&net, net.peers[3], target, 6, 2);
    let steps = l.steps();
    // Every converging round asks at most alpha peers, and its closest
    // peer is closer than the previous round's; only the last rounds
    // (no progress) may ask more.
    let rounds = l.rounds();
    let mut per_round: Vec<Vec<&Step>> = vec![Vec::new(); rounds as usize];
    for s in steps {
        per_round[(s.round - 1) as usize].push(s);
    }
    let closest: Vec<Distance> = per_round
        .iter()
        .map(|r| r.iter().map(|s| s.distance).min().unwrap())
        .collect();
    for r in 1..=rounds {
        let i = (r - 1) as usize;
        match l.phase(r).unwrap() {
            Phase::Converging => {
                assert!(per_round[i].len() <= 2, "round {r} asked more than alpha");
                if r > 1 {
                    assert!(closest[i] < closest[i - 1], "round {r} came no closer");
                }
            }
            Phase::Finishing => assert!(r > 1),
        }
    }
    // No peer is asked twice.
    let mut asked: Vec<PeerId> = steps.iter().map(|s| s.peer).collect();
    asked.sort();
    asked.dedup();
    assert_eq!(asked.len(), steps.len());
}

#[test]
fn failures_drop_candidates_and_a_dead_network_ends_the_lookup() {
    let now = Instant::now();
    let seeds: Vec<(PeerId, Vec<Multiaddr>)> = (0..4).map(|_| (PeerId::random(), vec![])).collect();
    let mut l = Lookup::new(Point::of_bytes(b"t"), PeerId::random(), 3, 3, seeds, now);
    let asks = l.next_requests(now);
    assert_eq!(asks.len(), 3);
    for (p, _) in &asks {
        l.on_failure(p, "refused".into(), now);
    }
    // The fourth seed comes up as the others failed.
    let asks2 = l.next_requests(now);
    assert_eq!(asks2.len(), 1);
    l.on_failure(&asks2[0].0, "refused".into(), now);
    assert!(l.is_finished());
    assert!(l.answered_closest(3).is_empty());
    assert!(matches!(
        l.steps()[0].outcome,
        Some((_, Outcome::Failed(_)))
    ));
}

#[test]
fn a_slow_round_does_not_hold_the_next_one() {
    let now = Instant::now();
    let seeds: Vec<(PeerId, Vec<Multiaddr>)> = (0..6).map(|_| (PeerId::random(), vec![])).collect();
    let mut l = Lookup::new(Point::of_bytes(b"t"), PeerId::random(), 6, 2, seeds, now);
    let first = l.next_requests(now);
    assert_eq!(first.len(), 2);
    assert!(l.next_requests(now).is_empty(), "round 1 still running");
    let later = now + ROUND_TIMEOUT;
    let second = l.next_requests(later);
    assert!(!second.is_empty());
    assert_eq!(l.rounds(), 2);
    // The slow peer's late answer still counts, in round 1.
    l.on_answer(&first[0].0, vec![], false, later);
    assert_eq!(l.steps()[0].round, 1);
    assert!(l.steps()[0].outcome.is_some());
}

#[test]
fn no_seeds_means_nothing_to_do() {
    let mut l = Lookup::new(
        Point::of_bytes(b"t"),
        PeerId::random(),
        3,
        3,
        vec![],
        Instant::now(),
    );
    assert!(l.is_finished());
    assert!(l.next_requests(Instant::now()).is_empty());
}
