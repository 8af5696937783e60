//! The routing table: k-buckets of peers by XOR distance from this node
//! (Kademlia paper, section 2.2).
//!
//! Bucket `i` holds up to k peers at a distance in [2^i, 2^(i+1)), least
//! recently seen first. Peers enter when they have shown they serve the DHT
//! (identify lists our Kademlia protocol, or they answered a request). A
//! full bucket makes room only by dropping a peer we are not connected to
//! (the least recently seen one), as libp2p does for the paper's "ping the
//! least recently seen node": a connected peer is alive, a newcomer is not
//! preferred over it. A peer that fails to answer a request is removed.

use std::time::Instant;

use libp2p::{Multiaddr, PeerId};

use super::key::{Distance, Point};

/// How many addresses are kept per peer (a node announces at most 16 of
/// its own, plus its listen addresses).
pub const MAX_ADDRS: usize = 32;

/// One peer in the routing table.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The peer.
    pub peer: PeerId,
    /// Its point in the ID space.
    pub point: Point,
    /// Addresses to dial it at, best first.
    pub addrs: Vec<Multiaddr>,
    /// Whether a connection to it is open.
    pub connected: bool,
    /// When it last answered or asked us something.
    pub last_seen: Instant,
}

/// What [`RoutingTable::insert`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// A new peer entered.
    New,
    /// A new peer entered in place of a disconnected one.
    Replaced(PeerId),
    /// The peer was known: addresses and status refreshed.
    Updated,
    /// Its bucket is full of connected peers: not added.
    BucketFull,
    /// That is this node.
    Local,
}

/// The k-buckets of one node.
#[derive(Debug)]
pub struct RoutingTable {
    local: Point,
    k: usize,
    buckets: Vec<Vec<Entry>>,
}

impl RoutingTable {
    /// An empty table for the node `local`, with buckets of `k` peers.
    pub fn new(local: &PeerId, k: usize) -> Self {
        RoutingTable {
            local: Point::of_peer(local),
            k: k.max(1),
            buckets: vec![Vec::new(); 256],
        }
    }

    /// This node's point.
    pub fn local(&self) -> &Point {
        &self.local
    }

    /// The bucket size k.
    pub fn k(&self) -> usize {
        self.k
    }

    fn bucket_of(&self, point: &Point) -> Option<usize> {
        self.local.distance(point).ilog2().map(|i| i as usize)
    }

    /// Adds `peer` or refreshes it: `addrs` go first in its address list
    /// (`replace_addrs`: they become the whole list, as from identify).
    pub fn insert(
        &mut self,
        peer: PeerId,
        addrs: &[Multiaddr],
        replace_addrs: bool,
        connected: bool,
        now: Instant,
    ) -> Inserted {
        let point = Point::of_peer(&peer);
        let Some(b) = self.bucket_of(&point) else {
            return Inserted::Local;
        };
        let k = self.k;
        let bucket = &mut self.buckets[b];
        if let Some(i) = bucket.iter().position(|e| e.peer == peer) {
            let mut e = bucket.remove(i);
            if replace_addrs && !addrs.is_empty() {
                e.addrs.clear();
            }
            merge_addrs(&mut e.addrs, addrs);
            e.connected = connected || e.connected;
            e.last_seen = now;
            bucket.push(e);
            return Inserted::Updated;
        }
        if addrs.is_empty() {
            // Nothing to dial it at: not routable.
            return Inserted::BucketFull;
        }
        let entry = Entry {
            peer,
            point,
            addrs: {
                let mut v = Vec::new();
                merge_addrs(&mut v, addrs);
                v
            },
            connected,
            last_seen: now,
        };
        if bucket.len() < k {
            bucket.push(entry);
            return Inserted::New;
        }
        // Full: the least recently seen disconnected peer makes room.
        match bucket.iter().position(|e| !e.connected) {
            Some(i) if connected => {
                let old = bucket.remove(i);
                bucket.push(entry);
                Inserted::Replaced(old.peer)
            }
            _ => Inserted::BucketFull,
        }
    }

    /// Removes `peer` (it failed to answer); true when it was there.
    pub fn remove(&mut self, peer: &PeerId) -> bool {
        let Some(b) = self.bucket_of(&Point::of_peer(peer)) else {
            return false;
        };
        let bucket = &mut self.buckets[b];
        let before = bucket.len();
        bucket.retain(|e| e.peer != *peer);
        bucket.len() != before
    }

    /// Marks the connection state of `peer`, if known.
    pub fn set_connected(&mut self, peer: &PeerId, connected: bool) {
        if let Some(e) = self.entry_mut(peer) {
            e.connected = connected;
        }
    }

    /// Drops one address of `peer` (a dial to it failed).
    pub fn remove_addr(&mut self, peer: &PeerId, addr: &Multiaddr) {
        if let Some(e) = self.entry_mut(peer) {
            e.addrs.retain(|a| a != addr);
        }
    }

    fn entry_mut(&mut self, peer: &PeerId) -> Option<&mut Entry> {
        let b = self.bucket_of(&Point::of_peer(peer))?;
        self.buckets[b].iter_mut().find(|e| e.peer == *peer)
    }

