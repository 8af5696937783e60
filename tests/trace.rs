//! `trace`, in-process: a lookup followed request by request through a
//! network with a small k, checked against what the other nodes counted
//! receiving; the pictures read back with an XML parser; bad input.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use p2pnode::Node;
use p2pnode::dht::Point;
use p2pnode::output::Format;
use p2pnode::repl;
use p2pnode_testkit::kad::spawn_with_k;
use p2pnode_testkit::{Net, NodeExt, Wait, assert_error, assert_ok};
use serde_json::Value;

/// How long the other nodes' counters may take to show a request.
const COUNTED: Duration = Duration::from_secs(5);

/// GET_VALUE requests each node has served so far.
async fn get_values_served(net: &Net) -> Vec<u64> {
    let mut out = Vec::new();
    for n in &net.nodes {
        let s = n.cmd("stats").await;
        out.push(s["requests_by_type"]["GET_VALUE"].as_u64().unwrap_or(0));
    }
    out
}

/// How many records each node holds.
async fn records(net: &Net) -> Vec<u64> {
    let mut out = Vec::new();
    for n in &net.nodes {
        out.push(n.stat("records").await);
    }
    out
}

/// Every step of a trace reply: (round, phase, step).
fn steps(v: &Value) -> Vec<(u64, String, Value)> {
    let mut out = Vec::new();
    for r in v["rounds"].as_array().expect("rounds") {
        for s in r["queried"].as_array().expect("queried") {
            let phase = r["phase"].as_str().expect("phase").to_string();
            out.push((r["round"].as_u64().expect("round"), phase, s.clone()));
        }
    }
    out
}

