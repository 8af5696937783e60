//! Joining: the bootstrap peers the user gave (retried with backoff), the
//! peers saved from the last run (a restarted node rejoins the network it
//! knew, as bmuller's kademlia and kubo do), this node's own address in a
//! bootstrap list (recognised and dropped), and when to run the Kademlia
//! bootstrap that fills the routing table (`bootstrap`).
//!
//! A bootstrap or saved peer is joined through once identify says it
//! serves one of this node's DHT protocol names; one that serves none is
//! given up (it runs another DHT: `--kad-protocol`, `--lan`).
//!
//! The first command of a script waits for the join: until the first
//! bootstrap has finished, or every peer to join through has failed once
//! or been given up (then the node serves alone and keeps retrying).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::swarm::ConnectionId;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::{Multiaddr, PeerId};
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

use super::EventLoop;
use super::query::QueryId;
use crate::address::is_own_address;
use crate::bootstrap::Target;
use crate::network::retry::Retries;

/// The least time between two bootstraps started because a routing table
/// smaller than k gained a peer (as libp2p-kad throttles its own).
const AUTO_BOOTSTRAP_EVERY: Duration = Duration::from_millis(500);

/// Where the node stands in joining its network.
pub(super) struct Join {
    /// The bootstrap peers, dialled with backoff.
    pub retries: Retries,
    saved: Vec<(PeerId, Vec<Multiaddr>)>,
    saved_dials: Vec<(ConnectionId, PeerId)>,
    /// Bootstrap and saved peers connected, waiting for identify, with the
    /// address we reached them at.
    awaiting: HashMap<PeerId, Multiaddr>,
    mode: &'static str,
    settled: bool,
    waiters: Vec<oneshot::Sender<()>>,
    /// Whether a bootstrap has finished with peers in the routing table.
    pub joined: bool,
    /// The bootstrap running, if one is.
    pub bootstrap: Option<QueryId>,
    /// Whether every peer left the routing table (the node is cut off).
    pub isolated: bool,
    /// A peer joined a routing table smaller than k: look around again.
    pub want_bootstrap: bool,
    last_auto: Option<Instant>,
}

impl Join {
    pub fn new(targets: Vec<Target>, saved: Vec<(PeerId, Vec<Multiaddr>)>) -> Self {
        let mode = match (saved.is_empty(), targets.is_empty()) {
            (false, _) => "rejoin",
            (true, false) => "join",
            (true, true) => "create",
        };
        Join {
            retries: Retries::new(targets),
            saved,
            saved_dials: Vec::new(),
            awaiting: HashMap::new(),
            mode,
            settled: false,
            waiters: Vec::new(),
            joined: false,
            bootstrap: None,
            isolated: false,
            want_bootstrap: false,
            last_auto: None,
        }
    }

    /// `"create"`, `"join"` or `"rejoin"`.
    pub fn mode(&self) -> &'static str {
        self.mode
    }

    /// Drops bootstrap targets that are this node's own listen addresses:
    /// given as addresses, or as names that `hosts` (the hosts file) or
    /// `resolved` (the system resolver, at start) map to one of them, e.g. a
    /// shared `P2P_REMOTE_HOST=n1,n2,n3` in every container.
    pub fn drop_own_addresses(
        &mut self,
        listening: &[Multiaddr],
        hosts: &crate::network::hosts_file::HostsFile,
        resolved: &[(Target, Vec<Multiaddr>)],
    ) {
        let own = |t: &Target| {
            is_own_address(&t.addr, listening)
                || hosts
                    .resolve(&t.addr)
                    .iter()
                    .any(|a| is_own_address(a, listening))
                || resolved
                    .iter()
                    .filter(|(r, _)| r == t)
                    .flat_map(|(_, addrs)| addrs)
                    .any(|a| is_own_address(a, listening))
        };
        for t in self.retries.drop_where(own) {
            warn!(address = %t, "this node is in its own bootstrap list; ignoring that entry");
        }
        if !self.retries.has_targets() && self.saved.is_empty() {
            self.mode = "create";
        }
    }

    /// The bootstrap targets given by host name, to resolve at start.
    pub fn named_targets(&self) -> Vec<Target> {
        self.retries.named_targets()
    }

    /// How many peers the node joins through: bootstrap peers and peers
    /// saved at its last run.
    pub fn targets(&self) -> usize {
        self.retries.count() + self.saved.len()
    }

    /// Drops the saved peers' addresses outside `reach` (saved by a run
    /// without `--announce-subnet`), and the peers left with none.
    pub fn saved_in_reach(&mut self, reach: &crate::address::Reach) {
        for (_, addrs) in &mut self.saved {
            addrs.retain(|a| reach.in_reach(a));
        }
        self.saved.retain(|(_, addrs)| !addrs.is_empty());
    }

    fn nothing_to_join(&self) -> bool {
        !self.retries.has_targets() && self.saved.is_empty()
    }

    /// Whether `peer` is a bootstrap or saved peer waiting for identify.
    pub fn is_awaiting(&self, peer: &PeerId) -> bool {
        self.awaiting.contains_key(peer)
    }
}

impl EventLoop {
    /// At start: the saved peers go into the routing table and are dialled
    /// with the bootstrap peers.
    pub(super) fn join_start(&mut self) {
        let saved = self.join.saved.clone();
        for (peer, addrs) in &saved {
            self.routing
                .insert(*peer, addrs, true, false, Instant::now());
        }
        if self.join.nothing_to_join() {
            self.settle_join();
        }
        self.dial_saved();
        self.join.retries.dial_due(&mut self.swarm);
    }

