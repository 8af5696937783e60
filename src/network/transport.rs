//! Building the swarm: TCP (noise + yamux) and QUIC with DNS resolution;
//! TCP alone behind a pre-shared key for private networks (QUIC has its own
//! TLS handshake and cannot carry libp2p's pnet layer); or the in-memory
//! transport for large in-process simulations.

use std::path::Path;
use std::str::FromStr;

use libp2p::core::transport::upgrade::Version;
use libp2p::identity::Keypair;
use libp2p::pnet::{PnetConfig, PreSharedKey};
use libp2p::{Swarm, SwarmBuilder, Transport, noise, tcp, yamux};

use futures::TryFutureExt;

use crate::config::Config;
use crate::error::StartError;
use crate::network::behaviour::Behaviour;
use crate::network::pnet_check::{KeyCheck, handshake_error};

/// Which transports a swarm uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// TCP + QUIC + DNS: what users run.
    Standard,
    /// Libp2p's in-process memory transport (`/memory/N`), for simulations
    /// (the scale benchmark); built only with the `sim` feature, which the
    /// test kit turns on.
    #[cfg(feature = "sim")]
    Memory,
}

fn setup<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> StartError {
    move |e| StartError::Setup(format!("{what}: {e}"))
}

/// Reads a swarm key file (`/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits).
pub fn read_swarm_key(path: &Path) -> Result<PreSharedKey, StartError> {
    let err = |reason: String| StartError::SwarmKey {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    PreSharedKey::from_str(&text).map_err(|e| err(format!("malformed ({e})")))
}

/// Swarm settings shared by every transport kind: the idle timeout, and
/// lazy multistream-select on substreams: the dialer sends its protocol
/// proposal and its first message together instead of waiting for the
/// listener's echo, so a Kademlia request costs one round trip instead of
/// two. The bytes on the wire are the same (any libp2p listener accepts
/// them); only a protocol the remote lacks fails later, at the first read.
fn swarm_config(c: libp2p::swarm::Config, idle: std::time::Duration) -> libp2p::swarm::Config {
    c.with_idle_connection_timeout(idle)
        .with_substream_upgrade_protocol_override(Version::V1Lazy)
}

/// Builds the swarm for `key`, with the behaviour over `store`.
pub fn build(key: Keypair, config: &Config, kind: Kind) -> Result<Swarm<Behaviour>, StartError> {
    let idle = config.timings.idle_timeout;
    let psk = config
        .swarm_key
        .as_deref()
        .map(read_swarm_key)
        .transpose()?;
    let behaviour = |k: &Keypair| Behaviour::new(k, config);
    let tcp_config = || tcp::Config::default().nodelay(true);
    let swarm = match (kind, psk) {
        #[cfg(feature = "sim")]
        (Kind::Memory, _) => SwarmBuilder::with_existing_identity(key)
            .with_tokio()
            .with_other_transport(|k| -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
                Ok(libp2p::core::transport::MemoryTransport::default()
                    .upgrade(Version::V1Lazy)
                    .authenticate(noise::Config::new(k)?)
                    .multiplex(yamux::Config::default()))
            })
            .map_err(setup("memory transport"))?
            .with_behaviour(behaviour)
            .map_err(setup("behaviour"))?
            .with_swarm_config(|c| swarm_config(c, idle))
            .build(),
        (Kind::Standard, Some(psk)) => {
            tracing::info!(fingerprint = %psk.fingerprint(), "private network: TCP only, pre-shared key");
            SwarmBuilder::with_existing_identity(key)
                .with_tokio()
                .with_other_transport(|k| -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
                    Ok(tcp::tokio::Transport::new(tcp_config())
                        .and_then(move |socket, _| {
                            // Failures after the nonce exchange say whether
                            // the keys differ (see `pnet_check`).
                            PnetConfig::new(psk)
                                .handshake(socket)
                                .map_ok(KeyCheck::new)
                                .map_err(handshake_error)
                        })
                        .upgrade(Version::V1Lazy)
                        .authenticate(noise::Config::new(k)?)
                        .multiplex(yamux::Config::default()))
                })
                .map_err(setup("private transport"))?
                .with_dns()
                .map_err(setup("dns"))?
                .with_behaviour(behaviour)
                .map_err(setup("behaviour"))?
                .with_swarm_config(|c| swarm_config(c, idle))
                .build()
        }
        (Kind::Standard, None) => SwarmBuilder::with_existing_identity(key)
            .with_tokio()
            .with_tcp(tcp_config(), noise::Config::new, yamux::Config::default)
            .map_err(setup("tcp"))?
            .with_quic()
            .with_dns()
            .map_err(setup("dns"))?
            .with_behaviour(behaviour)
            .map_err(setup("behaviour"))?
            .with_swarm_config(|c| swarm_config(c, idle))
            .build(),
    };
    Ok(swarm)
}
