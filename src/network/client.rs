//! [`Client`]: the cloneable async handle to a running node. Each method
//! sends one `Command` to the event loop that owns the swarm and awaits its
//! reply on a oneshot channel, so callers never touch the swarm or a lock.

use std::sync::Arc;

use libp2p::PeerId;
use tokio::sync::{mpsc, oneshot};

use crate::bootstrap::Target;
use crate::dht::RecordKey;
use crate::error::Error;
pub use crate::reports::*;

/// How many commands may wait for the event loop before senders wait too.
pub const COMMAND_CAPACITY: usize = 64;

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
        reply: oneshot::Sender<Result<ProvideReport, Error>>,
    },
    Providers {
        key: RecordKey,
        reply: oneshot::Sender<Result<ProvidersReport, Error>>,
    },
    Trace {
        target: crate::reports::trace::TraceTarget,
        reply: oneshot::Sender<Result<crate::reports::trace::TraceReport, Error>>,
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
    DialPeer {
        peer: PeerId,
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
    Health {
        reply: oneshot::Sender<crate::health::Facts>,
    },
    Delete {
        key: RecordKey,
        reply: oneshot::Sender<Result<bool, Error>>,
    },
    Compact {
        reply: oneshot::Sender<Result<crate::store::Compacted, Error>>,
    },
    Backup {
        dest: std::path::PathBuf,
        reply: oneshot::Sender<Result<crate::store::BackedUp, Error>>,
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
    shared: Arc<Shared>,
}

/// What every handle of one node shares besides its channel.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Commands served through the command layer, counted there.
    pub served: crate::metrics::Commands,
    /// The configuration the node runs with (the `config` command).
    pub config: crate::Config,
    /// The node's peer ID (the owner of its `@self/..` keys).
    pub peer_id: PeerId,
}

impl Client {
    pub(crate) fn new(commands: mpsc::Sender<Command>, shared: Shared) -> Self {
        Client {
            commands,
            shared: Arc::new(shared),
        }
    }

    /// The counters of commands served, which the command layer feeds.
    pub fn served(&self) -> &crate::metrics::Commands {
        &self.shared.served
    }

    /// The configuration the node runs with.
    pub fn config(&self) -> &crate::Config {
        &self.shared.config
    }

    /// The node's peer ID (the owner of its `@self/..` keys).
    pub fn peer_id(&self) -> PeerId {
        self.shared.peer_id
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

    /// Looks `key` up: the local store when it holds a current copy, else
    /// the DHT. A report without values means no peer asked had it.
    pub async fn get(&self, key: RecordKey, quorum: Quorum) -> Result<GetReport, Error> {
        self.ask(|reply| Command::Get { key, quorum, reply })
            .await?
    }

    /// Announces this node as a provider of `key`.
    pub async fn provide(&self, key: RecordKey) -> Result<ProvideReport, Error> {
        self.ask(|reply| Command::Provide { key, reply }).await?
    }

    /// Finds the providers of `key`.
    pub async fn providers(&self, key: RecordKey) -> Result<ProvidersReport, Error> {
        self.ask(|reply| Command::Providers { key, reply }).await?
    }

    /// Runs an iterative lookup of `target` through the network (never
    /// answered from this node's store) and reports every request of it.
    pub async fn trace(
        &self,
        target: crate::reports::trace::TraceTarget,
    ) -> Result<crate::reports::trace::TraceReport, Error> {
        self.ask(|reply| Command::Trace { target, reply }).await?
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

    /// Connects to `peer` by its ID alone: the routing table's addresses,
    /// or else a FIND_NODE lookup of the peer in the DHT.
    pub async fn dial_peer(&self, peer: PeerId) -> Result<PeerId, Error> {
        self.ask(|reply| Command::DialPeer { peer, reply }).await?
    }

    /// Runs a Kademlia bootstrap; answers the routing table's size after it.
    pub async fn bootstrap(&self) -> Result<usize, Error> {
        self.ask(|reply| Command::Bootstrap { reply }).await?
    }

    /// The node's counters.
    pub async fn stats(&self) -> Result<Stats, Error> {
        let mut stats = self.ask(|reply| Command::Stats { reply }).await?;
        stats.commands_served = self.shared.served.served();
        Ok(stats)
    }

    /// Returns once the node has joined its network: its first bootstrap
    /// finished, or a bootstrap peer could not be reached (it is retried in
    /// the background), or it has no bootstrap peers (it creates a network).
    /// Scripts piped into the REPL wait on this, so their first `get` is not
    /// asked of an empty routing table.
    pub async fn wait_joined(&self) -> Result<(), Error> {
        self.ask(|reply| Command::WaitJoined { reply }).await
    }

    /// Whether the node can do its job (see [`crate::health`]): the event
    /// loop answers within [`crate::health::STALL_BOUND`], it has peers
    /// when it has peers to join through (after `--health-grace`), and
    /// its store writes succeed.
    pub async fn health(&self) -> Result<crate::health::Health, Error> {
        use crate::health::{STALL_BOUND, assess};
        let started = std::time::Instant::now();
        let asked = self.ask(|reply| Command::Health { reply });
        let facts = match tokio::time::timeout(STALL_BOUND, asked).await {
            Ok(facts) => Some(facts?),
            Err(_) => None,
        };
        let grace = self.shared.config.health_grace;
        Ok(assess(facts.as_ref(), started.elapsed(), grace))
    }

    /// Removes `key`'s record from this node's store only (copies on other
    /// peers stay); answers whether there was one, once the removal is on
    /// disk.
    pub async fn delete(&self, key: RecordKey) -> Result<bool, Error> {
        self.ask(|reply| Command::Delete { key, reply }).await?
    }

    /// Compacts the record store's database file.
    pub async fn compact(&self) -> Result<crate::store::Compacted, Error> {
        self.ask(|reply| Command::Compact { reply }).await?
    }

    /// Writes a consistent copy of the record store and the identity key
    /// into the new directory `dest` (see [`crate::store::backup`]).
    pub async fn backup(&self, dest: std::path::PathBuf) -> Result<crate::store::BackedUp, Error> {
        let config = &self.shared.config;
        if config.ephemeral {
            return Err(Error::Invalid(
                "this node keeps its records in memory (--ephemeral): nothing to back up".into(),
            ));
        }
        crate::store::backup::prepare(&dest).map_err(Error::Invalid)?;
        let mut done = self
            .ask(|reply| Command::Backup {
                dest: dest.clone(),
                reply,
            })
            .await??;
        done.identity =
            crate::store::backup::copy_identity(&config.data_dir, &dest).map_err(Error::Invalid)?;
        Ok(done)
    }

    /// Stops the node (flushing its store); returns once it has stopped.
    pub async fn shutdown(&self) -> Result<(), Error> {
        self.ask(|reply| Command::Shutdown { reply }).await
    }
}
