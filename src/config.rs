//! What a node runs with: the validated [`Config`] (built from the command
//! line in [`cli`](crate::cli), or by hand in tests), its parts, and the
//! typed [`ConfigError`] naming the rule a setting broke.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use libp2p::Multiaddr;

use crate::bootstrap::{DEFAULT_PORT, Target};
use crate::dht::protocols::{KadProtocols, ProtocolError};
pub use crate::store::Limits;

/// How replies are written ([`crate::output`] renders them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Friendly text.
    Human,
    /// One JSON object per line.
    Json,
}

/// Bounds on connections, so no flood of them exhausts the node's file
/// descriptors or memory (`libp2p::connection_limits`, plus a per-IP bound
/// on handshakes in progress). Connections that never finish their
/// handshake (plain TCP, say) count as pending incoming ones until the
/// transport's timeout closes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Most established connections, both directions.
    pub max_established: u32,
    /// Most established incoming connections.
    pub max_established_incoming: u32,
    /// Most established connections to one peer.
    pub max_established_per_peer: u32,
    /// Most incoming connections still in their handshake.
    pub max_pending_incoming: u32,
    /// Most incoming connections in their handshake from one IP address.
    pub max_pending_per_ip: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_established: 512,
            max_established_incoming: 384,
            max_established_per_peer: 4,
            max_pending_incoming: 128,
            max_pending_per_ip: 16,
        }
    }
}

impl ConnectionLimits {
    /// The file descriptors these limits may need: one per connection,
    /// pending outgoing ones as many as incoming, and room for the store,
    /// listeners and the control socket.
    pub fn descriptors(&self) -> u64 {
        u64::from(self.max_established) + 2 * u64::from(self.max_pending_incoming) + 64
    }
}

/// Kademlia's timing knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// Record time-to-live.
    pub record_ttl: Duration,
    /// Republication interval of own records.
    pub republish_interval: Duration,
    /// Replication interval of stored records.
    pub replication_interval: Duration,
    /// Timeout of one query.
    pub query_timeout: Duration,
    /// Interval of the periodic routing-table refresh (Kademlia bootstrap).
    pub refresh_interval: Duration,
    /// Idle connection timeout.
    pub idle_timeout: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            record_ttl: Duration::from_secs(48 * 3600),
            republish_interval: Duration::from_secs(22 * 3600),
            replication_interval: Duration::from_secs(3600),
            query_timeout: Duration::from_secs(30),
            refresh_interval: Duration::from_secs(300),
            idle_timeout: Duration::from_secs(600),
        }
    }
}

/// Kademlia's two size parameters (Maymounkov & Mazières, section 2.3 and
/// 2.4): k, which is both the size of a k-bucket and the replication factor
/// (a record is stored on the k closest peers, a lookup ends when the k
/// closest peers it knows have answered, an answer names up to k closer
/// peers), and alpha, the requests sent in parallel per lookup round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kademlia {
    /// k: k-bucket size and replication factor, from 1 to [`MAX_K`].
    pub k: usize,
    /// alpha: requests per lookup round, from 1 to k.
    pub alpha: usize,
}

/// The largest k accepted: every answer names up to k peers, and the
/// libp2p networks in use run with k = 20.
pub const MAX_K: usize = 64;

impl Default for Kademlia {
    fn default() -> Self {
        Kademlia {
            k: crate::dht::DEFAULT_K,
            alpha: crate::dht::DEFAULT_ALPHA,
        }
    }
}

impl Kademlia {
    /// Checks `k` (1 to [`MAX_K`]) and `alpha` (1 to k).
    pub fn new(k: usize, alpha: usize) -> Result<Kademlia, ConfigError> {
        if !(1..=MAX_K).contains(&k) {
            return Err(ConfigError::ReplicationFactor { k });
        }
        if !(1..=k).contains(&alpha) {
            return Err(ConfigError::Alpha { alpha, k });
        }
        Ok(Kademlia { k, alpha })
    }
}

