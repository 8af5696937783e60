//! Replies rendered for people (friendly text) or for programs (`--json`:
//! exactly one JSON object per line, with at least `"cmd"` and `"ok"`, and
//! `"error"` on failure). The one place that decides what a user sees.

use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use serde_json::{Value, json};

use crate::network::client::{
    Bucket, Close, GetReport, NodeInfo, PeerInfo, ProvidersReport, PutReport, Stats,
};

/// How replies are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Friendly text.
    Human,
    /// One JSON object per line.
    Json,
}

/// What a command produced.
#[derive(Debug)]
pub enum Body {
    /// `put`.
    Put(PutReport),
    /// `get` (no values: not found).
    Get(GetReport),
    /// `provide`.
    Provide(Duration),
    /// `providers`.
    Providers(ProvidersReport),
    /// `peers`.
    Peers(Vec<PeerInfo>),
    /// `id`.
    Id(NodeInfo),
    /// `routing`.
    Routing(Vec<Bucket>),
    /// `closest`.
    Closest(Vec<Close>),
    /// `dial`.
    Dial(PeerId),
    /// `bootstrap`: the routing table's size afterwards.
    Bootstrap(usize),
    /// `stats`.
    Stats(Stats),
    /// `help`.
    Help,
    /// `quit`.
    Quit,
}

/// The answer to one command line.
#[derive(Debug)]
pub struct Reply {
    /// The command's name (`put`, `get`, ...; the first word when unknown).
    pub cmd: String,
    /// The key as the user typed it, for commands that take one.
    pub key: Option<String>,
    /// What it produced, or the one-line error.
    pub body: Result<Body, String>,
}

