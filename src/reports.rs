//! What the node answers to each request of a [`Client`](crate::network::Client):
//! plain data, counted from what happened (never what usually happens),
//! rendered for people or as JSON by [`crate::output`].

use std::num::NonZeroUsize;
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};

use crate::dht::{RecordKey, Version};

pub mod trace;

/// How many peers must answer a `put` or `get` before it counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quorum {
    /// The default. `put`: the record is stored locally (and sent to the k
    /// closest peers); `get`: one copy.
    #[default]
    Default,
    /// At least this many peers.
    N(NonZeroUsize),
    /// Every one of the k closest peers that is alive: answered the lookup.
    All,
}

/// A peer that refused a record, and its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The peer.
    pub peer: PeerId,
    /// Why, as the peer said (p2pnode peers give a reason; others do not).
    pub reason: String,
}

/// What a `put` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutReport {
    /// The key stored.
    pub key: RecordKey,
    /// The version given to the value (see [`crate::dht::record`]).
    pub version: Version,
    /// How many remote peers confirmed storing the record.
    pub replicated: usize,
    /// Which peers confirmed it (their acknowledgement means the record is
    /// on their disk).
    pub replicated_to: Vec<PeerId>,
    /// The peers that answered but did not store it.
    pub refused: Vec<Refused>,
    /// How many of the closest peers did not answer the store request.
    pub unreachable: usize,
    /// The quorum asked for.
    pub quorum: Quorum,
    /// Whether `replicated` satisfies the quorum asked for.
    pub quorum_met: bool,
    /// How many peers the quorum `all` asked for (the live closest peers).
    pub wanted: usize,
    /// How long the operation took.
    pub elapsed: Duration,
}

/// One value found for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The value.
    pub value: Vec<u8>,
    /// The peer that returned it; `None` for this node's own store.
    pub from: Option<PeerId>,
    /// Its version ([`Version::NONE`] from implementations without one).
    pub version: Version,
    /// Its publisher, when known.
    pub publisher: Option<PeerId>,
    /// For an owned key: its owner, whose signature on the value was
    /// verified (see [`crate::dht::owned`]).
    pub owner: Option<PeerId>,
}

/// What a `get` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetReport {
    /// The key looked up.
    pub key: RecordKey,
    /// Distinct values found, the newest first (see
    /// [`crate::dht::record`]). With `conflict`, values that cannot be
    /// ordered (copies without versions) are all listed.
    pub values: Vec<Found>,
    /// Whether the values found could not be ordered (two or more
    /// different values without versions, and none with one).
    pub conflict: bool,
    /// How many copies were seen in all (including duplicates).
    pub copies: usize,
    /// How many of those copies were older than the newest.
    pub stale: usize,
    /// How many peers answered with a value too large for this node.
    pub oversized: usize,
    /// Whether the quorum asked for was met.
    pub quorum_met: bool,
    /// How long the lookup took.
    pub elapsed: Duration,
    /// How many peers were asked.
    pub peers_queried: u32,
}

/// What a `provide` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvideReport {
    /// The key.
    pub key: RecordKey,
    /// How many of the closest peers the announcement was sent to.
    pub announced: usize,
    /// How long it took.
    pub elapsed: Duration,
}

/// Who provides a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvidersReport {
    /// The key.
    pub key: RecordKey,
    /// The providers found (this node included when it provides the key).
    pub providers: Vec<PeerId>,
    /// How long the lookup took.
    pub elapsed: Duration,
    /// How many peers were asked.
    pub peers_queried: u32,
}

/// A connected peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// Its peer ID.
    pub peer: PeerId,
    /// The remote addresses of our connections to it.
    pub addrs: Vec<Multiaddr>,
    /// Its agent version, once identify has told.
    pub agent: Option<String>,
    /// The last ping round-trip time.
    pub rtt: Option<Duration>,
}

