//! The composed network behaviour: Kademlia for the DHT, identify so peers
//! learn each other's listen addresses and protocols, ping for liveness.

use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{StreamProtocol, identify, kad, ping};

use crate::config::Config;
use crate::store::Store;

/// The identify protocol version shared by libp2p implementations.
pub const IDENTIFY_PROTOCOL: &str = "/ipfs/id/1.0.0";

/// Room on the wire besides the value itself: key, publisher, framing, and
/// FIND_NODE answers with twenty peers and their addresses.
const PACKET_OVERHEAD: usize = 16 * 1024;

/// The swarm's behaviour.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// The Kademlia DHT (`/ipfs/kad/1.0.0`).
    pub kademlia: kad::Behaviour<Store>,
    /// Exchanges listen addresses, protocols and agent versions.
    pub identify: identify::Behaviour,
    /// Measures round-trip times and detects dead connections.
    pub ping: ping::Behaviour,
}

impl Behaviour {
    /// Builds the behaviour for `key` over `store`, as `config` says.
    pub fn new(key: &Keypair, store: Store, config: &Config) -> Self {
        let peer = key.public().to_peer_id();
        let t = &config.timings;
        let mut kad_config = kad::Config::new(kad::PROTOCOL_NAME);
        kad_config
            .set_query_timeout(t.query_timeout)
            .set_record_ttl(Some(t.record_ttl))
            .set_provider_record_ttl(Some(t.record_ttl))
            .set_publication_interval(Some(t.republish_interval))
            .set_provider_publication_interval(Some(t.republish_interval))
            .set_replication_interval(Some(t.replication_interval))
            .set_periodic_bootstrap_interval(Some(t.refresh_interval))
            // Inbound records are checked (e.g. `/pk/` keys) by the event loop
            // before they reach the store.
            .set_record_filtering(kad::StoreInserts::FilterBoth)
            .set_max_packet_size(
                (config.limits.max_value_bytes + config.limits.max_key_bytes + PACKET_OVERHEAD)
                    .max(PACKET_OVERHEAD),
            );
        let mut kademlia = kad::Behaviour::with_config(peer, store, kad_config);
        // Loopback and container addresses are never "confirmed external", so
        // automatic mode would leave us a client that answers nobody.
        kademlia.set_mode(Some(kad::Mode::Server));

        let identify = identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL.to_string(), key.public())
                .with_agent_version(format!("p2pnode/{}", env!("CARGO_PKG_VERSION")))
                .with_push_listen_addr_updates(true),
        );
        let ping = ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_secs(30)));
        Behaviour {
            kademlia,
            identify,
            ping,
        }
    }
}

/// Whether a peer speaks our Kademlia protocol, judging by identify.
pub fn speaks_kad(protocols: &[StreamProtocol]) -> bool {
    protocols.contains(&kad::PROTOCOL_NAME)
}