    /// The entry of `peer`, if it is in the table.
    pub fn get(&self, peer: &PeerId) -> Option<&Entry> {
        let b = self.bucket_of(&Point::of_peer(peer))?;
        self.buckets[b].iter().find(|e| e.peer == *peer)
    }

    /// How many peers the table holds.
    pub fn len(&self) -> usize {
        self.buckets.iter().map(Vec::len).sum()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.buckets.iter().all(Vec::is_empty)
    }

    /// The `n` known peers closest to `target`, closest first, with their
    /// distances.
    pub fn closest(&self, target: &Point, n: usize) -> Vec<(Distance, &Entry)> {
        let mut all: Vec<(Distance, &Entry)> = self
            .buckets
            .iter()
            .flatten()
            .map(|e| (e.point.distance(target), e))
            .collect();
        all.sort_by_key(|a| a.0);
        all.truncate(n);
        all
    }

    /// The non-empty buckets, by index, each least recently seen first.
    pub fn buckets(&self) -> impl Iterator<Item = (u32, &[Entry])> {
        self.buckets
            .iter()
            .enumerate()
            .filter(|(_, b)| !b.is_empty())
            .map(|(i, b)| (i as u32, b.as_slice()))
    }

    /// Every entry.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.buckets.iter().flatten()
    }

    /// How many peers lie strictly closer to `target` than this node.
    pub fn count_closer_than_local(&self, target: &Point) -> usize {
        let mine = self.local.distance(target);
        self.entries()
            .filter(|e| e.point.distance(target) < mine)
            .count()
    }
}

fn merge_addrs(list: &mut Vec<Multiaddr>, new: &[Multiaddr]) {
    for a in new.iter().rev() {
        list.retain(|x| x != a);
        list.insert(0, a.clone());
    }
    list.truncate(MAX_ADDRS);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> Multiaddr {
        format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap()
    }

    #[test]
    fn peers_are_bucketed_by_distance_and_found_closest_first() {
        let me = PeerId::random();
        // Buckets large enough that no peer is turned away.
        let mut t = RoutingTable::new(&me, 64);
        let now = Instant::now();
        let peers: Vec<PeerId> = (0..50).map(|_| PeerId::random()).collect();
        for (i, p) in peers.iter().enumerate() {
            t.insert(*p, &[addr(i as u16 + 1)], false, true, now);
        }
        assert_eq!(t.len(), 50);
        assert_eq!(t.insert(me, &[addr(1)], false, true, now), Inserted::Local);
        for (i, entries) in t.buckets() {
            for e in entries {
                assert_eq!(t.local().distance(&e.point).ilog2(), Some(i));
            }
        }
        let target = Point::of_bytes(b"key");
        let close = t.closest(&target, 5);
        assert_eq!(close.len(), 5);
        assert!(close.windows(2).all(|w| w[0].0 <= w[1].0));
        let best = peers
            .iter()
            .map(|p| Point::of_peer(p).distance(&target))
            .min()
            .unwrap();
        assert_eq!(close[0].0, best);
    }

    #[test]
    fn a_full_bucket_keeps_connected_peers_and_drops_a_disconnected_one() {
        let me = PeerId::random();
        let mut t = RoutingTable::new(&me, 2);
        let now = Instant::now();
        // Peers until one bucket holds two and a third arrives.
        let mut by_bucket: std::collections::HashMap<usize, Vec<PeerId>> = Default::default();
        let (bucket, three) = loop {
            let p = PeerId::random();
            let b = t.bucket_of(&Point::of_peer(&p)).unwrap();
            let v = by_bucket.entry(b).or_default();
            v.push(p);
            if v.len() == 3 {
                break (b, v.clone());
            }
        };
        t.insert(three[0], &[addr(1)], false, true, now);
        t.insert(three[1], &[addr(2)], false, true, now);
        assert_eq!(
            t.insert(three[2], &[addr(3)], false, true, now),
            Inserted::BucketFull
        );
        t.set_connected(&three[0], false);
        assert_eq!(
            t.insert(three[2], &[addr(3)], false, true, now),
            Inserted::Replaced(three[0])
        );
        assert_eq!(t.buckets[bucket].len(), 2);
        assert!(t.remove(&three[1]));
        assert!(!t.remove(&three[1]));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn addresses_are_merged_or_replaced() {
        let me = PeerId::random();
        let p = PeerId::random();
        let mut t = RoutingTable::new(&me, 20);
        let now = Instant::now();
        t.insert(p, &[addr(1)], false, false, now);
        t.insert(p, &[addr(2)], false, false, now);
        assert_eq!(t.get(&p).unwrap().addrs, vec![addr(2), addr(1)]);
        t.insert(p, &[addr(3)], true, false, now);
        assert_eq!(t.get(&p).unwrap().addrs, vec![addr(3)]);
        t.remove_addr(&p, &addr(3));
        assert!(t.get(&p).unwrap().addrs.is_empty());
        // A peer without addresses cannot enter.
        let q = PeerId::random();
        assert_eq!(t.insert(q, &[], false, true, now), Inserted::BucketFull);
    }
}