/// The commands and what they do, for `help`.
pub const HELP: &[(&str, &str)] = &[
    (
        "put KEY VALUE [--quorum N|all]",
        "store VALUE (rest of the line) under KEY, locally and on the k closest peers",
    ),
    (
        "get KEY [--quorum N|all]",
        "look KEY up in the DHT; all distinct values found are shown",
    ),
    ("provide KEY", "announce this node as a provider of KEY"),
    ("providers KEY", "find the providers of KEY"),
    ("peers", "connected peers and their addresses"),
    ("id", "this node's peer ID and full listen addresses"),
    ("routing", "the routing table, k-bucket by k-bucket"),
    (
        "closest KEY",
        "the k closest known peers to KEY, with XOR distance",
    ),
    ("dial ADDR", "connect to a peer (multiaddr, host:port, ...)"),
    (
        "bootstrap",
        "dial the bootstrap peers and refresh the routing table",
    ),
    (
        "stats",
        "counters: connections, routing table, records, queries",
    ),
    ("help", "this list"),
    ("quit", "shut down (Ctrl-D too)"),
];

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn strings<T: ToString>(items: &[T]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

impl Reply {
    /// Whether the command succeeded (the `"ok"` of its JSON).
    pub fn ok(&self) -> bool {
        match &self.body {
            Err(_) => false,
            Ok(Body::Put(p)) => p.quorum_met,
            Ok(Body::Get(g)) => !g.values.is_empty() && g.quorum_met,
            Ok(_) => true,
        }
    }

    /// The failure message, if the command failed.
    fn error(&self) -> Option<String> {
        match &self.body {
            Err(e) => Some(e.clone()),
            Ok(Body::Put(p)) if !p.quorum_met => Some(format!(
                "quorum not met: stored locally, replicated to {} peer(s)",
                p.replicated
            )),
            Ok(Body::Get(g)) if g.values.is_empty() => Some("not found".into()),
            Ok(Body::Get(g)) if !g.quorum_met => {
                Some(format!("quorum not met: found {} copies", g.copies))
            }
            Ok(_) => None,
        }
    }

    /// Renders the reply: one JSON line, or text (possibly several lines).
    /// The result never ends with a newline.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => self.to_json().to_string(),
            Format::Human => self.to_text(),
        }
    }

    /// The JSON object for this reply.
    pub fn to_json(&self) -> Value {
        let mut v = json!({ "cmd": self.cmd, "ok": self.ok() });
        let obj = v
            .as_object_mut()
            .expect("json! of an object literal is an object");
        if let Some(key) = &self.key {
            obj.insert("key".into(), json!(key));
        }
        if let Some(e) = self.error() {
            obj.insert("error".into(), json!(e));
        }
        let extra = match &self.body {
            Err(_) => json!({}),
            Ok(Body::Put(p)) => json!({
                "stored_locally": true,
                "replicated": p.replicated,
                "elapsed_ms": ms(p.elapsed),
            }),
            Ok(Body::Get(g)) => {
                let mut m = json!({
                    "copies": g.copies,
                    "stale": g.stale,
                    "peers_queried": g.peers_queried,
                    "elapsed_ms": ms(g.elapsed),
                });
                if let Some(first) = g.values.first() {
                    m["value"] = json!(String::from_utf8_lossy(&first.value));
                    if std::str::from_utf8(&first.value).is_err() {
                        m["value_hex"] = json!(hex::encode(&first.value));
                    }
                    m["from"] = json!(first.from.map_or("local".to_string(), |p| p.to_string()));
                    m["conflict"] = json!(g.conflict);
                }
                if g.values.len() > 1 {
                    m["values"] = g
                        .values
                        .iter()
                        .map(|f| String::from_utf8_lossy(&f.value).into_owned())
                        .collect();
                }
                m
            }
            Ok(Body::Provide(d)) => json!({ "elapsed_ms": ms(*d) }),
            Ok(Body::Providers(p)) => json!({
                "providers": strings(&p.providers),
                "elapsed_ms": ms(p.elapsed),
            }),
            Ok(Body::Peers(peers)) => json!({
                "count": peers.len(),
                "peers": peers.iter().map(|p| json!({
                    "peer": p.peer.to_string(),
                    "addrs": strings(&p.addrs),
                    "agent": p.agent,
                    "rtt_ms": p.rtt.map(ms),
                })).collect::<Vec<_>>(),
            }),
            Ok(Body::Id(info)) => json!({
                "peer_id": info.peer.to_string(),
                "listen": strings(&info.listen),
                "external": strings(&info.external),
            }),
            Ok(Body::Routing(buckets)) => json!({
                "size": buckets.iter().map(|b| b.entries.len()).sum::<usize>(),
                "buckets": buckets.iter().map(|b| json!({
                    "index": b.index,
                    "count": b.entries.len(),
                    "peers": b.entries.iter().map(|(p, a, c)| json!({
                        "peer": p.to_string(), "addrs": strings(a), "connected": c,
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            }),
            Ok(Body::Closest(close)) => json!({
                "peers": close.iter().map(|c| json!({
                    "peer": c.peer.to_string(), "distance": c.distance, "bucket": c.bucket,
                })).collect::<Vec<_>>(),
            }),
            Ok(Body::Dial(peer)) => json!({ "peer": peer.to_string() }),
            Ok(Body::Bootstrap(n)) => json!({ "routing_table": n }),
            Ok(Body::Stats(s)) => json!({
                "connected_peers": s.connected_peers,
                "connections": s.connections,
                "routing_table": s.routing_table,
                "records": s.records,
                "provided": s.provided,
                "queries_started": s.queries_started,
                "queries_active": s.queries_active,
                "requests_served": s.requests_served,
                "records_refused": s.records_refused,
                "unflushed": s.unflushed,
                "uptime_secs": s.uptime_secs,
                "commands_served": s.commands_served,
                "metrics": s.metrics.map(|a| a.to_string()),
            }),
            Ok(Body::Help) => json!({
                "commands": HELP.iter().map(|(c, d)| json!({"usage": c, "about": d})).collect::<Vec<_>>(),
            }),
            Ok(Body::Quit) => json!({}),
        };
        if let Value::Object(extra) = extra {
            obj.extend(extra);
        }
        v
    }

    fn to_text(&self) -> String {
        let key = self.key.as_deref().unwrap_or("");
        let body = match &self.body {
            Err(e) => return format!("error: {e}"),
            Ok(b) => b,
        };
        match body {
            Body::Put(p) => {
                let peers = match p.replicated {
                    0 => "no other peer took it (a one-node network?)".to_string(),
                    1 => "replicated to 1 peer".to_string(),
                    n => format!("replicated to {n} peers"),
                };
                let verdict = if p.quorum_met {
                    "stored"
                } else {
                    "error: quorum not met:"
                };
                format!("{verdict} {key} locally; {peers} ({} ms)", ms(p.elapsed))
            }
            Body::Get(g) => {
                let meta = format!("{} ms, {} peers asked", ms(g.elapsed), g.peers_queried);
                match g.values.as_slice() {
                    [] => format!("not found: {key} ({meta})"),
                    [one] => {
                        let from = one.from.map_or("local store".into(), |p| p.to_string());
                        let q = if g.quorum_met {
                            String::new()
                        } else {
                            format!(" quorum not met: {} copies;", g.copies)
                        };
                        format!(
                            "{}\n  ({key}:{q} from {from}, {meta})",
                            String::from_utf8_lossy(&one.value)
                        )
                    }
                    many => {
                        let mut s = format!("{key} has {} different values ({meta}):", many.len());
                        for f in many {
                            let from = f.from.map_or("local store".into(), |p| p.to_string());
                            s.push_str(&format!(
                                "\n  {}  (from {from})",
                                String::from_utf8_lossy(&f.value)
                            ));
                        }
                        s
                    }
                }
            }
            Body::Provide(d) => format!("providing {key} ({} ms)", ms(*d)),
            Body::Providers(p) if p.providers.is_empty() => {
                format!("no providers for {key} ({} ms)", ms(p.elapsed))
            }
            Body::Providers(p) => format!(
                "{} provider(s) for {key} ({} ms):\n  {}",
                p.providers.len(),
                ms(p.elapsed),
                strings(&p.providers).join("\n  ")
            ),
            Body::Peers(peers) if peers.is_empty() => "no connected peers".into(),
            Body::Peers(peers) => {
                let mut s = format!("{} connected peer(s):", peers.len());
                for p in peers {
                    let rtt = p
                        .rtt
                        .map(|r| format!(" rtt {} ms", ms(r)))
                        .unwrap_or_default();
                    let agent = p.agent.as_deref().unwrap_or("?");
                    s.push_str(&format!(
                        "\n  {}  {}  [{agent}]{rtt}",
                        p.peer,
                        addrs(&p.addrs)
                    ));
                }
                s
            }
            Body::Id(info) => {
                let mut s = format!("peer id: {}", info.peer);
                for a in &info.listen {
                    s.push_str(&format!("\n  listening: {a}"));
                }
                for a in &info.external {
                    s.push_str(&format!("\n  external:  {a}"));
                }
                s
            }
            Body::Routing(buckets) => {
                let total: usize = buckets.iter().map(|b| b.entries.len()).sum();
                let mut s = format!(
                    "routing table: {total} peer(s) in {} bucket(s)",
                    buckets.len()
                );
                for b in buckets {
                    s.push_str(&format!(
                        "\n  bucket {:>3}: {} peer(s)",
                        b.index,
                        b.entries.len()
                    ));
                    for (p, a, connected) in &b.entries {
                        let c = if *connected {
                            "connected"
                        } else {
                            "disconnected"
                        };
                        s.push_str(&format!("\n    {p}  {c}  {}", addrs(a)));
                    }
                }
                s
            }
            Body::Closest(close) if close.is_empty() => "no known peers".into(),
            Body::Closest(close) => {
                let mut s = format!("{} closest known peer(s) to {key}:", close.len());
                for c in close {
                    let bucket = c.bucket.map_or("-".into(), |b| b.to_string());
                    s.push_str(&format!(
                        "\n  {}  bucket {bucket:>3}  distance {}",
                        c.peer, c.distance
                    ));
                }
                s
            }
            Body::Dial(peer) => format!("connected to {peer}"),
            Body::Bootstrap(n) => format!("bootstrap done: {n} peer(s) in the routing table"),
            Body::Stats(s) => format!(
                "peers {}  connections {}  routing table {}  records {}  provided {}\n\
                 queries started {} (active {})  requests served {}  records refused {}  uptime {} s\n\
                 commands served {}  metrics {}",
                s.connected_peers,
                s.connections,
                s.routing_table,
                s.records,
                s.provided,
                s.queries_started,
                s.queries_active,
                s.requests_served,
                s.records_refused,
                s.uptime_secs,
                s.commands_served,
                s.metrics
                    .map_or("off".to_string(), |a| format!("http://{a}/metrics"))
            ),
            Body::Help => {
                let mut s = String::from("commands:");
                for (c, d) in HELP {
                    s.push_str(&format!("\n  {c:<34} {d}"));
                }
                s
            }
            Body::Quit => "bye".into(),
        }
    }
}

fn addrs(a: &[Multiaddr]) -> String {
    strings(a).join(", ")
}

/// The JSON line telling where Prometheus metrics are served (`--metrics`).
pub fn metrics_event(addr: &std::net::SocketAddr) -> String {
    json!({ "event": "metrics", "addr": addr.to_string() }).to_string()
}

/// The JSON line announcing a listen address at start.
pub fn listening_event(addr: &Multiaddr) -> String {
    json!({ "event": "listening", "addr": addr.to_string() }).to_string()
}