/// The peers of a reply's steps, and how often each was asked.
fn asked(v: &Value) -> HashMap<String, u64> {
    let mut m = HashMap::new();
    for (_, _, s) in steps(v) {
        *m.entry(s["peer"].as_str().expect("peer").to_string())
            .or_default() += 1;
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_in_a_20_node_network_with_k_3_reaches_a_holder_closer_each_round() {
    let net = spawn_with_k(20, 3, 3).await;
    // A key put by the node closest to it: the 4 closest nodes hold it.
    // The tracer: a node whose routing table holds none of them, so the
    // lookup cannot find the value in its first round (tried over keys
    // until one has such a node).
    let mut chosen = None;
    for attempt in 0..10 {
        let key = format!("the-answer-{attempt}");
        let point = Point::of_bytes(key.as_bytes());
        let putter = net
            .nodes
            .iter()
            .min_by_key(|n| Point::of_peer(&n.peer_id).distance(&point))
            .expect("nodes");
        let before = records(&net).await;
        let put = putter.cmd(&format!("put {key} 42")).await;
        assert_ok(&put);
        assert_eq!(put["replicated"], 3, "{put}");
        let after = records(&net).await;
        let holders: BTreeSet<String> = net
            .nodes
            .iter()
            .zip(after.iter().zip(&before))
            .filter(|(_, (a, b))| a > b)
            .map(|(n, _)| n.peer_id.to_string())
            .collect();
        assert_eq!(holders.len(), 4, "{holders:?}");
        for n in &net.nodes {
            let routing = n.cmd("routing").await.to_string();
            let knows_one = holders.iter().any(|h| routing.contains(h.as_str()));
            if !knows_one && !holders.contains(&n.peer_id.to_string()) {
                chosen = Some((key.clone(), point, holders.clone(), n));
            }
        }
        if chosen.is_some() {
            break;
        }
    }
    let (key, point, holders, tracer) =
        chosen.expect("a node knowing no holder, for one of 10 keys");
    let before = get_values_served(&net).await;
    let v = tracer.cmd(&format!("trace {key}")).await;
    assert_ok(&v);
    assert_eq!(v["value"], "42", "{v}");
    assert_eq!(v["target"], hex::encode(point.as_bytes()), "{v}");
    assert_eq!((v["k"].as_u64(), v["alpha"].as_u64()), (Some(3), Some(3)));
    let holder = v["holder"].as_str().expect("a holder");
    assert!(holders.contains(holder), "{holder} is not a holder: {v}");

    let all = steps(&v);
    assert_eq!(v["peers_queried"], all.len(), "{v}");
    let found = v["found_at_round"].as_u64().expect("found_at_round");
    assert!(
        found >= 2,
        "the tracer knew no holder, yet round {found} found one: {v}"
    );
    let holder_step = all
        .iter()
        .find(|(_, _, s)| s["peer"] == holder)
        .expect("holder asked");
    assert_eq!(holder_step.0, found);
    assert_eq!(holder_step.2["had_value"], true);
    // Kademlia's rule: a round after one that came closer asks the alpha
    // closest not yet asked, so its closest peer is no farther than the
    // last round's; a finishing round asks the rest of the k closest.
    let rounds = v["rounds"].as_array().expect("rounds");
    assert_eq!(rounds[0]["phase"], "converging");
    let closest = |r: &Value| -> String {
        r["queried"]
            .as_array()
            .expect("queried")
            .iter()
            .map(|s| s["distance"].as_str().expect("distance").to_string())
            .min()
            .expect("a request per round")
    };
    for pair in rounds.windows(2) {
        assert!(pair[1]["queried"].as_array().unwrap().len() <= 3, "{v}");
        if pair[1]["phase"] == "converging" {
            assert!(
                closest(&pair[1]) <= closest(&pair[0]),
                "round {} went farther: {v}",
                pair[1]["round"]
            );
        }
    }
    for (_, _, s) in &all {
        let d = s["distance"].as_str().unwrap();
        let peer: libp2p::PeerId = s["peer"].as_str().unwrap().parse().unwrap();
        assert_eq!(d, Point::of_peer(&peer).distance(&point).to_hex());
        assert_eq!(
            s["common_prefix_bits"],
            Point::of_peer(&peer).distance(&point).common_prefix_bits()
        );
    }
    assert!(!asked(&v).contains_key(&tracer.peer_id.to_string()));

    // Every request listed arrived: each node counted as many GET_VALUE
    // requests as the trace says it was sent, and no other node any.
    let want: Vec<u64> = net
        .nodes
        .iter()
        .map(|n| asked(&v).get(&n.peer_id.to_string()).copied().unwrap_or(0))
        .collect();
    Wait::new(COUNTED)
        .eventually_async(|| async {
            let after = get_values_served(&net).await;
            let got: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
            match got == want {
                true => Ok(()),
                false => Err(format!("served {got:?}, trace says {want:?}")),
            }
        })
        .await;
    // The text form reads like the slide: a block per round.
    let text = human(tracer, &format!("trace {key}")).await;
    assert!(text.contains("round 1 · converging"), "{text}");
    assert!(
        text.contains("HAS THE VALUE") && text.contains("found at round"),
        "{text}"
    );
    net.shutdown().await;
}

/// The reply to `line` as a person sees it.
async fn human(node: &Node, line: &str) -> String {
    let mut out = Vec::new();
    repl::run(
        &node.client,
        format!("{line}\n").as_bytes(),
        &mut out,
        Format::Human,
    )
    .await
    .expect("writing to a buffer");
    String::from_utf8(out).expect("UTF-8")
}

/// `data-peer` of every `<g>` whose class has `class`, in `svg`.
fn drawn(svg: &str, class: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}"));
    doc.descendants()
        .filter(|n| n.has_tag_name("g"))
        .filter(|n| {
            n.attribute("class")
                .is_some_and(|c| c.split(' ').any(|w| w == class))
        })
        .filter_map(|n| n.attribute("data-peer").map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pictures_parse_and_draw_each_peer_once_and_other_traces_work() {
    let net = spawn_with_k(8, 2, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (&net[1], &net[6]);

    // The routing table: one element per peer, the same peers as `routing`.
    let file = dir.path().join("routing.svg");
    let v = a.cmd(&format!("routing --svg {}", file.display())).await;
    assert_ok(&v);
    assert_eq!(v["svg"], file.display().to_string());
    let listed: BTreeSet<String> = v["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["peers"].as_array().unwrap().iter())
        .map(|p| p["peer"].as_str().unwrap().to_string())
        .collect();
    let svg = std::fs::read_to_string(&file).unwrap();
    let peers = drawn(&svg, "peer");
    assert_eq!(peers.len(), v["size"].as_u64().unwrap() as usize, "{svg}");
    assert_eq!(peers.into_iter().collect::<BTreeSet<_>>(), listed);

    // A trace: one element per request, the same peers as the JSON.
    assert_ok(&b.cmd("put pic 1").await);
    let file = dir.path().join("trace.svg");
    let v = a.cmd(&format!("trace pic --svg {}", file.display())).await;
    assert_ok(&v);
    let svg = std::fs::read_to_string(&file).unwrap();
    let mut drawn_steps = drawn(&svg, "queried");
    let mut listed: Vec<String> = steps(&v)
        .iter()
        .map(|(_, _, s)| s["peer"].as_str().unwrap().to_string())
        .collect();
    drawn_steps.sort();
    listed.sort();
    assert_eq!(drawn_steps, listed, "{svg}");
    assert_eq!(drawn(&svg, "self"), vec![a.peer_id.to_string()]);

    // --peer: a FIND_NODE lookup that finds the node asked for.
    let target = net[3].peer_id.to_string();
    let v = a.cmd(&format!("trace --peer {target}")).await;
    assert_ok(&v);
    assert_eq!(v["key"], target.as_str());
    assert!(v["found_at_round"].is_u64(), "{v}");
    assert!(!v["addrs"].as_array().unwrap().is_empty(), "{v}");
    // --providers: GET_PROVIDERS, the provider found.
    assert_ok(&net[5].cmd("provide mh:film").await);
    let v = a.cmd("trace --providers mh:film").await;
    assert_ok(&v);
    let providers: Vec<&str> = v["providers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        providers.contains(&net[5].peer_id.to_string().as_str()),
        "{v}"
    );
    // A picture that cannot be written: the trace is shown, the reply fails.
    let v = a.cmd("trace pic --svg /nonexistent-dir/t.svg").await;
    assert_error(&v, "cannot write the picture to /nonexistent-dir/t.svg");
    assert!(v["rounds"].is_array(), "{v}");
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_trace_input_gets_one_line_errors() {
    let mut net = Net::new();
    let lone = net.spawn(|_| {}).await;
    let cases: BTreeMap<&str, &str> = [
        (
            "trace",
            "usage: trace KEY | trace --peer PEER_ID | trace --providers KEY [--svg FILE]",
        ),
        ("trace --peer", "usage: trace"),
        ("trace --peer xyz", "not a peer ID: xyz"),
        ("trace k --svg", "--svg needs a FILE"),
        ("trace a b", "usage: trace"),
        ("routing --svg", "--svg needs a FILE"),
        ("trace k", "no peers to ask: the routing table is empty"),
    ]
    .into();
    for (line, error) in cases {
        let v = lone.cmd(line).await;
        assert_error(&v, error);
        assert!(!v["error"].as_str().unwrap().contains('\n'), "{v}");
        let text = human(&lone, line).await;
        assert_eq!(text.lines().count(), 1, "{line}: {text}");
    }
    let own = lone.cmd(&format!("trace --peer {}", lone.peer_id)).await;
    assert_error(&own, "this node's own peer ID");
    // id and stats show k and alpha.
    let id = lone.cmd("id").await;
    assert_eq!(
        (id["k"].as_u64(), id["alpha"].as_u64()),
        (Some(20), Some(3)),
        "{id}"
    );
    let stats = lone.cmd("stats").await;
    assert_eq!(
        (stats["k"].as_u64(), stats["alpha"].as_u64()),
        (Some(20), Some(3)),
        "{stats}"
    );
    lone.client.shutdown().await.unwrap();
}
