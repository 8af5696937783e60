//! The picture of one lookup: a column per round (after a first column for
//! the node that ran it), each peer asked placed at the height of its XOR
//! distance to the target (one band per bit of common prefix, closer
//! lower), and an arrow from each peer asked to every peer it returned
//! that the lookup asked in a later round (solid), and to every closer
//! peer it returned that the lookup never asked (dashed, to a hollow
//! circle in a last column, "named, never asked").

use std::collections::HashMap;

use libp2p::PeerId;
use svg::node::element::{Circle, Group, Line, Title};

use super::{document, short, text};
use crate::dht::{Distance, Point};
use crate::output::ms;
use crate::reports::trace::{TraceReport, TraceTarget};

use super::lanes::{Bands, COL, LEFT, R, Spot, TOP, col_x, spots};

/// One peer: a circle, its label (two lines) and hover title, as a `<g>`.
fn peer_group(class: &str, peer: &PeerId, at: Spot, r: f64, lines: &[String]) -> Group {
    let mut g = Group::new()
        .set("class", class)
        .set("data-peer", peer.to_string())
        .add(Title::new(format!("{peer}\n{}", lines.join("\n"))))
        .add(
            Line::new()
                .set("x1", at.x + r)
                .set("y1", at.y)
                .set("x2", at.label_x - 3.0)
                .set("y2", at.label_y - 4.0)
                .set("class", "grid"),
        )
        .add(Circle::new().set("cx", at.x).set("cy", at.y).set("r", r));
    for (i, l) in lines.iter().take(2).enumerate() {
        let class = if i == 0 { "mono" } else { "note" };
        g = g.add(text(
            at.label_x,
            at.label_y + 14.0 * i as f64,
            class,
            l.clone(),
        ));
    }
    g
}

/// Kinds of arrow: from the start (this node's routing table), to a peer
/// asked later, or to one named but never asked.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Edge {
    Start,
    Asked,
    Learned,
}

pub(super) fn arrow(from: (f64, f64), to: (f64, f64), kind: Edge) -> Line {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let class = match kind {
        Edge::Start => "edge start",
        Edge::Asked => "edge",
        Edge::Learned => "edge learned",
    };
    Line::new()
        .set("x1", from.0 + ux * (R + 2.0))
        .set("y1", from.1 + uy * (R + 2.0))
        .set("x2", to.0 - ux * (R + 3.0))
        .set("y2", to.1 - uy * (R + 3.0))
        .set("class", class)
        .set("marker-end", "url(#arrow)")
}

/// What the picture says a peer holding the answer did.
fn found_word(t: &TraceTarget) -> &'static str {
    match t {
        TraceTarget::Value(_) => "HAS THE VALUE",
        TraceTarget::Peer(_) => "KNOWS THE PEER",
        TraceTarget::Providers(_) => "HAS PROVIDERS",
    }
}

