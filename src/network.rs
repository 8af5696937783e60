//! The network side of a node: the swarm, the event loop that owns it, and
//! the [`Client`] handle the rest of the program uses.

// The derive macro generates an event enum without docs; its variants mirror the fields.
#[allow(missing_docs)]
pub mod behaviour;
pub mod cause;
pub mod client;
mod event_loop;
pub mod hosts_file;
mod peers;
mod pending_per_ip;
pub mod pnet_check;
mod ratelimit;

mod retry;
pub mod transport;

use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{Instrument, info};

pub use crate::reports::Quorum;
pub use client::Client;
pub use event_loop::Settings;
pub use transport::Kind;

use event_loop::EventLoop;

use crate::config::Config;
use crate::error::StartError;
use crate::identity;
use crate::store::Store;

/// How long listeners may take to report their addresses at start.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// A running node: its handle, identity and real listen addresses.
#[derive(Debug)]
pub struct Node {
    /// The handle to send commands with.
    pub client: Client,
    /// This node's peer ID.
    pub peer_id: PeerId,
    /// Listen addresses with `/p2p/<peer_id>`, real ports included.
    pub listen_addrs: Vec<Multiaddr>,
    /// How the node joins: `"create"` (no peers to join through), `"join"`
    /// (bootstrap peers given) or `"rejoin"` (peers saved from its last run).
    pub mode: &'static str,
    /// Where Prometheus metrics are served (`--metrics`; the real port).
    pub metrics_addr: Option<std::net::SocketAddr>,
    task: JoinHandle<()>,
}

impl Node {
    /// Starts a node with TCP + QUIC (or TCP + pnet); returns once it listens.
    pub async fn spawn(config: Config) -> Result<Node, StartError> {
        Self::spawn_with(config, Kind::Standard).await
    }

    /// Starts a node over the given transport kind.
    pub async fn spawn_with(config: Config, kind: Kind) -> Result<Node, StartError> {
        let key = if config.ephemeral {
            libp2p::identity::Keypair::generate_ed25519()
        } else {
            identity::load_or_create(&config.data_dir)?
        };
        let peer_id = key.public().to_peer_id();
        let store = if config.ephemeral {
            Store::in_memory(peer_id, &config.limits)
        } else {
            Store::open(&config.data_dir, peer_id, &config.limits)?
        }
        .with_policy(config.policy.clone());
        let swarm = transport::build(key.clone(), &config, kind)?;
        let (tx, rx) = mpsc::channel(client::COMMAND_CAPACITY);
        let settings = Settings {
            k: config.kademlia.k,
            alpha: config.kademlia.alpha,
            timings: config.timings,
            limits: config.limits,
        };
        let mut event_loop = EventLoop::new(
            swarm,
            key,
            rx,
            settings,
            config.kad_protocols.clone(),
            store,
            config.bootstrap.clone(),
        );
        let served = crate::metrics::Commands::default();
        event_loop.set_reach(config.reach.clone());
        let mut metrics_addr = None;
        if let Some(addr) = config.metrics {
            let recorder =
                crate::metrics::start(addr, &served, &cause::Cause::ALL.map(cause::Cause::label))
                    .await?;
            metrics_addr = Some(recorder.addr());
            event_loop.set_metrics(recorder);
        }
        let span = tracing::info_span!("node", peer = %crate::reports::short(&peer_id));
        let listen_addrs = event_loop
            .listen(&config.listen, &config.announce, LISTEN_TIMEOUT)
            .instrument(span.clone())
            .await?;
        let mode = event_loop.join_mode();
        match mode {
            "create" => {
                info!(target: crate::logging::STARTUP, parent: &span, %peer_id, "no bootstrap peers: creating a new network")
            }
            "rejoin" => {
                info!(target: crate::logging::STARTUP, parent: &span, %peer_id, "rejoining through the peers saved at the last run")
            }
            _ => {
                info!(target: crate::logging::STARTUP, parent: &span, %peer_id, peers = config.bootstrap.len(), "joining through bootstrap peers")
            }
        }
        let task = tokio::spawn(event_loop.run().instrument(span));
        Ok(Node {
            client: Client::new(
                tx,
                client::Shared {
                    served,
                    config,
                    peer_id,
                },
            ),
            peer_id,
            listen_addrs,
            mode,
            metrics_addr,
            task,
        })
    }

    /// Waits until the event loop has stopped.
    pub async fn stopped(&mut self) {
        let _ = (&mut self.task).await;
    }
}
