//! The frame of the trace picture: title, distance bands with their
//! labels, column heads, legend.

use svg::Document;
use svg::node::element::{Circle, Group, Line, Rectangle};

use super::lanes::{Bands, COL, LEFT, TOP};
use super::trace::{Edge, arrow};
use super::{safe, short, text};
use crate::dht::lookup::Phase;
use crate::output::ms;
use crate::output::trace::bits;
use crate::reports::trace::{TraceReport, TraceTarget};

/// Title, bands with their labels, column heads.
pub(super) fn heads(
    mut doc: Document,
    r: &TraceReport,
    bands: &Bands,
    cols: usize,
    learned: bool,
) -> Document {
    let what = match &r.target {
        TraceTarget::Value(k) | TraceTarget::Providers(k) => {
            format!("“{}”", safe(&crate::keys::display(k)))
        }
        TraceTarget::Peer(p) => format!("peer {}", short(p)),
    };
    let title = format!(
        "Kademlia lookup of {what} ({}), k = {}, alpha = {}",
        r.target.request(),
        r.k,
        r.alpha
    );
    let found = match r.holder {
        Some((h, round)) => format!("found at round {round} on {}", short(&h)),
        None => "not found".into(),
    };
    let summary = format!(
        "{found} · {} peers asked in {} rounds · {} ms · run by node {}",
        r.peers_queried(),
        r.rounds.len(),
        ms(r.elapsed),
        short(&r.from)
    );
    let scale = format!(
        "Height: XOR distance from the peer's ID hash to the target hash {}…, one band per bit of common prefix.",
        bits(&r.point, 16)
    );
    doc = doc
        .add(text(20.0, 30.0, "title", title))
        .add(text(20.0, 52.0, "subtitle", summary))
        .add(text(20.0, 70.0, "subtitle", scale));
    let right = LEFT + cols as f64 * COL;
    for i in 0..bands.bits {
        let y = TOP + f64::from(i) * bands.per_bit;
        if i % 2 == 0 {
            let band = Rectangle::new()
                .set("x", LEFT)
                .set("y", y)
                .set("width", right - LEFT)
                .set("height", bands.per_bit)
                .set("class", "band");
            doc = doc.add(band);
        }
        let label = match bands.has_zero && i + 1 == bands.bits {
            true => "distance 0".to_string(),
            false => format!("prefix {}", bands.top_bits + i),
        };
        doc = doc.add(text(
            LEFT - 10.0,
            y + bands.per_bit / 2.0 + 4.0,
            "axis",
            label,
        ));
    }
    doc = doc
        .add(text(LEFT - 10.0, TOP - 8.0, "axis", "farther ↑"))
        .add(text(
            LEFT - 10.0,
            TOP + bands.height() + 16.0,
            "axis",
            "closer ↓",
        ));
    for c in 0..=cols {
        let x = LEFT + c as f64 * COL;
        let grid = Line::new()
            .set("x1", x)
            .set("y1", TOP)
            .set("x2", x)
            .set("y2", TOP + bands.height())
            .set("class", "grid");
        doc = doc.add(grid);
    }
    let mut heads = vec![(0, "start".to_string(), "this node")];
    for round in &r.rounds {
        let note = match round.phase {
            Phase::Converging => "converging: alpha closest",
            Phase::Finishing => "finishing: rest of the k closest",
        };
        heads.push((round.round as usize, format!("round {}", round.round), note));
    }
    if learned {
        heads.push((cols - 1, "named, never asked".into(), "learnt from answers"));
    }
    for (col, name, note) in heads {
        let x = LEFT + (col as f64 + 0.5) * COL;
        doc = doc
            .add(text(x, TOP - 30.0, "head", name))
            .add(text(x, TOP - 14.0, "note", note).set("text-anchor", "middle"));
    }
    doc
}

pub(super) fn legend(mut doc: Document, y: f64, found: &str) -> Document {
    let dots = [
        ("answered", "answered (closer peers)"),
        ("holder", found),
        ("failed", "failed or timed out"),
        ("pending", "no answer when the trace ended"),
        ("learned", "named by a peer, never asked"),
    ];
    let mut x = 20.0;
    for (class, label) in dots {
        let g = Group::new()
            .set("class", format!("legend {class}"))
            .add(Circle::new().set("cx", x + 8.0).set("cy", y).set("r", 7))
            .add(text(x + 20.0, y + 4.0, "label", label));
        doc = doc.add(g);
        x += 40.0 + 7.2 * label.chars().count() as f64;
    }
    let arrows = [
        (Edge::Start, "the start: this node's closest known peers"),
        (Edge::Asked, "returned this peer, asked later"),
        (Edge::Learned, "returned this closer peer, never asked"),
    ];
    let (mut x, y) = (20.0, y + 28.0);
    for (kind, label) in arrows {
        doc = doc.add(arrow((x, y), (x + 44.0, y), kind)).add(text(
            x + 50.0,
            y + 4.0,
            "label",
            label,
        ));
        x += 80.0 + 7.0 * label.chars().count() as f64;
    }
    doc
}