/// The SVG of a trace.
pub fn trace(r: &TraceReport) -> String {
    let target = &r.point;
    let dist = |p: &PeerId| Point::of_peer(p).distance(target);
    // The first round each peer was asked in.
    let mut asked_in: HashMap<PeerId, usize> = HashMap::new();
    for round in &r.rounds {
        for s in &round.queried {
            asked_in.entry(s.peer).or_insert(round.round as usize);
        }
    }
    // Peers named but never asked.
    let mut learned: Vec<PeerId> = Vec::new();
    for s in r.rounds.iter().flat_map(|round| &round.queried) {
        for p in &s.returned {
            if !asked_in.contains_key(p) && *p != r.from && !learned.contains(p) {
                learned.push(*p);
            }
        }
    }
    let mut distances: Vec<Distance> = asked_in.keys().chain(&learned).map(dist).collect();
    distances.push(dist(&r.from));
    let bands = Bands::new(&distances);
    let learned_col = r.rounds.len() + 1;
    let cols = learned_col + usize::from(!learned.is_empty());
    let width = (LEFT + cols as f64 * COL + 30.0).max(1060.0);
    let mut doc = document(width, TOP + bands.height() + 110.0);
    doc = super::trace_frame::heads(doc, r, &bands, cols, !learned.is_empty());

    // Where each peer goes: (column, peer) -> spot.
    let mut pos: HashMap<(usize, PeerId), Spot> = HashMap::new();
    let y = bands.y(&dist(&r.from));
    // This node's label goes under it, clear of the arrows it starts.
    let mut start = spots(col_x(0), &[y])[0];
    (start.label_x, start.label_y) = (start.x - R, start.y + 2.0 * R + 12.0);
    for round in &r.rounds {
        let col = round.round as usize;
        let ys: Vec<f64> = round.queried.iter().map(|s| bands.y(&s.distance)).collect();
        for (s, spot) in round.queried.iter().zip(spots(col_x(col), &ys)) {
            pos.insert((col, s.peer), spot);
        }
    }
    let ys: Vec<f64> = learned.iter().map(|p| bands.y(&dist(p))).collect();
    for (p, spot) in learned.iter().zip(spots(col_x(learned_col), &ys)) {
        pos.insert((learned_col, *p), spot);
    }

    // Arrows first, so circles sit on top of them.
    for s in r
        .rounds
        .first()
        .map(|r| r.queried.as_slice())
        .unwrap_or_default()
    {
        if let Some(to) = pos.get(&(1, s.peer)) {
            doc = doc.add(arrow(start.xy(), to.xy(), Edge::Start));
        }
    }
    for round in &r.rounds {
        let col = round.round as usize;
        for s in &round.queried {
            let Some(from) = pos.get(&(col, s.peer)) else {
                continue;
            };
            for p in &s.returned {
                let to = match asked_in.get(p) {
                    Some(later) if *later > col => pos.get(&(*later, *p)).map(|t| (t, Edge::Asked)),
                    Some(_) => None,
                    None if dist(p) < s.distance => {
                        pos.get(&(learned_col, *p)).map(|t| (t, Edge::Learned))
                    }
                    None => None,
                };
                if let Some((to, kind)) = to {
                    doc = doc.add(arrow(from.xy(), to.xy(), kind));
                }
            }
        }
    }

    // Peers.
    let me = [
        short(&r.from),
        format!("prefix {} · this node", dist(&r.from).common_prefix_bits()),
    ];
    doc = doc.add(peer_group("self", &r.from, start, R + 2.0, &me));
    let found = found_word(&r.target);
    for round in &r.rounds {
        for s in &round.queried {
            let Some(spot) = pos.get(&(round.round as usize, s.peer)) else {
                continue;
            };
            let rtt = s.rtt.map(ms).unwrap_or(0.0);
            let (class, note) = match (&s.error, s.had_value) {
                (Some(_), _) if s.rtt.is_some() => {
                    ("queried failed", format!("failed after {rtt} ms"))
                }
                (Some(_), _) => ("queried pending", "no answer yet".to_string()),
                (None, true) => ("queried holder", format!("{found} · {rtt} ms")),
                (None, false) => (
                    "queried answered",
                    format!("{rtt} ms · {} returned", s.returned.len()),
                ),
            };
            let lines = [
                format!(
                    "{} · prefix {}",
                    short(&s.peer),
                    s.distance.common_prefix_bits()
                ),
                note,
            ];
            let radius = if s.had_value { R + 3.0 } else { R };
            doc = doc.add(peer_group(class, &s.peer, *spot, radius, &lines));
        }
    }
    for p in &learned {
        if let Some(spot) = pos.get(&(learned_col, *p)) {
            let lines = [format!(
                "{} · prefix {}",
                short(p),
                dist(p).common_prefix_bits()
            )];
            doc = doc.add(peer_group("learned", p, *spot, 6.0, &lines));
        }
    }
    super::trace_frame::legend(doc, TOP + bands.height() + 40.0, found).to_string()
}