/// This node's identity and addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// Our peer ID.
    pub peer: PeerId,
    /// Listen addresses, each with `/p2p/<peer>`.
    pub listen: Vec<Multiaddr>,
    /// External addresses advertised to peers.
    pub external: Vec<Multiaddr>,
    /// Kademlia's k in force (`--replication-factor`).
    pub k: usize,
    /// Kademlia's alpha in force (`--alpha`).
    pub alpha: usize,
    /// The Kademlia protocol names served, most preferred first.
    pub kad_protocols: Vec<libp2p::StreamProtocol>,
}

/// One k-bucket of the routing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// The bucket index i: peers at XOR distance in [2^i, 2^(i+1)) from
    /// this node.
    pub index: u32,
    /// Its entries: peer, addresses, and whether we are connected.
    pub entries: Vec<(PeerId, Vec<Multiaddr>, bool)>,
}

/// A known peer and its XOR distance to a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    /// The peer.
    pub peer: PeerId,
    /// The XOR distance as 64 hex digits.
    pub distance: String,
    /// How many leading bits the peer's and the key's hashes share.
    pub common_prefix_bits: u32,
    /// log2 of the distance (`None` for distance 0).
    pub bucket: Option<u32>,
}

/// Counters that describe the node's state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stats {
    /// Connected peers.
    pub connected_peers: usize,
    /// Open connections.
    pub connections: usize,
    /// Peers in the routing table.
    pub routing_table: usize,
    /// Records held in the local store (live ones).
    pub records: usize,
    /// Keys this node provides.
    pub provided: usize,
    /// Provider records held, this node's own and other peers'.
    pub provider_records: usize,
    /// DHT queries started by this node.
    pub queries_started: u64,
    /// DHT queries of this node still running (its own lookups, puts,
    /// bootstrap and background republishing).
    pub queries_active: usize,
    /// Inbound Kademlia requests served.
    pub requests_served: u64,
    /// The same, by message type (`GET_VALUE`, `FIND_NODE`, ...: the
    /// spec's names); types never asked are absent.
    pub requests_by_type: std::collections::BTreeMap<&'static str, u64>,
    /// Kademlia's k in force (`--replication-factor`).
    pub k: usize,
    /// Kademlia's alpha in force (`--alpha`).
    pub alpha: usize,
    /// Records and provider records pushed by peers and refused (limits,
    /// validation, stale versions, quotas, write policy).
    pub records_refused: u64,
    /// The same refusals by reason (the labels of
    /// [`crate::store::Refusal::label`]).
    pub refused_by_reason: std::collections::BTreeMap<&'static str, u64>,
    /// What the live records held cost in bytes (the unit of
    /// `--max-store-bytes`).
    pub record_bytes: usize,
    /// Damaged records found in the store at start: quarantined, never
    /// served.
    pub records_corrupt: usize,
    /// Incoming connections denied by a connection limit.
    pub connections_denied: u64,
    /// Keys whose latest state is not yet on disk (0 for an in-memory store).
    pub unflushed: usize,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// Commands served through the command layer (REPL, `ctl`).
    pub commands_served: u64,
    /// The most records the store holds (`--max-records`).
    pub records_limit: usize,
    /// Bytes of the record store's database file (0 for an in-memory store).
    pub store_bytes: u64,
    /// Commits of the record store that failed since the node started.
    pub store_write_errors: u64,
    /// Why writes to the record store fail, while they do.
    pub store_failing: Option<String>,
    /// Entries found at start in a format this p2pnode does not know
    /// (written by a newer one): left on disk, not loaded.
    pub store_unknown_entries: usize,
    /// Damaged entries found at start, moved to the quarantine table.
    pub store_quarantined: usize,
    /// Where Prometheus metrics are served (`--metrics`), if anywhere.
    pub metrics: Option<std::net::SocketAddr>,
}

/// The last characters of a peer ID: enough to tell nodes apart in logs
/// and pictures.
pub fn short(peer: &PeerId) -> String {
    let s = peer.to_string();
    s[s.len().saturating_sub(6)..].to_string()
}
