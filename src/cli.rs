//! The command line (clap derive, with environment fallbacks) and its
//! validation into a [`Config`], in one place, so the rest of the code only
//! ever sees checked values.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};
use libp2p::Multiaddr;

use crate::bootstrap::{self, DEFAULT_PORT};
use crate::config::{
    Config, ConfigError, Limits, MAX_ANNOUNCE, REPUBLISH_MARGIN, ReplMode, Timings,
    default_data_dir, is_quic, listen_on_port,
};
use crate::dht::protocols::KadProtocols;
use crate::logging::LogFormat;
use crate::output::Format;

mod kademlia;
mod protection;
pub use protection::ProtectionArgs;

const EXAMPLES: &str = "\
Examples:
  p2pnode                                    create a new network (listen on TCP+QUIC port 4001)
  P2P_REMOTE_HOST=node1 p2pnode              join the network node1 is part of (node1:4001)
  p2pnode --listen /ip4/127.0.0.1/tcp/0 --bootstrap /ip4/127.0.0.1/tcp/4001
  echo 'put greeting hello' | p2pnode --json --bootstrap 127.0.0.1:4001
  p2pnode --no-repl &   then   p2pnode ctl put \"my key\" \"hello world\"";

/// The `p2pnode` command line.
#[derive(Debug, Parser)]
#[command(name = "p2pnode", version = crate::version::long(), about, after_help = crate::command::cli_after_help(EXAMPLES))]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// A subcommand; without one, p2pnode runs a node.
    #[command(subcommand)]
    pub command: Option<Sub>,
    /// Options for running a node.
    #[command(flatten)]
    pub node: NodeArgs,
}

/// Subcommands besides running a node.
#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Send one command to the node running on this data directory and print its reply.
    Ctl(CtlArgs),
    /// Private networks' pre-shared keys.
    #[command(subcommand)]
    SwarmKey(SwarmKeySub),
    /// Write a consistent copy of a node's record store and identity key
    /// into a new directory: through the running node when one answers on
    /// the data directory, else from the files (the node is stopped).
    Backup(BackupArgs),
    /// Check a stopped node's record store for damage, without changing it.
    Verify(VerifyArgs),
}

