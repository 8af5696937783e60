//! The friendly text rendering. Everything that comes from a user or a
//! peer (values, keys, agent strings, addresses, error messages) is
//! escaped, so it can neither fake a second line nor send terminal control
//! codes; values that are not UTF-8 are shown as `hex:..`.

use std::borrow::Cow;
use std::fmt::Write;

use libp2p::Multiaddr;

use super::{Body, Reply, ms};
use crate::quote::{escape_controls, needs_escape, quote_always};
use crate::reports::{
    Bucket, Close, Found, GetReport, NodeInfo, PeerInfo, ProvidersReport, PutReport, Stats,
};

/// A value as shown to a person, reversibly: distinct values always look
/// different. Text is shown as it is, unless it is empty, has spaces at
/// either end, control characters, or starts with `"` or `hex:`: then it is
/// shown in double quotes with escapes (as it could be typed). Bytes that
/// are not UTF-8 are shown as `hex:` and their hex digits.
pub fn show_value(value: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(value) {
        Ok(s)
            if !s.is_empty()
                && !s.starts_with(char::is_whitespace)
                && !s.ends_with(char::is_whitespace)
                && !s.starts_with('"')
                && !s.starts_with("hex:")
                && !s.chars().any(needs_escape) =>
        {
            Cow::Borrowed(s)
        }
        Ok(s) => Cow::Owned(quote_always(s)),
        Err(_) => Cow::Owned(format!("hex:{}", hex::encode(value))),
    }
}

/// The text for `reply` (never ending with a newline).
pub(super) fn render(reply: &Reply) -> String {
    let key = reply.key().map(ToString::to_string).unwrap_or_default();
    let error = reply
        .failure()
        .map(|f| format!("error: {}", escape_controls(&f.to_string())));
    let Some(body) = reply.body() else {
        return error.unwrap_or_default();
    };
    let text = body_text(body, &key, error);
    match reply.picture() {
        Some(p) => super::svg::with_note(text, p),
        None => text,
    }
}

fn body_text(body: &Body, key: &str, error: Option<String>) -> String {
    let text = match body {
        Body::Put(p) => return put(p, key, error),
        Body::Get(g) => return get(g, key, error),
        Body::Trace(t) => super::trace::text(t, key),
        Body::Provide(p) => format!(
            "providing {key}: announced to {} peer(s) ({} ms)",
            p.announced,
            ms(p.elapsed)
        ),
        Body::Providers(p) => providers(p, key),
        Body::Peers(peers) => peers_text(peers),
        Body::Id(info) => id(info),
        Body::Routing(buckets) => routing(buckets),
        Body::Closest(close) => closest(close, key),
        Body::Dial(peer) => format!("connected to {peer}"),
        Body::Bootstrap(n) => format!("bootstrap done: {n} peer(s) in the routing table"),
        Body::Stats(s) => stats(s),
        Body::Help(h) => help(h),
        Body::Quit => "bye".into(),
        other => super::ops::text(other),
    };
    match error {
        Some(error) => format!("{error}\n{text}"),
        None => text,
    }
}

fn put(p: &PutReport, key: &str, error: Option<String>) -> String {
    let mut peers = match (p.replicated, p.wanted) {
        (0, 0) => "no other peer to send it to (a one-node network?)".to_string(),
        (1, _) => "replicated to 1 peer".to_string(),
        (n, _) => format!("replicated to {n} peers"),
    };
    if let Some(r) = super::refusals(p) {
        let _ = write!(peers, "; {r}");
    }
    if p.unreachable > 0 {
        let _ = write!(peers, "; {} did not answer", p.unreachable);
    }
    match error {
        None => format!("stored {key} locally; {peers} ({} ms)", ms(p.elapsed)),
        Some(error) => format!("{error} ({key}, {} ms)", ms(p.elapsed)),
    }
}

fn from(f: &Found) -> String {
    f.from.map_or("local store".into(), |p| p.to_string())
}

fn get(g: &GetReport, key: &str, error: Option<String>) -> String {
    let meta = format!("{} ms, {} peers asked", ms(g.elapsed), g.peers_queried);
    let mut s = error.map(|e| e + "\n").unwrap_or_default();
    match g.values.as_slice() {
        [] => s = format!("{} ({key}: {meta})", s.trim_end()),
        [one] => {
            let stale = match g.stale {
                0 => String::new(),
                n => format!(
                    "; {n} older cop{} seen and repaired",
                    if n == 1 { "y" } else { "ies" }
                ),
            };
            let owner = one
                .owner
                .map(|o| format!(", owned by {o}"))
                .unwrap_or_default();
            let _ = write!(
                s,
                "{}\n  ({key}: from {}{owner}, {meta}{stale})",
                show_value(&one.value),
                from(one)
            );
        }
        many => {
            let _ = write!(
                s,
                "{key} has {} different values that cannot be ordered (no versions; {meta}):",
                many.len()
            );
            for f in many {
                let _ = write!(s, "\n  {}  (from {})", show_value(&f.value), from(f));
            }
        }
    }
    s
}

