//! Points of the Kademlia ID space and the XOR metric between them.
//!
//! As in libp2p's Kademlia (and go-libp2p-kad-dht), a peer ID or a record
//! key is placed in the 256-bit space by hashing its bytes with SHA-256; the
//! distance between two points is their bitwise XOR read as an unsigned
//! 256-bit integer (Maymounkov & Mazières, "Kademlia", section 2.1).

use std::fmt;

use libp2p::PeerId;
use sha2::{Digest, Sha256};

/// A point in the 256-bit Kademlia ID space: the SHA-256 of a peer ID's
/// bytes or of a record key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Point([u8; 32]);

impl Point {
    /// The point of arbitrary bytes (a record key, or a lookup target).
    pub fn of_bytes(bytes: &[u8]) -> Point {
        Point(Sha256::digest(bytes).into())
    }

    /// The point of a peer ID (SHA-256 of its multihash bytes).
    pub fn of_peer(peer: &PeerId) -> Point {
        Point::of_bytes(&peer.to_bytes())
    }

    /// The XOR distance to `other`.
    pub fn distance(&self, other: &Point) -> Distance {
        let mut d = [0u8; 32];
        for (i, b) in d.iter_mut().enumerate() {
            *b = self.0[i] ^ other.0[i];
        }
        Distance(d)
    }

    /// A point at a distance from `self` whose highest set bit is `bit`
    /// (0..=255), with the lower bits taken from `noise`: a random target
    /// in the k-bucket `bit` of this point, for routing-table refreshes.
    pub fn in_bucket(&self, bit: u32, noise: [u8; 32]) -> Point {
        let mut d = noise;
        let bit = bit.min(255) as usize;
        // Clear every bit above `bit`, set `bit` itself.
        for (i, byte) in d.iter_mut().enumerate() {
            // Bit index of this byte's most significant bit.
            let top = 255 - i * 8;
            if top < bit {
                continue;
            }
            let low = top - 7;
            if low > bit {
                *byte = 0;
            } else {
                let keep = bit - low; // bits below `bit` within this byte
                let mask = ((1u16 << keep) - 1) as u8;
                *byte = (*byte & mask) | (1u8 << keep);
            }
        }
        let mut p = [0u8; 32];
        for (i, b) in p.iter_mut().enumerate() {
            *b = self.0[i] ^ d[i];
        }
        Point(p)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Point({})", hex::encode(&self.0[..4]))
    }
}

/// The XOR distance between two points, ordered as a big-endian 256-bit
/// unsigned integer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Distance([u8; 32]);

impl Distance {
    /// The distance zero (a point to itself).
    pub const ZERO: Distance = Distance([0; 32]);

    /// How many leading bits the two points share: 256 for the same point,
    /// 0 when they differ in the first bit.
    pub fn common_prefix_bits(&self) -> u32 {
        let mut n = 0;
        for b in self.0 {
            if b == 0 {
                n += 8;
            } else {
                return n + b.leading_zeros();
            }
        }
        n
    }

    /// The index of the highest set bit (the k-bucket a peer at this
    /// distance falls in: distances in [2^i, 2^(i+1)) are bucket i);
    /// `None` for distance zero.
    pub fn ilog2(&self) -> Option<u32> {
        255u32.checked_sub(self.common_prefix_bits())
    }

    /// log2 of the distance as a real number (`None` for distance zero):
    /// always below 256.0 (two points differ in at most 256 bits, so the
    /// distance is below 2^256), and each bit of common prefix takes about
    /// 1 off. What `trace` shows and draws to place peers.
    pub fn log2(&self) -> Option<f64> {
        let first = self.0.iter().position(|b| *b != 0)?;
        let window = &self.0[first..(first + 8).min(32)];
        let v = window.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
        let shift = 8 * (32 - first - window.len());
        let l = (v as f64).log2() + shift as f64;
        // `v as f64` rounds to 53 bits, so a window of ones can round up to
        // the next power of two: stay below it, as the distance does.
        let top = self.ilog2().map_or(0.0, f64::from);
        Some(l.min(top + 1.0 - 1e-9))
    }

    /// The distance as 64 hexadecimal digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for Distance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Distance(cpl {})", self.common_prefix_bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_is_symmetric_and_zero_to_itself() {
        let a = Point::of_bytes(b"a");
        let b = Point::of_bytes(b"b");
        assert_eq!(a.distance(&b), b.distance(&a));
        assert_eq!(a.distance(&a), Distance::ZERO);
        assert_eq!(Distance::ZERO.common_prefix_bits(), 256);
        assert_eq!(Distance::ZERO.ilog2(), None);
    }

    #[test]
    fn prefix_and_log2_agree() {
        let mut d = [0u8; 32];
        d[0] = 0x80;
        assert_eq!(Distance(d).common_prefix_bits(), 0);
        assert_eq!(Distance(d).ilog2(), Some(255));
        d[0] = 0;
        d[1] = 0x01;
        assert_eq!(Distance(d).common_prefix_bits(), 15);
        assert_eq!(Distance(d).ilog2(), Some(240));
        d[1] = 0;
        d[31] = 1;
        assert_eq!(Distance(d).ilog2(), Some(0));
        assert_eq!(Distance(d).to_hex().len(), 64);
        assert_eq!(Distance(d).log2(), Some(0.0));
        d[0] = 0xff;
        let l = Distance(d).log2().unwrap();
        assert!(l > 255.99 && l < 256.0, "{l}");
        assert_eq!(Distance::ZERO.log2(), None);
    }

    #[test]
    fn a_point_in_bucket_i_is_at_log2_distance_i() {
        let me = Point::of_bytes(b"me");
        for bit in [0, 1, 7, 8, 9, 100, 200, 254, 255] {
            for noise in [[0u8; 32], [0xff; 32], [0x5a; 32]] {
                let p = me.in_bucket(bit, noise);
                assert_eq!(me.distance(&p).ilog2(), Some(bit), "bit {bit}");
            }
        }
    }

    #[test]
    fn ordering_is_numeric() {
        let mut small = [0u8; 32];
        small[31] = 0xff;
        let mut big = [0u8; 32];
        big[0] = 0x01;
        assert!(Distance(small) < Distance(big));
    }
}
