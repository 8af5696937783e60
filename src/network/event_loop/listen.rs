//! Listening: binding the listeners (refusing a TCP port another node
//! holds), waiting until each has reported its addresses, and keeping the
//! external addresses (what peers are told to dial) in step with them.

use std::time::Duration;

use futures::{FutureExt, StreamExt};
use libp2p::Multiaddr;
use libp2p::swarm::SwarmEvent;

use super::EventLoop;
use crate::address::is_loopback;
use crate::error::StartError;
use crate::network::behaviour::BehaviourEvent;
use crate::network::cause::error_chain;

/// Listens on `addrs`, announces `announce`, and returns once every
/// listener has reported its addresses.
pub(super) async fn listen(
    lp: &mut EventLoop,
    addrs: &[Multiaddr],
    announce: &[Multiaddr],
    timeout: Duration,
) -> Result<(), StartError> {
    for addr in addrs {
        port_free(addr)?;
        let id = lp.swarm.listen_on(addr.clone()).map_err(|e| {
            let mut reason = error_chain(&e).trim_start_matches([':', ' ']).to_string();
            if reason.contains("in use") {
                reason.push_str(" (another node on this port? pick one with --port or --listen)");
            }
            StartError::Listen {
                addr: addr.to_string(),
                reason,
            }
        })?;
        lp.pending_listen.insert(id);
    }
    for addr in announce {
        lp.swarm.add_external_address(addr.clone());
    }
    let deadline = tokio::time::Instant::now() + timeout;
    while !lp.pending_listen.is_empty() {
        let event = tokio::time::timeout_at(deadline, lp.swarm.select_next_some())
            .await
            .map_err(|_| StartError::Setup("listeners did not start in time".into()))?;
        lp.listen_event(event)?;
    }
    // A 0.0.0.0 listener reports one address per interface, together:
    // take every one already reported.
    while let Some(event) = lp.swarm.next().now_or_never().flatten() {
        lp.listen_event(event)?;
    }
    if lp.swarm.external_addresses().next().is_none() && !lp.reach.subnets().is_empty() {
        let subnets: Vec<String> = lp.reach.subnets().iter().map(ToString::to_string).collect();
        tracing::warn!(
            subnets = %subnets.join(","),
            "no listen address lies in --announce-subnet: peers learn no address of this node"
        );
    }
    Ok(())
}

/// Refuses a TCP port another process listens on. libp2p's TCP transport
/// binds its listeners with SO_REUSEPORT, so a second node on the same
/// port would bind too and silently share the connections; a probe bound
/// without it fails as it should (the window between the probe and the
/// real bind is the only one left).
fn port_free(addr: &Multiaddr) -> Result<(), StartError> {
    use libp2p::multiaddr::Protocol;
    let mut ip = None;
    let mut port = None;
    for p in addr.iter() {
        match p {
            Protocol::Ip4(a) => ip = Some(std::net::IpAddr::V4(a)),
            Protocol::Ip6(a) => ip = Some(std::net::IpAddr::V6(a)),
            Protocol::Tcp(n) if n != 0 => port = Some(n),
            _ => {}
        }
    }
    let (Some(ip), Some(port)) = (ip, port) else {
        return Ok(());
    };
    match std::net::TcpListener::bind((ip, port)) {
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(StartError::Listen {
            addr: addr.to_string(),
            reason: "address in use (another node on this port? pick one with --port or --listen)"
                .into(),
        }),
        _ => Ok(()),
    }
}

impl EventLoop {
    fn listen_event(&mut self, event: SwarmEvent<BehaviourEvent>) -> Result<(), StartError> {
        match event {
            SwarmEvent::ListenerClosed {
                listener_id,
                reason: Err(e),
                addresses,
            } if self.pending_listen.contains(&listener_id) => Err(StartError::Listen {
                addr: addresses
                    .first()
                    .map_or_else(|| "?".to_string(), ToString::to_string),
                reason: e.to_string(),
            }),
            event => {
                self.handle_event(event);
                Ok(())
            }
        }
    }

    /// The external addresses (what provider records carry and `id`
    /// shows): the concrete listen addresses (never 0.0.0.0) other peers
    /// may dial, loopback only when the node listens on nothing else.
    pub(super) fn update_external(&mut self) {
        let only_loopback = self.listening.iter().all(is_loopback);
        for a in self.listening.clone() {
            // In reach (--announce-subnet): others may dial it.
            if (only_loopback || !is_loopback(&a)) && self.reach.advertises(&a) {
                self.swarm.add_external_address(a);
            } else {
                self.swarm.remove_external_address(&a);
            }
        }
    }
}

/// How long resolving the bootstrap names may take at start.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(2);

/// Resolves bootstrap targets given by host name (the system resolver, as
/// the user's shell would), to recognise this node's own name in a shared
/// bootstrap list. A name that does not resolve now is simply kept: it is
/// retried when dialled.
pub(super) async fn resolve(
    targets: &[crate::bootstrap::Target],
) -> Vec<(crate::bootstrap::Target, Vec<Multiaddr>)> {
    use libp2p::multiaddr::Protocol;
    let mut out = Vec::new();
    for t in targets {
        let mut host = None;
        let mut port = None;
        for p in t.addr.iter() {
            match p {
                Protocol::Dns(h) | Protocol::Dns4(h) | Protocol::Dns6(h) => {
                    host = Some(h.to_string())
                }
                Protocol::Tcp(n) => port = Some(n),
                _ => {}
            }
        }
        let (Some(host), Some(port)) = (host, port) else {
            continue;
        };
        let Ok(Ok(found)) = tokio::time::timeout(
            RESOLVE_TIMEOUT,
            tokio::net::lookup_host((host.as_str(), port)),
        )
        .await
        else {
            continue;
        };
        let addrs = found
            .map(|sa| Multiaddr::from(sa.ip()).with(Protocol::Tcp(sa.port())))
            .collect();
        out.push((t.clone(), addrs));
    }
    out
}
