//! A bound on the incoming connections from one IP address that are still
//! in their handshake, so one host opening plain TCP connections (which
//! never start a handshake) cannot take every pending slot of
//! `libp2p::connection_limits` and keep other peers out. rust-libp2p's
//! `connection_limits` counts per peer ID, which a connection has only
//! after its handshake; nothing in rust-libp2p counts per address.
//!
//! A connection counts from its arrival until its handshake ends (it is
//! established, fails or times out). Addresses without an IP (the memory
//! transport) are not counted.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::IpAddr;
use std::task::{Context, Poll};

use libp2p::core::Endpoint;
use libp2p::core::transport::PortUse;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, FromSwarm, ListenFailure, NetworkBehaviour, THandler,
    THandlerInEvent, THandlerOutEvent, ToSwarm, dummy,
};
use libp2p::{Multiaddr, PeerId};

/// Why a connection was denied (shown in the swarm's connection errors).
#[derive(Debug, thiserror::Error)]
#[error("{ip} has {limit} incoming connections in their handshake already")]
pub struct TooManyPending {
    /// The remote address.
    pub ip: IpAddr,
    /// The bound.
    pub limit: u32,
}

/// The behaviour; see the module docs.
pub struct Behaviour {
    limit: u32,
    pending: HashMap<ConnectionId, IpAddr>,
    per_ip: HashMap<IpAddr, u32>,
}

impl Behaviour {
    /// At most `limit` pending incoming connections per IP address.
    pub fn new(limit: u32) -> Self {
        Behaviour {
            limit,
            pending: HashMap::new(),
            per_ip: HashMap::new(),
        }
    }

    fn done(&mut self, id: &ConnectionId) {
        let Some(ip) = self.pending.remove(id) else {
            return;
        };
        if let Some(n) = self.per_ip.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                self.per_ip.remove(&ip);
            }
        }
    }
}

/// The IP address a multiaddr starts with.
fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    match addr.iter().next()? {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        _local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        let Some(ip) = ip_of(remote_addr) else {
            return Ok(());
        };
        let n = self.per_ip.entry(ip).or_default();
        if *n >= self.limit {
            return Err(ConnectionDenied::new(TooManyPending {
                ip,
                limit: self.limit,
            }));
        }
        *n += 1;
        self.pending.insert(connection_id, ip);
        Ok(())
    }

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        _peer: PeerId,
        _local_addr: &Multiaddr,
        _remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.done(&connection_id);
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        _addr: &Multiaddr,
        _role_override: Endpoint,
        _port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        if let FromSwarm::ListenFailure(ListenFailure { connection_id, .. }) = event {
            self.done(&connection_id);
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _peer: PeerId,
        _connection: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Infallible, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_gets_its_share_and_frees_it_when_handshakes_end() {
        let mut b = Behaviour::new(2);
        let local: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
        let flood: Multiaddr = "/ip4/127.0.0.2/tcp/9".parse().unwrap();
        let other: Multiaddr = "/ip4/127.0.0.1/tcp/7".parse().unwrap();
        let pending = |b: &mut Behaviour, i, from| {
            let id = ConnectionId::new_unchecked(i);
            b.handle_pending_inbound_connection(id, &local, from)
                .is_ok()
        };
        let taken: Vec<bool> = [&flood, &flood, &flood, &other]
            .iter()
            .enumerate()
            .map(|(i, from)| pending(&mut b, i, from))
            .collect();
        assert_eq!(taken, [true, true, false, true]);
        let peer = PeerId::random();
        let first = ConnectionId::new_unchecked(0);
        assert!(
            b.handle_established_inbound_connection(first, peer, &local, &flood)
                .is_ok()
        );
        assert!(
            pending(&mut b, 2, &flood),
            "a slot freed by the handshake's end"
        );
        let memory: Multiaddr = "/memory/5".parse().unwrap();
        assert!((10..20).all(|i| pending(&mut b, i, &memory)), "not counted");
    }
}