    fn dial_saved(&mut self) {
        let saved = self.join.saved.clone();
        for (peer, addrs) in saved {
            let opts = DialOpts::peer_id(peer)
                .addresses(addrs)
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            let id = opts.connection_id();
            if self.swarm.dial(opts).is_ok() {
                self.join.saved_dials.push((id, peer));
            }
        }
    }

    pub(super) fn join_tick(&mut self) {
        self.join.retries.dial_due(&mut self.swarm);
        let throttled = self
            .join
            .last_auto
            .is_some_and(|t| t.elapsed() < AUTO_BOOTSTRAP_EVERY);
        if self.join.want_bootstrap && self.join.bootstrap.is_none() && !throttled {
            // A small network: a peer just met may know peers we do not.
            self.join.want_bootstrap = false;
            self.join.last_auto = Some(Instant::now());
            self.start_bootstrap(None);
        }
    }

    /// A dial of ours connected: a bootstrap or saved peer starts the join
    /// once identify says it serves our DHT ([`Self::join_identified`]).
    pub(super) fn join_connected(&mut self, id: ConnectionId, peer: PeerId, addr: Multiaddr) {
        let ours = self.join.retries.connected(id);
        let saved = self.join.saved_dials.iter().any(|(c, _)| *c == id);
        self.join.saved_dials.retain(|(c, _)| *c != id);
        if !(ours || saved) {
            return;
        }
        if ours {
            info!(%peer, %addr, "connected to bootstrap peer");
        }
        self.join.awaiting.insert(peer, addr);
        if self.peers.speaks_kad(&peer) {
            // Identified on an earlier connection: join now.
            self.join_identified(peer, Some(true));
        }
    }

    /// What identify said of `peer`: `Some(true)` it serves one of our DHT
    /// protocols, `Some(false)` it serves none, `None` identify failed (its
    /// first answer will tell). A bootstrap or saved peer waiting for this
    /// is joined through, or given up.
    pub(super) fn join_identified(&mut self, peer: PeerId, serves: Option<bool>) {
        let Some(addr) = self.join.awaiting.remove(&peer) else {
            return;
        };
        if serves == Some(false) {
            self.settle_if_alone();
            return;
        }
        self.route(peer, &[addr], false);
        if !self.join.joined || self.join.isolated || self.routing.len() <= 1 {
            self.start_bootstrap(None);
        }
    }

    /// The last connection to `peer` closed: if it was waiting for
    /// identify to join through, it is given up.
    pub(super) fn join_disconnected(&mut self, peer: &PeerId) {
        if self.join.awaiting.remove(peer).is_some() {
            self.settle_if_alone();
        }
    }

    /// A peer to join through was given up: with nobody else to join
    /// through right now, the node serves alone (and keeps retrying).
    fn settle_if_alone(&mut self) {
        if self.join.awaiting.is_empty()
            && self.join.saved_dials.is_empty()
            && self.join.bootstrap.is_none()
            && !self.join.retries.any_dialing()
        {
            self.settle_join();
        }
    }

    /// A dial of ours failed; true when it was a join dial.
    pub(super) fn join_failed(&mut self, id: ConnectionId, why: &str) -> bool {
        let ours = self.join.retries.failed(id, why);
        let saved = self.join.saved_dials.iter().position(|(c, _)| *c == id);
        if let Some(i) = saved {
            let (_, peer) = self.join.saved_dials.remove(i);
            debug!(%peer, error = why, "saved peer unreachable");
            self.routing.remove(&peer);
        }
        if (ours || saved.is_some())
            && self.join.saved_dials.is_empty()
            && self.join.retries.all_failed()
            && self.join.bootstrap.is_none()
        {
            // Nobody to join through right now: serve alone, keep retrying.
            self.settle_join();
        }
        ours || saved.is_some()
    }

    /// A dial reached this node itself (a bootstrap name that resolves to it).
    pub(super) fn join_is_self(&mut self, id: ConnectionId, address: &Multiaddr) {
        if let Some(t) = self.join.retries.drop_dial(id) {
            warn!(bootstrap = %t, %address, "this node is in its own bootstrap list; ignoring that entry");
        }
        if self.join.nothing_to_join()
            || (self.join.retries.all_failed() && self.join.saved_dials.is_empty())
        {
            self.settle_join();
        }
    }

    /// A dial reached another node with this node's peer ID: not a peer to
    /// join through (the caller has warned).
    pub(super) fn join_drop_clash(&mut self, id: ConnectionId) {
        self.join.retries.drop_dial(id);
        if self.join.retries.all_failed() && self.join.saved_dials.is_empty() {
            self.settle_join();
        }
    }

    /// A peer left the routing table; if it was the last, the node is cut
    /// off: its copies may be outdated, and it dials its way back.
    pub(super) fn routing_lost_peer(&mut self) {
        if !self.routing.is_empty() || self.join.isolated {
            return;
        }
        self.join.isolated = true;
        self.store.unconfirm_all();
        if self.join.retries.has_targets() || !self.join.saved.is_empty() {
            warn!(
                "no peer in the routing table answers; dialling the bootstrap and saved peers again"
            );
            self.join.retries.reset(&mut self.swarm);
            self.dial_saved();
        }
    }

    /// The first join attempt is over: release whoever waits for it.
    pub(super) fn settle_join(&mut self) {
        self.join.settled = true;
        for waiter in self.join.waiters.drain(..) {
            let _ = waiter.send(());
        }
    }

    /// Answers `reply` once the first join attempt is over.
    pub(super) fn wait_joined(&mut self, reply: oneshot::Sender<()>) {
        if self.join.settled {
            let _ = reply.send(());
        } else {
            self.join.waiters.push(reply);
        }
    }
}
