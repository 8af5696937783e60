//! The picture of one lookup: a column per round (after a first column for
//! the node that ran it), each peer asked placed at the height of its XOR
//! distance to the target (one band per bit of common prefix, closer
//! lower), and an arrow from each peer asked to every closer peer it
//! returned that the lookup asked afterwards (solid) or only learnt of
//! (dashed, drawn as a hollow circle in the next column).

use std::collections::HashMap;

use libp2p::PeerId;
use svg::node::element::{Circle, Group, Line, Rectangle, Title};

use super::{document, safe, short, text};
use crate::dht::lookup::Phase;
use crate::dht::{Distance, Point};
use crate::network::trace::{TraceReport, TraceTarget};
use crate::output::ms;

const LEFT: f64 = 110.0;
const TOP: f64 = 118.0;
const COL: f64 = 220.0;
const R: f64 = 9.0;

/// Where peers sit: their column and height.
struct Layout {
    bits_top: u32,
    bits: u32,
    per_bit: f64,
}

impl Layout {
    fn new(distances: &[Distance]) -> Layout {
        let cpls: Vec<u32> = distances
            .iter()
            .filter(|d| **d != Distance::ZERO)
            .map(Distance::common_prefix_bits)
            .collect();
        let top = cpls.iter().copied().min().unwrap_or(0);
        let bottom = cpls.iter().copied().max().unwrap_or(0);
        let bits = bottom - top + 1 + u32::from(distances.contains(&Distance::ZERO));
        let per_bit = (560.0 / f64::from(bits)).clamp(30.0, 80.0);
        Layout {
            bits_top: top,
            bits,
            per_bit,
        }
    }

    fn height(&self) -> f64 {
        f64::from(self.bits) * self.per_bit
    }

    /// The height of a distance: log2 of it, on the band scale.
    fn y(&self, d: &Distance) -> f64 {
        match d.log2() {
            Some(l) => TOP + (f64::from(256 - self.bits_top) - l) * self.per_bit,
            None => TOP + self.height() - self.per_bit / 2.0,
        }
    }
}

fn col_x(col: usize) -> f64 {
    LEFT + col as f64 * COL + 40.0
}

/// One peer: a circle with its label and hover title, as a `<g>`.
fn peer_group(class: &str, peer: &PeerId, x: f64, y: f64, r: f64, lines: &[String]) -> Group {
    let mut g = Group::new()
        .set("class", class)
        .set("data-peer", peer.to_string())
        .add(Title::new(format!("{peer}\n{}", lines.join("\n"))))
        .add(Circle::new().set("cx", x).set("cy", y).set("r", r));
    for (i, l) in lines.iter().take(2).enumerate() {
        let class = if i == 0 { "mono" } else { "note" };
        g = g.add(text(
            x + r + 5.0,
            y + 4.0 + 14.0 * i as f64,
            class,
            l.clone(),
        ));
    }
    g
}

fn arrow(from: (f64, f64), to: (f64, f64), learned: bool) -> Line {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let class = if learned { "edge learned" } else { "edge" };
    Line::new()
        .set("x1", from.0 + ux * (R + 2.0))
        .set("y1", from.1 + uy * (R + 2.0))
        .set("x2", to.0 - ux * (R + 3.0))
        .set("y2", to.1 - uy * (R + 3.0))
        .set("class", class)
        .set("marker-end", "url(#arrow)")
}

