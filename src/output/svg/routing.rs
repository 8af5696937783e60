//! The routing table as figure 1 of the Kademlia paper draws it: the
//! binary tree of ID prefixes, this node's own path down it, and off that
//! path at each depth d the subtree of peers whose ID hash shares exactly
//! d leading bits with this node's: the k-bucket 255 - d. Left is bit 0,
//! right is bit 1.

use libp2p::PeerId;
use svg::node::element::{Circle, Group, Line, Rectangle, Title};

use super::{document, safe, short, text};
use crate::dht::Point;
use crate::output::trace::bits;
use crate::reports::{Bucket, NodeInfo};

const TOP: f64 = 120.0;
const CX: f64 = 560.0;
const BOX_W: f64 = 430.0;
const GAP: f64 = 70.0;
const PER_ROW: usize = 5;
const ROW_H: f64 = 40.0;

/// The bit at `depth` (from 0) of a point.
fn bit(p: &Point, depth: usize) -> u8 {
    (p.as_bytes()[depth / 8] >> (7 - depth % 8)) & 1
}

fn rows(n: usize) -> usize {
    n.div_ceil(PER_ROW).max(1)
}

fn box_height(n: usize) -> f64 {
    34.0 + rows(n) as f64 * ROW_H
}

/// The SVG of this node's routing table.
pub fn routing(info: &NodeInfo, buckets: &[Bucket]) -> String {
    let me = Point::of_peer(&info.peer);
    let total: usize = buckets.iter().map(|b| b.entries.len()).sum();
    let lowest = buckets
        .iter()
        .filter(|b| !b.entries.is_empty())
        .map(|b| b.index)
        .min();
    // Depths drawn: down to the deepest non-empty k-bucket.
    let depths = lowest.map_or(1, |i| (256 - i) as usize);
    let sizes: Vec<usize> = (0..depths)
        .map(|d| {
            let index = 255 - d as u32;
            buckets
                .iter()
                .find(|b| b.index == index)
                .map_or(0, |b| b.entries.len())
        })
        .collect();
    let level_h = |d: usize| box_height(sizes[d]).max(70.0) + 26.0;
    let tree_h: f64 = (0..depths).map(level_h).sum();
    let height = TOP + tree_h + 90.0;
    let width = 2.0 * CX;
    let mut doc = document(width, height);

    let filled = buckets.iter().filter(|b| !b.entries.is_empty()).count();
    doc = doc.add(text(
        20.0,
        30.0,
        "title",
        format!(
            "Routing table of node {}: {total} peers in {filled} k-buckets, k = {}",
            short(&info.peer),
            info.k
        ),
    ));
    doc = doc.add(text(20.0, 52.0, "subtitle",
        "The binary tree of ID hashes (left 0, right 1). This node's path is green; the subtree branching off it at depth d"));
    doc = doc.add(text(20.0, 70.0, "subtitle",
        "holds the peers sharing exactly d leading bits with this node: k-bucket 255 − d, XOR distance in [2^(255−d), 2^(256−d)), at most k peers."));

    let mut y = TOP;
    doc = doc.add(
        Circle::new()
            .set("cx", CX)
            .set("cy", y)
            .set("r", 6)
            .set("class", "self"),
    );
    doc = doc.add(text(CX + 12.0, y - 8.0, "note", "root: every ID"));
    for d in 0..depths {
        let own = bit(&me, d);
        let next_y = y + level_h(d);
        let index = 255 - d as u32;
        let entries: &[(PeerId, Vec<libp2p::Multiaddr>, bool)] = buckets
            .iter()
            .find(|b| b.index == index)
            .map_or(&[], |b| b.entries.as_slice());
        // This node's path goes on with its own bit.
        doc = doc.add(
            Line::new()
                .set("x1", CX)
                .set("y1", y)
                .set("x2", CX)
                .set("y2", next_y)
                .set("class", "path"),
        );
        let side = if own == 0 { -1.0 } else { 1.0 };
        doc = doc.add(text(
            CX + side * 14.0 - 4.0,
            y + 24.0,
            "bit",
            own.to_string(),
        ));
        // The other subtree: a k-bucket.
        let other = 1 - own;
        let bx = if other == 0 {
            CX - GAP - BOX_W
        } else {
            CX + GAP
        };
        let by = y + 18.0;
        let edge_x = if other == 0 { bx + BOX_W } else { bx };
        doc = doc.add(
            Line::new()
                .set("x1", CX)
                .set("y1", y)
                .set("x2", edge_x)
                .set("y2", by + 16.0)
                .set("class", "tree"),
        );
        doc = doc.add(text(
            (CX + edge_x) / 2.0 - 4.0,
            y + 6.0,
            "bit",
            other.to_string(),
        ));
        let prefix = format!("{}{other}", bits(&me, d));
        doc = doc.add(bucket(index, &prefix, entries, info.k, bx, by, &me));
        y = next_y;
        doc = doc.add(
            Circle::new()
                .set("cx", CX)
                .set("cy", y)
                .set("r", 4)
                .set("fill", "#2e9e62"),
        );
    }
    // The leaf: this node, and the buckets below, all empty.
    let me_group = Group::new()
        .set("class", "self")
        .set("data-self", info.peer.to_string())
        .add(Title::new(info.peer.to_string()))
        .add(Circle::new().set("cx", CX).set("cy", y + 16.0).set("r", 12));
    doc = doc.add(me_group);
    doc = doc.add(text(
        CX + 20.0,
        y + 14.0,
        "label",
        format!("this node {}", short(&info.peer)),
    ));
    doc = doc.add(text(
        CX + 20.0,
        y + 30.0,
        "mono",
        format!("hash {}…", bits(&me, depths + 4)),
    ));
    let below = 255u32.saturating_sub(depths as u32);
    doc = doc.add(text(CX - 20.0, y + 62.0, "note", format!(
        "k-buckets 0 to {below}: empty (no peer shares {depths} or more leading bits with this node)"
    )).set("text-anchor", "middle"));
    doc.to_string()
}