/// `p2pnode swarm-key ...`.
#[derive(Debug, Subcommand)]
pub enum SwarmKeySub {
    /// Make a new random key in the swarm.key format of go-libp2p/IPFS.
    Generate {
        /// Write it to this new file (owner-only; never overwritten)
        /// instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// Options of `p2pnode backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The node's data directory.
    #[arg(long, env = "P2PNODE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// A new (or empty) directory for the copy; it becomes a data directory.
    pub dest: PathBuf,
}

/// Options of `p2pnode verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The data directory of a stopped node.
    #[arg(long, env = "P2PNODE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Options of `p2pnode ctl`.
#[derive(Debug, Args)]
pub struct CtlArgs {
    /// The running node's data directory.
    #[arg(long, env = "P2PNODE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print the reply as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Give up after this long (e.g. 30s).
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// The command, as typed at the prompt (e.g. `get greeting`).
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// Options for running a node.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Address to listen on (repeatable). Port 0 picks a free port.
    /// Default: TCP and QUIC on port 4001, all IPv4 interfaces.
    #[arg(long = "listen", env = "P2PNODE_LISTEN", value_delimiter = ',')]
    pub listen: Vec<Multiaddr>,
    /// Shorthand for listening on TCP and QUIC on this port, all IPv4
    /// interfaces (e.g. a second node on the same machine: --port 4002).
    #[arg(long, env = "P2PNODE_PORT", conflicts_with = "listen")]
    pub port: Option<u16>,
    /// Peer to join through (repeatable): a multiaddr, `host`, `host:port` or
    /// `ip:port`, optionally with `/p2p/<peer-id>`. Falls back to
    /// P2P_REMOTE_HOST (comma/space separated). None: create a new network.
    #[arg(long = "bootstrap", env = "P2P_REMOTE_HOST")]
    pub bootstrap: Vec<String>,
    /// Address other peers should dial to reach this node (repeatable), e.g.
    /// the host's address when a container's port is published.
    #[arg(long = "announce", env = "P2PNODE_ANNOUNCE", value_delimiter = ',')]
    pub announce: Vec<Multiaddr>,
    /// Network peers can reach this node on, as CIDR (repeatable), e.g. a
    /// swarm overlay's 10.231.8.0/24: the node advertises only its listen
    /// addresses inside these networks and keeps only peers' addresses
    /// inside them. Default: every address.
    #[arg(
        long = "announce-subnet",
        env = "P2PNODE_ANNOUNCE_SUBNET",
        value_delimiter = ',',
        value_name = "CIDR",
        value_parser = crate::address::parse_subnet
    )]
    pub announce_subnet: Vec<ipnet::IpNet>,
    /// Where the identity key, records and control socket live.
    /// Default: the per-user data directory (e.g. ~/.local/share/p2pnode).
    #[arg(long, env = "P2PNODE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Keep records in memory only and use a throwaway identity.
    #[arg(long, env = "P2PNODE_EPHEMERAL")]
    pub ephemeral: bool,
    /// Machine-readable stdout: one JSON object per line.
    #[arg(long, env = "P2PNODE_JSON")]
    pub json: bool,
    /// Serve without reading commands from stdin; use `p2pnode ctl` to talk
    /// to the node. Without it: a prompt when stdin is a terminal, a script
    /// when it is a pipe or a file, no reading when it is /dev/null (docker
    /// run -d, compose, services). `--no-repl=false` (P2PNODE_NO_REPL=false)
    /// reads stdin whatever it is.
    #[arg(
        long,
        env = "P2PNODE_NO_REPL",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = BoolishValueParser::new()
    )]
    pub no_repl: Option<bool>,
    /// Largest value accepted, in bytes, from the user and from peers.
    #[arg(long, default_value_t = 65536, env = "P2PNODE_MAX_VALUE_SIZE")]
    pub max_value_size: usize,
    /// Longest key accepted, in bytes.
    #[arg(long, default_value_t = 1024)]
    pub max_key_size: usize,
    /// Most records this node stores (its own and other peers'; theirs
    /// may fill three quarters).
    #[arg(long, default_value_t = 16384, env = "P2PNODE_MAX_RECORDS")]
    pub max_records: usize,
    /// Most keys this node keeps provider records for.
    #[arg(long, default_value_t = 16384)]
    pub max_provider_keys: usize,
    /// How long a stored record lives before it expires (e.g. 48h).
    #[arg(long, default_value = "48h", value_parser = humantime::parse_duration)]
    pub record_ttl: Duration,
    /// How often the originator republishes its records.
    #[arg(long, default_value = "22h", value_parser = humantime::parse_duration)]
    pub republish_interval: Duration,
    /// How often holders replicate the records they store.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub replication_interval: Duration,
    /// How long one DHT query may take.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub query_timeout: Duration,
    /// How often the routing table is refreshed (a Kademlia bootstrap: a
    /// lookup of this node's own ID, then one per bucket).
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub refresh_interval: Duration,
    /// Close a connection after it has been idle this long.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,
    /// Kademlia's k and alpha.
    #[command(flatten)]
    pub kademlia: kademlia::KademliaArgs,
    /// Pre-shared key file for a private network (the swarm.key format of
    /// go-libp2p/IPFS). Only TCP is used then: QUIC cannot carry pnet.
    #[arg(long, env = "P2PNODE_SWARM_KEY")]
    pub swarm_key: Option<PathBuf>,
    /// Refuse to start without a swarm key: a missing key variable must not
    /// turn a private node into an open one.
    #[arg(long, env = "P2PNODE_REQUIRE_PRIVATE")]
    pub require_private: bool,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9100).
    #[arg(long, env = "P2PNODE_METRICS")]
    pub metrics: Option<SocketAddr>,
    /// How long a node with bootstrap or saved peers may be without any
    /// peer before `health` fails.
    #[arg(long, default_value = "60s", env = "P2PNODE_HEALTH_GRACE", value_parser = humantime::parse_duration)]
    pub health_grace: Duration,
    /// How log lines on stderr look: text, or one JSON object per line.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "P2PNODE_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Kademlia protocol name the node serves and asks with (repeatable;
    /// the first is preferred). Default /ipfs/kad/1.0.0. A private DHT
    /// takes its own, e.g. /mynet/kad/1.0.0: nodes meet only where they
    /// share a name.
    #[arg(
        long = "kad-protocol",
        env = "P2PNODE_KAD_PROTOCOL",
        value_delimiter = ','
    )]
    pub kad_protocol: Vec<String>,
    /// Also join kubo's LAN DHT (/ipfs/lan/kad/1.0.0), preferred: the DHT
    /// IPFS nodes on a LAN, in containers or on one host use.
    #[arg(long, env = "P2PNODE_LAN", value_parser = BoolishValueParser::new())]
    pub lan: bool,
    /// Store budgets, write policy, connection limits.
    #[command(flatten)]
    pub protection: ProtectionArgs,
}