/// The SVG of a trace.
pub fn trace(r: &TraceReport) -> String {
    let target = &r.point;
    let dist = |p: &PeerId| Point::of_peer(p).distance(target);
    // Where each asked peer is drawn, by (round, peer); the first round
    // each peer was asked in.
    let mut asked_in: HashMap<PeerId, u32> = HashMap::new();
    for round in &r.rounds {
        for s in &round.queried {
            asked_in.entry(s.peer).or_insert(round.round);
        }
    }
    // Peers named but never asked: drawn once, in the column after the
    // round that first named them.
    let mut learned: Vec<(PeerId, usize)> = Vec::new();
    for round in &r.rounds {
        for s in round.queried.iter().filter(|s| s.error.is_none()) {
            for p in &s.returned {
                if !asked_in.contains_key(p) && *p != r.from && !learned.iter().any(|(q, _)| q == p)
                {
                    learned.push((*p, round.round as usize + 1));
                }
            }
        }
    }
    let mut distances: Vec<Distance> = asked_in.keys().map(dist).collect();
    distances.extend(learned.iter().map(|(p, _)| dist(p)));
    distances.push(dist(&r.from));
    let layout = Layout::new(&distances);
    let cols = r.rounds.len() + 1 + usize::from(learned.iter().any(|(_, c)| *c > r.rounds.len()));
    let width = LEFT + cols as f64 * COL + 30.0;
    let height = TOP + layout.height() + 120.0;
    let mut doc = document(width, height);

    // Title.
    let what = match &r.target {
        TraceTarget::Value(k) | TraceTarget::Providers(k) => {
            format!("“{}”", safe(&crate::keys::display(k)))
        }
        TraceTarget::Peer(p) => format!("peer {}", short(p)),
    };
    doc = doc.add(text(
        20.0,
        30.0,
        "title",
        format!(
            "Kademlia lookup of {what} ({}), k = {}, alpha = {}",
            r.target.request(),
            r.k,
            r.alpha
        ),
    ));
    let found = match r.holder {
        Some((h, round)) => format!("found at round {round} on {}", short(&h)),
        None => "not found".into(),
    };
    doc = doc.add(text(
        20.0,
        52.0,
        "subtitle",
        format!(
            "{found} · {} peers asked in {} rounds · {} ms · run by node {} · target hash {}…",
            r.peers_queried(),
            r.rounds.len(),
            ms(r.elapsed),
            short(&r.from),
            super::super::trace::bits(target, 16)
        ),
    ));

    // Bands: one per bit of common prefix with the target.
    let plot_right = LEFT + cols as f64 * COL;
    for i in 0..layout.bits {
        let y = TOP + f64::from(i) * layout.per_bit;
        if i % 2 == 0 {
            doc = doc.add(
                Rectangle::new()
                    .set("x", LEFT)
                    .set("y", y)
                    .set("width", plot_right - LEFT)
                    .set("height", layout.per_bit)
                    .set("class", "band"),
            );
        }
        let cpl = layout.bits_top + i;
        let label = if i + 1 == layout.bits && distances.contains(&Distance::ZERO) {
            "distance 0".to_string()
        } else {
            format!("prefix {cpl}")
        };
        doc = doc.add(text(
            LEFT - 10.0,
            y + layout.per_bit / 2.0 + 4.0,
            "axis",
            label,
        ));
    }
    doc = doc.add(text(LEFT - 10.0, TOP - 8.0, "axis", "farther ↑"));
    doc = doc.add(text(
        LEFT - 10.0,
        TOP + layout.height() + 16.0,
        "axis",
        "closer ↓",
    ));
    for c in 0..=cols {
        let x = LEFT + c as f64 * COL;
        doc = doc.add(
            Line::new()
                .set("x1", x)
                .set("y1", TOP)
                .set("x2", x)
                .set("y2", TOP + layout.height())
                .set("class", "grid"),
        );
    }

    // Column heads.
    doc = doc.add(text(LEFT + COL / 2.0, TOP - 30.0, "head", "start"));
    doc = doc
        .add(text(LEFT + COL / 2.0, TOP - 14.0, "note", "this node").set("text-anchor", "middle"));
    for round in &r.rounds {
        let x = LEFT + (round.round as f64 + 0.5) * COL;
        let phase = match round.phase {
            Phase::Converging => "converging: alpha closest",
            Phase::Finishing => "finishing: rest of k closest",
        };
        doc = doc.add(text(
            x,
            TOP - 30.0,
            "head",
            format!("round {}", round.round),
        ));
        doc = doc.add(text(x, TOP - 14.0, "note", phase).set("text-anchor", "middle"));
    }
    if cols > r.rounds.len() + 1 {
        let x = LEFT + (cols as f64 - 0.5) * COL;
        doc = doc.add(text(x, TOP - 30.0, "head", "not asked"));
    }

    // Positions: asked peers in their round's column, spread sideways when
    // two sit at nearly the same height; learned ones on the column's right.
    let mut pos: HashMap<(usize, PeerId), (f64, f64)> = HashMap::new();
    let start = (col_x(0), layout.y(&dist(&r.from)));
    for round in &r.rounds {
        let col = round.round as usize;
        let mut placed: Vec<(f64, f64)> = Vec::new();
        for s in &round.queried {
            let y = layout.y(&s.distance);
            let mut x = col_x(col);
            while placed
                .iter()
                .any(|(px, py)| (*px - x).abs() < 1.0 && (*py - y).abs() < 30.0)
            {
                x += 26.0;
            }
            placed.push((x, y));
            pos.insert((col, s.peer), (x, y));
        }
    }
    for (p, col) in &learned {
        pos.insert((*col, *p), (col_x(*col) + 120.0, layout.y(&dist(p))));
    }
    let find = |p: &PeerId, after: usize| -> Option<((f64, f64), bool)> {
        if let Some(round) = asked_in.get(p).filter(|round| **round as usize > after) {
            return pos.get(&(*round as usize, *p)).map(|xy| (*xy, false));
        }
        learned
            .iter()
            .find(|(q, _)| q == p)
            .and_then(|(q, c)| pos.get(&(*c, *q)).map(|xy| (*xy, true)))
    };

    // Arrows first, so circles sit on top.
    for s in r
        .rounds
        .first()
        .map(|r| r.queried.as_slice())
        .unwrap_or_default()
    {
        if let Some(xy) = pos.get(&(1, s.peer)) {
            doc = doc.add(arrow(start, *xy, true));
        }
    }
    for round in &r.rounds {
        let col = round.round as usize;
        for s in &round.queried {
            let Some(from) = pos.get(&(col, s.peer)) else {
                continue;
            };
            for p in s.returned.iter().filter(|p| dist(p) < s.distance) {
                if let Some((to, learned)) = find(p, col) {
                    doc = doc.add(arrow(*from, to, learned));
                }
            }
        }
    }

    // Peers.
    let me = vec![
        short(&r.from),
        format!("prefix {} · this node", dist(&r.from).common_prefix_bits()),
    ];
    doc = doc.add(peer_group("self", &r.from, start.0, start.1, R + 2.0, &me));
    let found_word = match r.target {
        TraceTarget::Value(_) => "HAS THE VALUE",
        TraceTarget::Peer(_) => "KNOWS THE PEER",
        TraceTarget::Providers(_) => "HAS PROVIDERS",
    };
    for round in &r.rounds {
        for s in &round.queried {
            let Some((x, y)) = pos.get(&(round.round as usize, s.peer)) else {
                continue;
            };
            let (class, note) = match (&s.error, s.rtt) {
                (Some(_), Some(rtt)) => ("queried failed", format!("failed after {} ms", ms(rtt))),
                (Some(_), None) => ("queried pending", "no answer yet".to_string()),
                (None, rtt) if s.had_value => (
                    "queried holder",
                    format!("{found_word} · {} ms", rtt.map(ms).unwrap_or(0.0)),
                ),
                (None, rtt) => (
                    "queried answered",
                    format!(
                        "{} ms · {} returned",
                        rtt.map(ms).unwrap_or(0.0),
                        s.returned.len()
                    ),
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
            let r0 = if s.had_value { R + 3.0 } else { R };
            doc = doc.add(peer_group(class, &s.peer, *x, *y, r0, &lines));
        }
    }
    for (p, col) in &learned {
        if let Some((x, y)) = pos.get(&(*col, *p)) {
            let lines = [short(p), "named, not asked".to_string()];
            doc = doc.add(peer_group("learned", p, *x, *y, 6.0, &lines));
        }
    }
    legend(doc, TOP + layout.height() + 40.0, found_word).to_string()
}

fn legend(mut doc: svg::Document, y: f64, found_word: &str) -> svg::Document {
    let items = [
        ("answered", "answered (closer peers)"),
        ("holder", found_word),
        ("failed", "failed or timed out"),
        ("pending", "no answer when the trace ended"),
        ("learned", "named by a peer, never asked"),
    ];
    let mut x = 20.0;
    for (class, label) in items {
        let g = Group::new()
            .set("class", format!("legend {class}"))
            .add(Circle::new().set("cx", x + 8.0).set("cy", y).set("r", 7))
            .add(text(x + 20.0, y + 4.0, "label", label));
        doc = doc.add(g);
        x += 30.0 + 7.0 * label.len() as f64;
    }
    let y2 = y + 28.0;
    doc = doc.add(arrow((20.0, y2), (60.0, y2), false));
    doc = doc.add(text(
        70.0,
        y2 + 4.0,
        "label",
        "returned this closer peer, asked later",
    ));
    doc = doc.add(arrow((360.0, y2), (400.0, y2), true));
    doc.add(text(
        410.0,
        y2 + 4.0,
        "label",
        "returned, never asked (from the start: the routing table's closest)",
    ))
}
