//! [`Client`]: the cloneable async handle to a running node. Each method
//! sends one [`Command`] to the event loop that owns the swarm and awaits its
//! reply on a oneshot channel, so callers never touch the swarm or a lock.

use std::num::NonZeroUsize;
use std::time::Duration;

use libp2p::kad::RecordKey;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

use crate::bootstrap::Target;
use crate::error::Error;

/// How many commands may wait for the event loop before senders wait too.
pub const COMMAND_CAPACITY: usize = 64;

/// How many peers must answer a `put` or `get` before it counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quorum {
    /// The default: one answer (for `put`, the record is always stored
    /// locally and sent to the k closest peers; one confirmation is asked).
    #[default]
    Default,
    /// At least this many peers.
    N(NonZeroUsize),
    /// Every one of the k closest peers that answers within the timeout.
    All,
}

/// What a `put` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutReport {
    /// The key stored.
    pub key: RecordKey,
    /// How many remote peers confirmed storing the record.
    pub replicated: usize,
    /// The quorum asked for, and whether it was met.
    pub quorum: Quorum,
    /// Whether `replicated` satisfies the quorum asked for.
    pub quorum_met: bool,
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
}

/// What a `get` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetReport {
    /// The key looked up.
    pub key: RecordKey,
    /// Distinct values found, first found first. More than one means peers
    /// disagree: they are all reported rather than one picked silently.
    pub values: Vec<Found>,
    /// How many copies were seen in all (including duplicates).
    pub copies: usize,
    /// Whether the quorum asked for was met.
    pub quorum_met: bool,
    /// How long the lookup took.
    pub elapsed: Duration,
    /// How many peers were asked.
    pub peers_queried: u32,
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
}

/// One k-bucket of the routing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// The bucket index i: peers at XOR distance in [2^i, 2^(i+1)).
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
    /// The bucket that distance falls in (log2 of the distance).
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
    /// Records held in the local store.
    pub records: usize,
    /// Keys this node provides.
    pub provided: usize,
    /// DHT queries started by this node.
    pub queries_started: u64,
    /// DHT queries of this node still running (its own lookups, puts,
    /// bootstrap and background republishing).
    pub queries_active: usize,
    /// Inbound Kademlia requests served.
    pub requests_served: u64,
    /// Records pushed by peers that were refused (limits, validation).
    pub records_refused: u64,
    /// Keys whose latest state is not yet written to the record store's
    /// database (committed every tick; 0 for an in-memory store).
    pub unflushed: usize,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// Commands served (REPL, `ctl`, library calls).
    pub commands_served: u64,
    /// Where Prometheus metrics are served (`--metrics`), if anywhere.
    pub metrics: Option<std::net::SocketAddr>,
}

/// A request to the event loop, with the channel for its reply.
#[derive(Debug)]
pub(crate) enum Command {
    Put {
        key: RecordKey,
        value: Vec<u8>,
        quorum: Quorum,
        reply: oneshot::Sender<Result<PutReport, Error>>,
    },
    Get {
        key: RecordKey,
        quorum: Quorum,
        reply: oneshot::Sender<Result<GetReport, Error>>,
    },
    Provide {
        key: RecordKey,
        reply: oneshot::Sender<Result<Duration, Error>>,
    },
    Providers {
        key: RecordKey,
        reply: oneshot::Sender<Result<ProvidersReport, Error>>,
    },
    Peers {
        reply: oneshot::Sender<Vec<PeerInfo>>,
    },
    Info {
        reply: oneshot::Sender<NodeInfo>,
    },
    Routing {
        reply: oneshot::Sender<Vec<Bucket>>,
    },
    Closest {
        key: RecordKey,
        reply: oneshot::Sender<Vec<Close>>,
    },
    Dial {
        target: Target,
        reply: oneshot::Sender<Result<PeerId, Error>>,
    },
    Bootstrap {
        reply: oneshot::Sender<Result<usize, Error>>,
    },
    Stats {
        reply: oneshot::Sender<Stats>,
    },
    WaitJoined {
        reply: oneshot::Sender<()>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

/// The handle to a running node. Cheap to clone; when every clone is
/// dropped the node shuts down.
#[derive(Clone, Debug)]
pub struct Client {
    commands: mpsc::Sender<Command>,
}

impl Client {
    pub(crate) fn new(commands: mpsc::Sender<Command>) -> Self {
        Client { commands }
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, Error> {
        let (reply, rx) = oneshot::channel();
        self.commands.send(make(reply)).await?;
        Ok(rx.await?)
    }

    /// Stores `value` under `key` locally and on the k closest peers.
    pub async fn put(
        &self,
        key: RecordKey,
        value: Vec<u8>,
        quorum: Quorum,
    ) -> Result<PutReport, Error> {
        self.ask(|reply| Command::Put {
            key,
            value,
            quorum,
            reply,
        })
        .await?
    }

    /// Looks `key` up: the local store first, then the DHT.
    /// [`Error::NotFound`] when no peer that was asked has it.
    pub async fn get(&self, key: RecordKey, quorum: Quorum) -> Result<GetReport, Error> {
        self.ask(|reply| Command::Get { key, quorum, reply })
            .await?
    }

    /// Announces this node as a provider of `key`.
    pub async fn provide(&self, key: RecordKey) -> Result<Duration, Error> {
        self.ask(|reply| Command::Provide { key, reply }).await?
    }

    /// Finds the providers of `key`.
    pub async fn providers(&self, key: RecordKey) -> Result<ProvidersReport, Error> {
        self.ask(|reply| Command::Providers { key, reply }).await?
    }

    /// The connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, Error> {
        self.ask(|reply| Command::Peers { reply }).await
    }

    /// Our peer ID and addresses.
    pub async fn info(&self) -> Result<NodeInfo, Error> {
        self.ask(|reply| Command::Info { reply }).await
    }

    /// The routing table, bucket by bucket.
    pub async fn routing(&self) -> Result<Vec<Bucket>, Error> {
        self.ask(|reply| Command::Routing { reply }).await
    }

    /// The k closest peers to `key` in our routing table.
    pub async fn closest(&self, key: RecordKey) -> Result<Vec<Close>, Error> {
        self.ask(|reply| Command::Closest { key, reply }).await
    }

    /// Connects to a peer and adds it to the routing table.
    pub async fn dial(&self, target: Target) -> Result<PeerId, Error> {
        self.ask(|reply| Command::Dial { target, reply }).await?
    }

    /// Runs a Kademlia bootstrap; answers the routing table's size after it.
    pub async fn bootstrap(&self) -> Result<usize, Error> {
        self.ask(|reply| Command::Bootstrap { reply }).await?
    }

    /// The node's counters.
    pub async fn stats(&self) -> Result<Stats, Error> {
        self.ask(|reply| Command::Stats { reply }).await
    }

    /// Returns once the node has joined its network: its first bootstrap
    /// finished, or a bootstrap peer could not be reached (it is retried in
    /// the background), or it has no bootstrap peers (it creates a network).
    /// Scripts piped into the REPL wait on this, so their first `get` is not
    /// asked of an empty routing table.
    pub async fn wait_joined(&self) -> Result<(), Error> {
        self.ask(|reply| Command::WaitJoined { reply }).await
    }

    /// Stops the node (flushing its store); returns once it has stopped.
    pub async fn shutdown(&self) -> Result<(), Error> {
        self.ask(|reply| Command::Shutdown { reply }).await
    }
}
