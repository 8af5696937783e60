//! The `--json` rendering: one object per reply, and the events printed at
//! start. A value that is not UTF-8 keeps its exact bytes in `value_hex`
//! (and `values_hex` on a conflict); `value`/`values` then hold U+FFFD for
//! the bytes that are not UTF-8.

use serde_json::{Map, Value, json};

use super::{Body, Reply, ms};
use crate::reports::{Found, GetReport};

/// The JSON object for `reply`.
pub(super) fn render(reply: &Reply) -> Value {
    let mut obj = Map::new();
    obj.insert("cmd".into(), json!(reply.cmd()));
    obj.insert("ok".into(), json!(reply.ok()));
    if let Some(key) = reply.key() {
        obj.insert("key".into(), json!(key.text()));
    }
    if let Some(failure) = reply.failure() {
        obj.insert("error".into(), json!(failure.to_string()));
    }
    if let Some(Value::Object(fields)) = reply.body().map(body) {
        obj.extend(fields);
    }
    if let Some(p) = reply.picture() {
        obj.insert("svg".into(), json!(p.path.display().to_string()));
    }
    Value::Object(obj)
}

fn strings<T: ToString>(items: &[T]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

fn body(body: &Body) -> Value {
    match body {
        Body::Put(p) => json!({
            "stored_locally": true,
            "version": p.version.0,
            "replicated": p.replicated,
            "replicated_to": strings(&p.replicated_to),
            "refused": p.refused.iter().map(|r| json!({
                "peer": r.peer.to_string(), "reason": r.reason,
            })).collect::<Vec<_>>(),
            "unreachable": p.unreachable,
            "elapsed_ms": ms(p.elapsed),
        }),
        Body::Get(g) => get(g),
        Body::Provide(p) => json!({ "announced": p.announced, "elapsed_ms": ms(p.elapsed) }),
        Body::Trace(t) => super::trace::json(t),
        Body::Providers(p) => json!({
            "providers": strings(&p.providers),
            "peers_queried": p.peers_queried,
            "elapsed_ms": ms(p.elapsed),
        }),
        Body::Peers(peers) => json!({
            "count": peers.len(),
            "peers": peers.iter().map(|p| json!({
                "peer": p.peer.to_string(),
                "addrs": strings(&p.addrs),
                "agent": p.agent,
                "rtt_ms": p.rtt.map(ms),
            })).collect::<Vec<_>>(),
        }),
        Body::Id(info) => json!({
            "peer_id": info.peer.to_string(),
            "listen": strings(&info.listen),
            "external": strings(&info.external),
            "k": info.k,
            "alpha": info.alpha,
            "dht_protocols": strings(&info.kad_protocols),
        }),
        Body::Routing(buckets) => json!({
            "size": buckets.iter().map(|b| b.entries.len()).sum::<usize>(),
            "buckets": buckets.iter().map(|b| json!({
                "index": b.index,
                "count": b.entries.len(),
                "peers": b.entries.iter().map(|(p, a, c)| json!({
                    "peer": p.to_string(), "addrs": strings(a), "connected": c,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }),
        Body::Closest(close) => json!({
            "peers": close.iter().map(|c| json!({
                "peer": c.peer.to_string(),
                "distance": c.distance,
                "common_prefix_bits": c.common_prefix_bits,
            })).collect::<Vec<_>>(),
        }),
        Body::Dial(peer) => json!({ "peer": peer.to_string() }),
        Body::Bootstrap(n) => json!({ "routing_table": n }),
        Body::Stats(s) => json!({
            "connected_peers": s.connected_peers,
            "connections": s.connections,
            "routing_table": s.routing_table,
            "records": s.records,
            "provided": s.provided,
            "provider_records": s.provider_records,
            "queries_started": s.queries_started,
            "queries_active": s.queries_active,
            "requests_served": s.requests_served,
            "requests_by_type": s.requests_by_type,
            "k": s.k,
            "alpha": s.alpha,
            "records_refused": s.records_refused,
            "refused_by_reason": s.refused_by_reason,
            "record_bytes": s.record_bytes,
            "records_corrupt": s.records_corrupt,
            "connections_denied": s.connections_denied,
            "unflushed": s.unflushed,
            "uptime_secs": s.uptime_secs,
            "commands_served": s.commands_served,
            "records_limit": s.records_limit,
            "store_bytes": s.store_bytes,
            "store_write_errors": s.store_write_errors,
            "store_failing": s.store_failing,
            "store_unknown_entries": s.store_unknown_entries,
            "store_quarantined": s.store_quarantined,
            "metrics": s.metrics.map(|a| a.to_string()),
        }),
        Body::Help(h) => json!({
            "commands": h.commands.iter().map(|c| json!({
                "name": c.name,
                "aliases": c.aliases,
                "usage": c.usage,
                "about": c.about,
            })).collect::<Vec<_>>(),
            "quoting": h.quoting,
        }),
        Body::Quit => json!({}),
        other => super::ops::json(other),
    }
}

fn get(g: &GetReport) -> Value {
    let mut m = json!({
        "copies": g.copies,
        "stale": g.stale,
        "peers_queried": g.peers_queried,
        "elapsed_ms": ms(g.elapsed),
    });
    let text = |f: &Found| String::from_utf8_lossy(&f.value).into_owned();
    let not_utf8 = |f: &Found| std::str::from_utf8(&f.value).is_err();
    if let Some(first) = g.values.first() {
        m["value"] = json!(text(first));
        if not_utf8(first) {
            m["value_hex"] = json!(hex::encode(&first.value));
        }
        m["from"] = json!(first.from.map_or("local".to_string(), |p| p.to_string()));
        m["conflict"] = json!(g.conflict);
        m["version"] = json!(first.version.0);
        if let Some(owner) = first.owner {
            m["owner"] = json!(owner.to_string());
        }
    }
    if g.oversized > 0 {
        m["oversized"] = json!(g.oversized);
    }
    if g.values.len() > 1 {
        m["values"] = g.values.iter().map(text).collect();
        if g.values.iter().any(not_utf8) {
            m["values_hex"] = g.values.iter().map(|f| hex::encode(&f.value)).collect();
        }
    }
    m
}

/// The JSON line telling where Prometheus metrics are served (`--metrics`).
pub fn metrics_event(addr: &std::net::SocketAddr) -> String {
    json!({ "event": "metrics", "addr": addr.to_string() }).to_string()
}

/// The JSON line announcing a listen address at start.
pub fn listening_event(addr: &libp2p::Multiaddr) -> String {
    json!({ "event": "listening", "addr": addr.to_string() }).to_string()
}
