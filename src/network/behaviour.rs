//! The composed network behaviour: connection limits first (they decide
//! before anything else works on a connection), the Kademlia protocol
//! (requests and responses of the kad-dht spec, served and sent by
//! p2pnode's own DHT code, under every configured protocol name), identify
//! so peers learn each other's listen addresses and protocols, ping for
//! liveness.

use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{connection_limits, identify, ping};

use crate::config::Config;
use crate::dht::codec::KadCodec;

/// The identify protocol version shared by libp2p implementations.
pub const IDENTIFY_PROTOCOL: &str = "/ipfs/id/1.0.0";

/// Room on the wire besides the value itself: key, publisher, framing, and
/// FIND_NODE answers with twenty peers and their addresses.
const PACKET_OVERHEAD: usize = 16 * 1024;

/// How long one DHT request may wait for its answer (libp2p-kad's default).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The swarm's behaviour.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Bounds on connections established and in their handshake.
    pub limits: connection_limits::Behaviour,
    /// Bounds on handshakes in progress per IP address.
    pub pending_per_ip: super::pending_per_ip::Behaviour,
    /// The Kademlia wire protocol, under each name of
    /// [`Config::kad_protocols`] (default `/ipfs/kad/1.0.0`). Outbound
    /// streams propose the names in that order; multistream-select settles
    /// on the first the peer serves.
    pub kad: request_response::Behaviour<KadCodec>,
    /// Exchanges listen addresses, protocols and agent versions.
    pub identify: identify::Behaviour,
    /// Measures round-trip times and detects dead connections.
    pub ping: ping::Behaviour,
}

impl Behaviour {
    /// Builds the behaviour for `key`, as `config` says.
    pub fn new(key: &Keypair, config: &Config) -> Self {
        let kad = request_response::Behaviour::with_codec(
            KadCodec::new(max_message(&config.limits)),
            config
                .kad_protocols
                .names()
                .iter()
                .map(|p| (p.clone(), ProtocolSupport::Full)),
            request_response::Config::default().with_request_timeout(REQUEST_TIMEOUT),
        );
        let identify = identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL.to_string(), key.public())
                .with_agent_version(agent_version())
                .with_push_listen_addr_updates(true)
                // Advertise the external addresses alone: the event loop makes
                // each listen address external only when it is in reach
                // (--announce-subnet), so peers never learn the others.
                .with_hide_listen_addrs(true),
        );
        let ping = ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_secs(30)));
        let c = &config.connections;
        let limits = connection_limits::ConnectionLimits::default()
            .with_max_established(Some(c.max_established))
            .with_max_established_incoming(Some(c.max_established_incoming))
            .with_max_established_per_peer(Some(c.max_established_per_peer))
            .with_max_pending_incoming(Some(c.max_pending_incoming));
        Behaviour {
            limits: connection_limits::Behaviour::new(limits),
            pending_per_ip: super::pending_per_ip::Behaviour::new(c.max_pending_per_ip),
            kad,
            identify,
            ping,
        }
    }
}

/// The largest DHT message accepted, in bytes: the largest value and key
/// plus room for the rest of the message.
pub fn max_message(limits: &crate::store::Limits) -> usize {
    // An owned record's envelope repeats its key (see dht::owned).
    let max_key = 2 * limits.max_key_bytes + crate::dht::owned::ENVELOPE_ROOM;
    (limits.max_value_bytes + max_key + PACKET_OVERHEAD).max(PACKET_OVERHEAD)
}

/// What identify tells peers this node runs: `p2pnode/<version>`.
pub fn agent_version() -> String {
    format!("p2pnode/{}", env!("CARGO_PKG_VERSION"))
}

/// Whether identify says the peer runs p2pnode (it understands the DHT
/// extension fields, such as the reason of a refusal).
pub fn is_p2pnode(agent: &str) -> bool {
    agent.starts_with("p2pnode/")
}
