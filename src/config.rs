//! The command line (clap derive, with environment fallbacks) and its
//! validation into a [`Config`], in one place, so the rest of the code only
//! ever sees checked values.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use libp2p::Multiaddr;

use crate::bootstrap::{self, DEFAULT_PORT, Target};

const EXAMPLES: &str = "\
Examples:
  p2pnode                                    create a new network (listen on TCP+QUIC port 4001)
  P2P_REMOTE_HOST=node1 p2pnode              join the network node1 is part of (node1:4001)
  p2pnode --listen /ip4/127.0.0.1/tcp/0 --bootstrap /ip4/127.0.0.1/tcp/4001
  echo 'put greeting hello' | p2pnode --json --bootstrap 127.0.0.1:4001
  p2pnode --no-repl &   then   p2pnode ctl put \"my key\" \"hello world\"";

/// The `p2pnode` command line.
#[derive(Debug, Parser)]
#[command(name = "p2pnode", version, about, after_help = crate::command::cli_after_help(EXAMPLES))]
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
    /// Serve the network without reading commands from stdin (for services
    /// and containers); use `p2pnode ctl` to talk to the node.
    #[arg(long, env = "P2PNODE_NO_REPL")]
    pub no_repl: bool,
    /// Largest value accepted, in bytes, from the user and from peers.
    #[arg(long, default_value_t = 65536, env = "P2PNODE_MAX_VALUE_SIZE")]
    pub max_value_size: usize,
    /// Longest key accepted, in bytes.
    #[arg(long, default_value_t = 1024)]
    pub max_key_size: usize,
    /// Most records this node stores (its own and other peers').
    #[arg(long, default_value_t = 16384)]
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
    /// Pre-shared key file for a private network (the swarm.key format of
    /// go-libp2p/IPFS). Only TCP is used then: QUIC cannot carry pnet.
    #[arg(long, env = "P2PNODE_SWARM_KEY")]
    pub swarm_key: Option<PathBuf>,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9100).
    #[arg(long, env = "P2PNODE_METRICS")]
    pub metrics: Option<SocketAddr>,
}

/// Hard limits on what the node stores, from the user and from peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest value, in bytes.
    pub max_value_bytes: usize,
    /// Longest key, in bytes.
    pub max_key_bytes: usize,
    /// Most records stored.
    pub max_records: usize,
    /// Most provider keys.
    pub max_provider_keys: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_value_bytes: 65536,
            max_key_bytes: 1024,
            max_records: 16384,
            max_provider_keys: 16384,
        }
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

/// A validated node configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Addresses to listen on.
    pub listen: Vec<Multiaddr>,
    /// Peers to join through; empty = create a new network.
    pub bootstrap: Vec<Target>,
    /// Extra external addresses to advertise.
    pub announce: Vec<Multiaddr>,
    /// The data directory.
    pub data_dir: PathBuf,
    /// In-memory records and a throwaway identity.
    pub ephemeral: bool,
    /// Storage limits.
    pub limits: Limits,
    /// Kademlia timings.
    pub timings: Timings,
    /// Pre-shared key file for a private network.
    pub swarm_key: Option<PathBuf>,
    /// Prometheus metrics address.
    pub metrics: Option<SocketAddr>,
    /// Serve the control socket for `p2pnode ctl`.
    pub control_socket: bool,
}