/// Whether the node reads commands from stdin. A person at a terminal wants
/// a prompt, a script piped in wants its lines answered, and a service or a
/// detached container (stdin `/dev/null`) wants the node to keep serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplMode {
    /// Decide from stdin: a terminal gets a prompt, a pipe or a regular file
    /// is read as a script (EOF shuts the node down), anything else (e.g.
    /// `/dev/null`) is not read and the node serves until stopped.
    Auto,
    /// Read stdin whatever it is (`P2PNODE_NO_REPL=false`).
    On,
    /// Never read stdin (`--no-repl`); `p2pnode ctl` talks to the node.
    Off,
}

/// A validated node configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Addresses to listen on.
    pub listen: Vec<Multiaddr>,
    /// Peers to join through; empty = create a new network.
    pub bootstrap: Vec<Target>,
    /// Extra external addresses to advertise.
    pub announce: Vec<Multiaddr>,
    /// Which addresses this node advertises and keeps (`--announce-subnet`).
    pub reach: crate::address::Reach,
    /// The data directory.
    pub data_dir: PathBuf,
    /// In-memory records and a throwaway identity.
    pub ephemeral: bool,
    /// Storage limits.
    pub limits: Limits,
    /// What records this node takes from which peers.
    pub policy: crate::store::WritePolicy,
    /// Connection limits.
    pub connections: ConnectionLimits,
    /// Kademlia timings.
    pub timings: Timings,
    /// Kademlia's k and alpha.
    pub kademlia: Kademlia,
    /// Pre-shared key file for a private network.
    pub swarm_key: Option<PathBuf>,
    /// Prometheus metrics address.
    pub metrics: Option<SocketAddr>,
    /// Serve the control socket for `p2pnode ctl`.
    pub control_socket: bool,
    /// How answers and start-up events are written to stdout.
    pub format: Format,
    /// Whether commands are read from stdin.
    pub repl: ReplMode,
    /// How long a node with peers to join through may be without any
    /// before `health` fails.
    pub health_grace: Duration,
    /// Refuse to start without a swarm key (`--require-private`).
    pub require_private: bool,
    /// How log lines look.
    pub log_format: crate::logging::LogFormat,
    /// The Kademlia protocol names served and asked with, most preferred
    /// first (`--kad-protocol`, `--lan`).
    pub kad_protocols: KadProtocols,
}

/// The default of `--health-grace`.
pub const DEFAULT_HEALTH_GRACE: Duration = Duration::from_secs(60);

impl Config {
    /// A node on 127.0.0.1 with an ephemeral TCP port, for tests and
    /// benchmarks: in-memory records, throwaway identity, no control socket,
    /// no command loop on stdin.
    pub fn local(data_dir: PathBuf) -> Self {
        Config {
            listen: vec![
                "/ip4/127.0.0.1/tcp/0"
                    .parse()
                    .expect("a valid literal multiaddr"),
            ],
            bootstrap: Vec::new(),
            announce: Vec::new(),
            reach: Default::default(),
            data_dir,
            ephemeral: true,
            limits: Limits::default(),
            policy: crate::store::WritePolicy::default(),
            connections: ConnectionLimits::default(),
            timings: Timings::default(),
            kademlia: Kademlia::default(),
            swarm_key: None,
            metrics: None,
            control_socket: false,
            format: Format::Human,
            repl: ReplMode::Off,
            health_grace: DEFAULT_HEALTH_GRACE,
            require_private: false,
            log_format: crate::logging::LogFormat::Text,
            kad_protocols: KadProtocols::default(),
        }
    }

    /// Where the REPL history is kept: in the data directory, unless the
    /// node is ephemeral.
    pub fn history_file(&self) -> Option<PathBuf> {
        (!self.ephemeral).then(|| self.data_dir.join("history.txt"))
    }
}

