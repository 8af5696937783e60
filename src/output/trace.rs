//! `trace` as text (one block per round, the distances shrinking down the
//! page, as a lecture slide draws a lookup) and as JSON.

use std::fmt::Write;

use serde_json::{Value, json};

use super::ms;
use super::text::show_value;
use crate::dht::lookup::Phase;
use crate::dht::{Distance, Point};
use crate::quote::escape_controls;
use crate::reports::trace::{TraceReport, TraceStep, TraceTarget};

/// The phase as JSON says it.
fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Converging => "converging",
        Phase::Finishing => "finishing",
    }
}

fn step_json(s: &TraceStep) -> Value {
    json!({
        "peer": s.peer.to_string(),
        "distance": s.distance.to_hex(),
        "common_prefix_bits": s.distance.common_prefix_bits(),
        "returned": s.returned.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "had_value": s.had_value,
        "rtt_ms": s.rtt.map(ms),
        "error": s.error,
    })
}

/// The JSON fields of a trace (besides `cmd`, `ok` and `key`).
pub(super) fn json(r: &TraceReport) -> Value {
    let mut m = json!({
        "request": r.target.request(),
        "target": hex::encode(r.point.as_bytes()),
        "from": r.from.to_string(),
        "k": r.k,
        "alpha": r.alpha,
        "rounds": r.rounds.iter().map(|round| json!({
            "round": round.round,
            "phase": phase_name(round.phase),
            "queried": round.queried.iter().map(step_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "found_at_round": r.holder.map(|(_, round)| round),
        "holder": r.holder.map(|(p, _)| p.to_string()),
        "value": r.value.as_ref().map(|v| String::from_utf8_lossy(v).into_owned()),
        "peers_queried": r.peers_queried(),
        "elapsed_ms": ms(r.elapsed),
    });
    if let Some(v) = r.value.as_ref().filter(|v| std::str::from_utf8(v).is_err()) {
        m["value_hex"] = json!(hex::encode(v));
    }
    match &r.target {
        TraceTarget::Peer(p) => {
            m["key"] = json!(p.to_string());
            m["addrs"] = json!(r.addrs.iter().map(ToString::to_string).collect::<Vec<_>>());
        }
        TraceTarget::Providers(_) => {
            m["providers"] = json!(
                r.providers
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            );
        }
        TraceTarget::Value(_) => {}
    }
    m
}

/// The first `n` bits of a point, as 0s and 1s.
pub fn bits(p: &Point, n: usize) -> String {
    p.as_bytes()
        .iter()
        .flat_map(|b| {
            (0..8)
                .rev()
                .map(move |i| if b >> i & 1 == 1 { '1' } else { '0' })
        })
        .take(n)
        .collect()
}

/// `2^x` for a distance (how far, on the scale the picture uses), x to
/// one decimal, never above 255.9: no XOR distance reaches 2^256, so the
/// farthest peers must not read `2^256.0`.
pub fn log2_text(d: &Distance) -> String {
    match d.log2() {
        Some(l) => format!("2^{:.1}", l.min(255.9)),
        None => "0".into(),
    }
}

fn step_text(s: &TraceStep, target: &Point, found_word: &str) -> String {
    let hash = bits(&Point::of_peer(&s.peer), 8);
    let mut line = format!(
        "  {}  hash {hash}…  prefix {:>3} bits  distance {:<8}",
        s.peer,
        s.distance.common_prefix_bits(),
        log2_text(&s.distance)
    );
    let rtt = s.rtt.map(|d| format!("{} ms", ms(d))).unwrap_or_default();
    match &s.error {
        Some(e) if s.rtt.is_some() => {
            let _ = write!(line, "  failed after {rtt}: {}", escape_controls(e));
        }
        Some(e) => {
            let _ = write!(line, "  {}", escape_controls(e));
        }
        None => {
            let closer = s
                .returned
                .iter()
                .filter(|p| Point::of_peer(p).distance(target) < s.distance)
                .count();
            let n = s.returned.len();
            let _ = write!(line, "  {rtt:>8}  -> {n} peer(s), {closer} closer");
            if s.had_value {
                let _ = write!(line, "  {found_word}");
            }
        }
    }
    line
}

/// The text of a trace of `what` (the key or peer, as typed).
pub(super) fn text(r: &TraceReport, what: &str) -> String {
    let what = match &r.target {
        TraceTarget::Peer(p) => format!("peer {p}"),
        _ => what.to_string(),
    };
    let found_word = match r.target {
        TraceTarget::Value(_) => "HAS THE VALUE",
        TraceTarget::Peer(_) => "KNOWS THE PEER",
        TraceTarget::Providers(_) => "HAS PROVIDERS",
    };
    let mut s = format!(
        "trace of {what}: {} lookup through the network, k {} alpha {}\n  \
         target hash {}…  (distance = peer's ID hash XOR target hash; prefix = leading bits in common, more is closer)",
        r.target.request(),
        r.k,
        r.alpha,
        bits(&r.point, 16)
    );
    for round in &r.rounds {
        let why = match round.phase {
            Phase::Converging if round.round == 1 => "the alpha closest peers known",
            Phase::Converging => "the alpha closest not yet asked (the last round came closer)",
            Phase::Finishing => {
                "every one of the k closest not yet asked (the last round came no closer)"
            }
        };
        let _ = write!(
            s,
            "\nround {} · {}: {why}",
            round.round,
            phase_name(round.phase)
        );
        for step in &round.queried {
            let _ = write!(s, "\n{}", step_text(step, &r.point, found_word));
        }
    }
    let _ = write!(s, "\n{}", outcome(r));
    let _ = write!(
        s,
        "\n{} peer(s) asked in {} round(s), {} ms",
        r.peers_queried(),
        r.rounds.len(),
        ms(r.elapsed)
    );
    s
}

fn outcome(r: &TraceReport) -> String {
    let Some((holder, round)) = r.holder else {
        return match &r.target {
            TraceTarget::Value(_) => "no peer asked held the value".into(),
            TraceTarget::Peer(_) => "no peer asked knew the peer".into(),
            TraceTarget::Providers(_) => "no peer asked knew a provider".into(),
        };
    };
    match &r.target {
        TraceTarget::Value(_) => {
            let value = r.value.as_deref().map(show_value).unwrap_or_default();
            format!("found at round {round} on {holder}: {value}")
        }
        TraceTarget::Peer(wanted) => {
            let addrs: Vec<String> = r.addrs.iter().map(ToString::to_string).collect();
            let by = match holder == *wanted {
                true => "the peer itself answered".to_string(),
                false => format!("named by {holder}"),
            };
            format!(
                "found at round {round}, {by}; addresses: {}",
                escape_controls(&addrs.join(", "))
            )
        }
        TraceTarget::Providers(_) => {
            let all: Vec<String> = r.providers.iter().map(ToString::to_string).collect();
            format!(
                "providers first named at round {round} by {holder}: {}",
                all.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_shown_to_one_decimal_and_below_2_256() {
        let p = Point::of_bytes(b"greeting");
        // Highest bit 255 and every bit below set: just under 2^256.
        let far = p.distance(&p.in_bucket(255, [0xff; 32]));
        assert_eq!(log2_text(&far), "2^255.9");
        assert_eq!(log2_text(&p.distance(&p.in_bucket(0, [0; 32]))), "2^0.0");
        // Distance 3: log2 3 = 1.58.
        assert_eq!(log2_text(&p.distance(&p.in_bucket(1, [0xff; 32]))), "2^1.6");
        assert_eq!(log2_text(&p.distance(&p)), "0");
    }
}