impl NodeArgs {
    /// Checks the arguments and turns them into a [`Config`].
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let mut bootstrap = Vec::new();
        for entry in &self.bootstrap {
            bootstrap.extend(bootstrap::parse_list(entry).map_err(ConfigError::Bootstrap)?);
        }
        let sizes = [
            ("--max-value-size", self.max_value_size),
            ("--max-key-size", self.max_key_size),
        ];
        if let Some((flag, _)) = sizes.into_iter().find(|(_, size)| *size == 0) {
            return Err(ConfigError::ZeroSize { flag });
        }
        let durations = [
            ("--record-ttl", self.record_ttl),
            ("--republish-interval", self.republish_interval),
            ("--replication-interval", self.replication_interval),
            ("--query-timeout", self.query_timeout),
            ("--refresh-interval", self.refresh_interval),
        ];
        if let Some((flag, _)) = durations.into_iter().find(|(_, d)| d.is_zero()) {
            return Err(ConfigError::ZeroDuration { flag });
        }
        if self.record_ttl < self.republish_interval + REPUBLISH_MARGIN {
            return Err(ConfigError::TtlNotAfterRepublish {
                ttl: self.record_ttl,
                republish: self.republish_interval,
            });
        }
        let kademlia = self.kademlia.into_kademlia()?;
        let private = self.swarm_key.is_some();
        if self.require_private && !private {
            return Err(ConfigError::PrivateRequired);
        }
        let port = self.port.unwrap_or(DEFAULT_PORT);
        let listen = match (self.listen.is_empty(), private) {
            (true, false) => listen_on_port(port),
            // pnet wraps TCP streams; QUIC has its own handshake and cannot carry it.
            (true, true) => listen_on_port(port)
                .into_iter()
                .filter(|a| !is_quic(a))
                .collect(),
            (false, _) => self.listen,
        };
        if private {
            let quic = |flag, addr: String| ConfigError::QuicInPrivateNetwork { flag, addr };
            if let Some(a) = listen.iter().find(|a| is_quic(a)) {
                return Err(quic("--listen", a.to_string()));
            }
            if let Some(t) = bootstrap.iter().find(|t| is_quic(&t.addr)) {
                return Err(quic("--bootstrap", t.to_string()));
            }
        }
        for a in &self.announce {
            if let Some(why) = crate::address::undialable(a) {
                return Err(ConfigError::Undialable {
                    flag: "--announce",
                    addr: a.to_string(),
                    why,
                });
            }
        }
        if self.announce.len() > MAX_ANNOUNCE {
            return Err(ConfigError::TooManyAnnounced {
                given: self.announce.len(),
            });
        }
        for t in &bootstrap {
            if let Some(why) = crate::address::undialable(&t.addr) {
                return Err(ConfigError::Undialable {
                    flag: "--bootstrap",
                    addr: t.to_string(),
                    why,
                });
            }
        }
        let kad_protocols = KadProtocols::new(&self.kad_protocol, self.lan)?;
        let mut limits = Limits {
            max_value_bytes: self.max_value_size,
            max_key_bytes: self.max_key_size,
            max_records: self.max_records,
            max_provider_keys: self.max_provider_keys,
            ..Limits::default()
        };
        let (policy, connections) = self.protection.apply(&mut limits)?;
        Ok(Config {
            listen,
            bootstrap,
            announce: self.announce,
            reach: crate::address::Reach::new(self.announce_subnet),
            data_dir: self.data_dir.unwrap_or_else(default_data_dir),
            ephemeral: self.ephemeral,
            limits,
            policy,
            connections,
            timings: Timings {
                record_ttl: self.record_ttl,
                republish_interval: self.republish_interval,
                replication_interval: self.replication_interval,
                query_timeout: self.query_timeout,
                refresh_interval: self.refresh_interval,
                idle_timeout: self.idle_timeout,
            },
            kademlia,
            swarm_key: self.swarm_key,
            metrics: self.metrics,
            control_socket: true,
            format: if self.json {
                Format::Json
            } else {
                Format::Human
            },
            repl: match self.no_repl {
                None => ReplMode::Auto,
                Some(true) => ReplMode::Off,
                Some(false) => ReplMode::On,
            },
            health_grace: self.health_grace,
            require_private: self.require_private,
            log_format: self.log_format,
            kad_protocols,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