/// Why a command line does not make a usable [`Config`]. Each message is one
/// line naming the flag, so a person can fix it.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A bootstrap entry is not an address (the message names it).
    #[error("{0}")]
    Bootstrap(String),
    /// A size limit of zero.
    #[error("{flag} must be at least 1")]
    ZeroSize {
        /// The flag.
        flag: &'static str,
    },
    /// A duration of zero.
    #[error("{flag} must be longer than zero")]
    ZeroDuration {
        /// The flag.
        flag: &'static str,
    },
    /// Copies would expire before their originator republishes them.
    #[error(
        "--record-ttl ({}) must be at least 1s longer than --republish-interval ({}): copies on peers would lapse before they are republished",
        humantime::format_duration(*ttl),
        humantime::format_duration(*republish)
    )]
    TtlNotAfterRepublish {
        /// `--record-ttl`.
        ttl: Duration,
        /// `--republish-interval`.
        republish: Duration,
    },
    /// A QUIC address with `--swarm-key`.
    #[error(
        "{flag} {addr}: QUIC cannot carry a private network's pre-shared key; with --swarm-key only TCP is used"
    )]
    QuicInPrivateNetwork {
        /// `--listen` or `--bootstrap`.
        flag: &'static str,
        /// The address.
        addr: String,
    },
    /// An address given by the user that can never be dialled.
    #[error("{flag} {addr}: {why}")]
    Undialable {
        /// The flag.
        flag: &'static str,
        /// The address.
        addr: String,
        /// Why it cannot work.
        why: &'static str,
    },
    /// More `--announce` addresses than peers keep for one peer.
    #[error(
        "--announce: {given} addresses given; at most {MAX_ANNOUNCE} (identify carries at most 20 external addresses, and the listen addresses count too)"
    )]
    TooManyAnnounced {
        /// How many were given.
        given: usize,
    },
    /// `--require-private` without a swarm key: refuse to start as an open node.
    #[error(
        "--require-private: no swarm key given (--swarm-key or P2PNODE_SWARM_KEY); refusing to start as an open node"
    )]
    PrivateRequired,
    /// A replication factor k out of bounds.
    #[error(
        "--replication-factor {k}: must be from 1 to {MAX_K} (Kademlia's k; the default is 20)"
    )]
    ReplicationFactor {
        /// The k given.
        k: usize,
    },
    /// An alpha out of bounds.
    #[error(
        "--alpha {alpha}: must be from 1 to the replication factor ({k}); a lookup round asks at most the k closest peers"
    )]
    Alpha {
        /// The alpha given.
        alpha: usize,
        /// The k in force.
        k: usize,
    },
    /// A `--kad-protocol` name that cannot be used.
    #[error(transparent)]
    KadProtocol(#[from] ProtocolError),
    /// `--allow-writer` without the policy that reads it.
    #[error("--allow-writer takes effect only with --accept-records owned+allowlist")]
    AllowlistUnused,
    /// A per-peer quota larger than the store's budget.
    #[error("{flag} ({quota}) must not be more than {budget_flag} ({budget})")]
    QuotaOverBudget {
        /// The per-peer flag.
        flag: &'static str,
        /// Its value.
        quota: usize,
        /// The store budget's flag.
        budget_flag: &'static str,
        /// Its value.
        budget: usize,
    },
}

/// The most `--announce` addresses: libp2p's identify carries at most 20
/// external addresses, and the node's listen addresses count too.
pub const MAX_ANNOUNCE: usize = 16;

/// How much longer than the republish interval the record TTL must be:
/// republishing takes a lookup, and copies must outlive it.
pub const REPUBLISH_MARGIN: Duration = Duration::from_secs(1);

/// The default listen addresses: TCP and QUIC on all IPv4 interfaces.
pub fn default_listen() -> Vec<Multiaddr> {
    listen_on_port(DEFAULT_PORT)
}

/// TCP and QUIC on `port`, all IPv4 interfaces.
pub fn listen_on_port(port: u16) -> Vec<Multiaddr> {
    [
        format!("/ip4/0.0.0.0/tcp/{port}"),
        format!("/ip4/0.0.0.0/udp/{port}/quic-v1"),
    ]
    .iter()
    .filter_map(|a| a.parse().ok())
    .collect()
}

/// Whether an address uses QUIC.
pub fn is_quic(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| {
        matches!(
            p,
            libp2p::multiaddr::Protocol::QuicV1 | libp2p::multiaddr::Protocol::Quic
        )
    })
}

/// The default data directory: `$XDG_DATA_HOME/p2pnode` or `~/.local/share/p2pnode`.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("p2pnode")
}