impl Config {
    /// A node on 127.0.0.1 with an ephemeral TCP port, for tests and
    /// benchmarks: in-memory records, throwaway identity, no control socket.
    pub fn local(data_dir: PathBuf) -> Self {
        Config {
            listen: vec![
                "/ip4/127.0.0.1/tcp/0"
                    .parse()
                    .expect("a valid literal multiaddr"),
            ],
            bootstrap: Vec::new(),
            announce: Vec::new(),
            data_dir,
            ephemeral: true,
            limits: Limits::default(),
            timings: Timings::default(),
            swarm_key: None,
            metrics: None,
            control_socket: false,
        }
    }
}

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
fn is_quic(addr: &Multiaddr) -> bool {
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

impl NodeArgs {
    /// Checks the arguments and turns them into a [`Config`].
    pub fn into_config(self) -> Result<Config, String> {
        let mut bootstrap = Vec::new();
        for entry in &self.bootstrap {
            bootstrap.extend(bootstrap::parse_list(entry)?);
        }
        if self.max_value_size == 0 {
            return Err("--max-value-size must be at least 1".into());
        }
        if self.max_key_size == 0 {
            return Err("--max-key-size must be at least 1".into());
        }
        if self.record_ttl.is_zero()
            || self.republish_interval.is_zero()
            || self.replication_interval.is_zero()
            || self.query_timeout.is_zero()
            || self.refresh_interval.is_zero()
        {
            return Err("durations must be longer than zero".into());
        }
        // Kademlia runs its publication inside the replication job, so a
        // shorter republish interval would silently mean the replication one.
        if self.republish_interval < self.replication_interval {
            return Err(format!(
                "--republish-interval ({}) must not be shorter than --replication-interval ({}): records are republished when replication runs",
                humantime::format_duration(self.republish_interval),
                humantime::format_duration(self.replication_interval)
            ));
        }
        if self.record_ttl <= self.republish_interval {
            return Err(format!(
                "--record-ttl ({}) must be longer than --republish-interval ({}), or records expire before they are republished",
                humantime::format_duration(self.record_ttl),
                humantime::format_duration(self.republish_interval)
            ));
        }
        let private = self.swarm_key.is_some();
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
            const WHY: &str = "QUIC cannot carry a private network's pre-shared key; with --swarm-key only TCP is used";
            if let Some(a) = listen.iter().find(|a| is_quic(a)) {
                return Err(format!("--listen {a}: {WHY}"));
            }
            if let Some(t) = bootstrap.iter().find(|t| is_quic(&t.addr)) {
                return Err(format!("--bootstrap {t}: {WHY}"));
            }
        }
        for a in &self.announce {
            if a.iter()
                .any(|p| matches!(p, libp2p::multiaddr::Protocol::P2p(_)))
            {
                return Err(format!("--announce {a}: give the address without /p2p/"));
            }
        }
        Ok(Config {
            listen,
            bootstrap,
            announce: self.announce,
            data_dir: self.data_dir.unwrap_or_else(default_data_dir),
            ephemeral: self.ephemeral,
            limits: Limits {
                max_value_bytes: self.max_value_size,
                max_key_bytes: self.max_key_size,
                max_records: self.max_records,
                max_provider_keys: self.max_provider_keys,
            },
            timings: Timings {
                record_ttl: self.record_ttl,
                republish_interval: self.republish_interval,
                replication_interval: self.replication_interval,
                query_timeout: self.query_timeout,
                refresh_interval: self.refresh_interval,
                idle_timeout: self.idle_timeout,
            },
            swarm_key: self.swarm_key,
            metrics: self.metrics,
            control_socket: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        let cli = Cli::try_parse_from(std::iter::once("p2pnode").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        cli.node.into_config()
    }

    #[test]
    fn defaults_listen_on_tcp_and_quic() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.listen.len(), 2);
        let p = parse(&["--port", "4002"]).unwrap();
        assert!(p.listen[0].to_string().ends_with("/tcp/4002"));
        assert!(parse(&["--port", "1", "--listen", "/ip4/127.0.0.1/tcp/0"]).is_err());
        assert_eq!(c.limits.max_value_bytes, 65536);
    }

    #[test]
    fn bootstrap_flag_accepts_lists_and_names_bad_entries() {
        let c = parse(&["--bootstrap", "node1,node2:9", "--bootstrap", "127.0.0.1:1"]).unwrap();
        assert_eq!(c.bootstrap.len(), 3);
        let e = parse(&["--bootstrap", "/ip4/nope"]).unwrap_err();
        assert!(e.contains("/ip4/nope"), "{e}");
    }

    #[test]
    fn lifecycle_intervals_must_nest() {
        let e = parse(&["--republish-interval", "10s"]).unwrap_err();
        assert!(e.contains("--replication-interval"), "{e}");
        let e = parse(&[
            "--record-ttl",
            "2s",
            "--republish-interval",
            "2s",
            "--replication-interval",
            "1s",
        ])
        .unwrap_err();
        assert!(e.contains("--record-ttl"), "{e}");
        parse(&[
            "--record-ttl",
            "3s",
            "--republish-interval",
            "2s",
            "--replication-interval",
            "1s",
        ])
        .unwrap();
    }

    #[test]
    fn a_swarm_key_means_tcp_only() {
        let c = parse(&["--swarm-key", "k"]).unwrap();
        assert_eq!(c.listen.len(), 1);
        assert!(!is_quic(&c.listen[0]));
        let e = parse(&[
            "--swarm-key",
            "k",
            "--listen",
            "/ip4/127.0.0.1/udp/0/quic-v1",
        ])
        .unwrap_err();
        assert!(e.contains("QUIC") && e.contains("--swarm-key"), "{e}");
        let e = parse(&[
            "--swarm-key",
            "k",
            "--bootstrap",
            "/ip4/127.0.0.1/udp/1/quic-v1",
        ])
        .unwrap_err();
        assert!(e.contains("QUIC"), "{e}");
    }

    #[test]
    fn bad_listen_multiaddr_is_rejected() {
        assert!(parse(&["--listen", "not-an-addr"]).is_err());
    }
}
