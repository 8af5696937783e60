//! Where the trace picture puts things: heights by XOR distance (one band
//! per bit of common prefix with the target), columns by round, and spots
//! for circles and labels that do not overlap.

use crate::dht::Distance;

/// Left margin (the band labels).
pub(super) const LEFT: f64 = 110.0;
/// Top of the bands (title and column heads above).
pub(super) const TOP: f64 = 130.0;
/// Width of a column.
pub(super) const COL: f64 = 230.0;
/// Radius of a peer's circle.
pub(super) const R: f64 = 9.0;
/// Sideways step between circles at nearly the same height.
const NUDGE: f64 = 20.0;

/// Heights: one band per bit of common prefix with the target.
pub(super) struct Bands {
    pub top_bits: u32,
    pub bits: u32,
    pub per_bit: f64,
    pub has_zero: bool,
}

impl Bands {
    pub fn new(distances: &[Distance]) -> Bands {
        let cpls: Vec<u32> = distances
            .iter()
            .filter(|d| **d != Distance::ZERO)
            .map(Distance::common_prefix_bits)
            .collect();
        let top = cpls.iter().copied().min().unwrap_or(0);
        let bottom = cpls.iter().copied().max().unwrap_or(0);
        let has_zero = distances.contains(&Distance::ZERO);
        let bits = bottom - top + 1 + u32::from(has_zero);
        Bands {
            top_bits: top,
            bits,
            per_bit: (560.0 / f64::from(bits)).clamp(30.0, 80.0),
            has_zero,
        }
    }

    pub fn height(&self) -> f64 {
        f64::from(self.bits) * self.per_bit
    }

    /// The height of a distance: its log2 on the band scale (distance 0,
    /// the peer looked for itself, in a last band).
    pub fn y(&self, d: &Distance) -> f64 {
        match d.log2() {
            Some(l) => TOP + (f64::from(256 - self.top_bits) - l) * self.per_bit,
            None => TOP + self.height() - self.per_bit / 2.0,
        }
    }
}

pub(super) fn col_x(col: usize) -> f64 {
    LEFT + col as f64 * COL + 30.0
}

/// Where a peer's circle and its label go.
#[derive(Clone, Copy)]
pub(super) struct Spot {
    pub x: f64,
    pub y: f64,
    pub label_x: f64,
    pub label_y: f64,
}

impl Spot {
    pub fn xy(&self) -> (f64, f64) {
        (self.x, self.y)
    }
}

/// Spots for circles at heights `ys` in the column whose circles start at
/// `x`: circles at nearly the same height move sideways (twice at most),
/// labels sit in one lane right of them and move down until they no
/// longer overlap (a leader line joins a label to its circle).
pub(super) fn spots(x: f64, ys: &[f64]) -> Vec<Spot> {
    let mut order: Vec<usize> = (0..ys.len()).collect();
    order.sort_by(|a, b| ys[*a].total_cmp(&ys[*b]));
    let label_x = x + 2.0 * NUDGE + R + 10.0;
    let mut out = vec![
        Spot {
            x,
            y: 0.0,
            label_x,
            label_y: 0.0,
        };
        ys.len()
    ];
    let mut last_label = f64::MIN;
    let mut placed: Vec<(f64, f64)> = Vec::new();
    for i in order {
        let y = ys[i];
        let mut cx = x;
        while cx < x + 2.0 * NUDGE
            && placed
                .iter()
                .any(|(px, py)| (*px - cx).abs() < 1.0 && (*py - y).abs() < 2.0 * R + 2.0)
        {
            cx += NUDGE;
        }
        placed.push((cx, y));
        let label_y = (y + 4.0).max(last_label + 30.0);
        last_label = label_y;
        out[i] = Spot {
            x: cx,
            y,
            label_x,
            label_y,
        };
    }
    out
}