/// One k-bucket: a box with its peers.
fn bucket(
    index: u32,
    prefix: &str,
    entries: &[(PeerId, Vec<libp2p::Multiaddr>, bool)],
    k: usize,
    x: f64,
    y: f64,
    me: &Point,
) -> Group {
    let n = entries.len();
    let class = if n == 0 { "bucket empty" } else { "bucket" };
    let mut g = Group::new()
        .set("class", "kbucket")
        .set("data-index", index)
        .add(
            Rectangle::new()
                .set("x", x)
                .set("y", y)
                .set("width", BOX_W)
                .set("height", box_height(n))
                .set("rx", 10)
                .set("class", class),
        );
    let head = match n {
        0 => format!("k-bucket {index} · prefix {prefix} · empty"),
        n => format!("k-bucket {index} · prefix {prefix} · {n}/{k} peers"),
    };
    g = g.add(text(x + 12.0, y + 20.0, "label", safe(&head)));
    for (i, (peer, addrs, connected)) in entries.iter().enumerate() {
        let px = x + 22.0 + (i % PER_ROW) as f64 * (BOX_W - 20.0) / PER_ROW as f64;
        let py = y + 34.0 + (i / PER_ROW) as f64 * ROW_H + 14.0;
        let d = me.distance(&Point::of_peer(peer));
        let state = if *connected {
            "connected"
        } else {
            "disconnected"
        };
        let addrs: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        let title = format!(
            "{peer}\ncommon prefix with this node: {} bits\n{state}\n{}",
            d.common_prefix_bits(),
            addrs.iter().map(|a| safe(a)).collect::<Vec<_>>().join("\n")
        );
        g = g.add(
            Group::new()
                .set("class", format!("peer {state}"))
                .set("data-peer", peer.to_string())
                .add(Title::new(title))
                .add(Circle::new().set("cx", px).set("cy", py).set("r", 8))
                .add(text(px + 12.0, py + 4.0, "mono", short(peer))),
        );
    }
    g
}