fn addrs(a: &[Multiaddr]) -> String {
    let all: Vec<String> = a.iter().map(ToString::to_string).collect();
    escape_controls(&all.join(", ")).into_owned()
}

fn providers(p: &ProvidersReport, key: &str) -> String {
    let mut s = match p.providers.len() {
        0 => format!("no providers for {key}"),
        n => format!("{n} provider(s) for {key}"),
    };
    let _ = write!(s, " ({} ms)", ms(p.elapsed));
    if !p.providers.is_empty() {
        s.push(':');
    }
    for peer in &p.providers {
        let _ = write!(s, "\n  {peer}");
    }
    s
}

fn id(info: &NodeInfo) -> String {
    let mut s = format!(
        "peer id: {}\n  k (replication factor): {}  alpha: {}",
        info.peer, info.k, info.alpha
    );
    for a in &info.listen {
        let _ = write!(s, "\n  listening: {}", addrs(std::slice::from_ref(a)));
    }
    for a in &info.external {
        let _ = write!(s, "\n  external:  {}", addrs(std::slice::from_ref(a)));
    }
    let names: Vec<&str> = info.kad_protocols.iter().map(AsRef::as_ref).collect();
    let _ = write!(s, "\n  DHT:       {}", names.join(", "));
    s
}

fn peers_text(peers: &[PeerInfo]) -> String {
    if peers.is_empty() {
        return "no connected peers".into();
    }
    let mut s = format!("{} connected peer(s):", peers.len());
    for p in peers {
        let rtt = p
            .rtt
            .map(|r| format!(" rtt {} ms", ms(r)))
            .unwrap_or_default();
        let agent = escape_controls(p.agent.as_deref().unwrap_or("?"));
        let _ = write!(s, "\n  {}  {}  [{agent}]{rtt}", p.peer, addrs(&p.addrs));
    }
    s
}

fn routing(buckets: &[Bucket]) -> String {
    let total: usize = buckets.iter().map(|b| b.entries.len()).sum();
    let mut s = format!(
        "routing table: {total} peer(s) in {} k-bucket(s); k-bucket i holds the peers \
         at XOR distance [2^i, 2^(i+1)) from this node's ID hash",
        buckets.len()
    );
    for b in buckets {
        let _ = write!(
            s,
            "\n  k-bucket {:>3}: {} peer(s)",
            b.index,
            b.entries.len()
        );
        for (p, a, connected) in &b.entries {
            let c = if *connected {
                "connected"
            } else {
                "disconnected"
            };
            let _ = write!(s, "\n    {p}  {c}  {}", addrs(a));
        }
    }
    s
}

fn closest(close: &[Close], key: &str) -> String {
    if close.is_empty() {
        return "no known peers".into();
    }
    let mut s = format!(
        "{} closest known peer(s) to {key}; common prefix: how many leading bits of the \
         peer's ID hash equal the key's hash (more is closer)",
        close.len()
    );
    for c in close {
        let _ = write!(
            s,
            "\n  {}  common prefix {:>3} bits  distance {}",
            c.peer, c.common_prefix_bits, c.distance
        );
    }
    s
}

fn stats(s: &Stats) -> String {
    let by_type: Vec<String> = s
        .requests_by_type
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    let by_type = match by_type.is_empty() {
        true => String::new(),
        false => format!(" ({})", by_type.join(", ")),
    };
    format!(
        "peers {}  connections {} ({} denied)  routing table {}  records {}  provided {}\n\
         queries started {} (active {})  requests served {}{by_type}  records refused {}{}  uptime {} s\n\
         record bytes {}  damaged records at start {}\n\
         k (replication factor) {}  alpha {}  commands served {}  metrics {}",
        s.connected_peers,
        s.connections,
        s.connections_denied,
        s.routing_table,
        s.records,
        s.provided,
        s.queries_started,
        s.queries_active,
        s.requests_served,
        s.records_refused,
        refused_by_reason(s),
        s.uptime_secs,
        s.record_bytes,
        s.records_corrupt,
        s.k,
        s.alpha,
        s.commands_served,
        s.metrics
            .map_or("off".to_string(), |a| format!("http://{a}/metrics"))
    )
}

/// ` (reason n, ...)` after the refusal count, when there were any.
fn refused_by_reason(s: &Stats) -> String {
    if s.refused_by_reason.is_empty() {
        return String::new();
    }
    let each: Vec<String> = s
        .refused_by_reason
        .iter()
        .map(|(reason, n)| format!("{reason} {n}"))
        .collect();
    format!(" ({})", each.join(", "))
}

/// The text of `help` (and the end of `p2pnode --help`): each command's
/// usage, what it does and its aliases, then the quoting rules.
pub fn help(h: &super::Help) -> String {
    let mut s = String::from("commands:");
    for c in &h.commands {
        let aliases = match c.aliases {
            [] => String::new(),
            a => format!(" (also: {})", a.join(", ")),
        };
        s.push_str(&format!("\n  {:<32} {}{aliases}", c.usage, c.about));
    }
    s.push_str("\nquoting:");
    for rule in h.quoting {
        s.push_str(&format!("\n  {rule}"));
    }
    s
}
