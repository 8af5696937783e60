//! Address rules, as pure functions: which addresses a peer advertised are
//! worth dialling, and whether a bootstrap address is this node itself.

use std::net::IpAddr;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

/// Whether an address a peer advertised is worth dialling: not unspecified
/// (`0.0.0.0`), not port 0, not a relay circuit, and loopback only between
/// peers that reach each other over loopback.
pub fn usable(addr: &Multiaddr, loopback_ok: bool) -> bool {
    addr.iter().all(|p| match p {
        Protocol::Ip4(ip) => !ip.is_unspecified() && (loopback_ok || !ip.is_loopback()),
        Protocol::Ip6(ip) => !ip.is_unspecified() && (loopback_ok || !ip.is_loopback()),
        Protocol::Tcp(0) | Protocol::Udp(0) => false,
        Protocol::P2pCircuit => false,
        _ => true,
    })
}

/// The address without a trailing `/p2p/<peer id>`.
pub fn strip_p2p(mut addr: Multiaddr) -> Multiaddr {
    if matches!(addr.iter().last(), Some(Protocol::P2p(_))) {
        addr.pop();
    }
    addr
}

/// The address with `/p2p/<peer>` (unless it has one already).
pub fn with_p2p(addr: &Multiaddr, peer: PeerId) -> Multiaddr {
    addr.clone().with_p2p(peer).unwrap_or_else(|a| a)
}

/// Whether the address goes over loopback (or `localhost`).
pub fn is_loopback(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| match p {
        Protocol::Ip4(ip) => ip.is_loopback(),
        Protocol::Ip6(ip) => ip.is_loopback(),
        Protocol::Dns(h) | Protocol::Dns4(h) | Protocol::Dns6(h) => h == "localhost",
        _ => false,
    })
}

/// The IP and TCP/UDP port of an address, when it has both.
fn ip_port(addr: &Multiaddr) -> Option<(IpAddr, u16, bool)> {
    let mut ip = None;
    let mut port = None;
    for p in addr.iter() {
        match p {
            Protocol::Ip4(a) => ip = Some(IpAddr::V4(a)),
            Protocol::Ip6(a) => ip = Some(IpAddr::V6(a)),
            Protocol::Tcp(n) => port = Some((n, true)),
            Protocol::Udp(n) => port = Some((n, false)),
            _ => {}
        }
    }
    let (port, tcp) = port?;
    Some((ip?, port, tcp))
}

/// Whether dialling `target` would reach this node: its IP and port are
/// one of this node's listen addresses (the concrete ones, one per
/// interface, which a `0.0.0.0` listener reports).
pub fn is_own_address(target: &Multiaddr, listening: &[Multiaddr]) -> bool {
    let Some(t) = ip_port(target) else {
        return false;
    };
    listening.iter().filter_map(ip_port).any(|l| l == t)
}

/// Why an address given by the user can never be dialled, if it cannot.
pub fn undialable(addr: &Multiaddr) -> Option<&'static str> {
    for p in addr.iter() {
        match p {
            Protocol::Ip4(ip) if ip.is_unspecified() => {
                return Some("0.0.0.0 is not an address peers can dial");
            }
            Protocol::Ip6(ip) if ip.is_unspecified() => {
                return Some(":: is not an address peers can dial");
            }
            Protocol::Tcp(0) | Protocol::Udp(0) => return Some("port 0 cannot be dialled"),
            Protocol::P2p(_) => return Some("give the address without /p2p/"),
            _ => {}
        }
    }
    if ip_port(addr).is_none()
        && !addr
            .iter()
            .any(|p| matches!(p, Protocol::Dns(_) | Protocol::Dns4(_) | Protocol::Dns6(_)))
    {
        return Some("it names no host and port");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Multiaddr {
        s.parse().unwrap()
    }

    #[test]
    fn unusable_addresses() {
        assert!(usable(&a("/ip4/10.0.0.1/tcp/4001"), false));
        assert!(!usable(&a("/ip4/0.0.0.0/tcp/4001"), true));
        assert!(!usable(&a("/ip4/10.0.0.1/tcp/0"), true));
        assert!(!usable(&a("/ip4/127.0.0.1/tcp/4001"), false));
        assert!(usable(&a("/ip4/127.0.0.1/tcp/4001"), true));
        assert!(!usable(&a("/ip6/::/tcp/1"), true));
        assert!(usable(&a("/dns/node1/tcp/4001"), false));
    }

    #[test]
    fn own_addresses_are_recognised() {
        let listening = [
            a("/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"),
            a("/ip4/172.17.0.2/tcp/4001"),
        ];
        assert!(is_own_address(&a("/ip4/127.0.0.1/tcp/4001"), &listening));
        assert!(is_own_address(&a("/ip4/172.17.0.2/tcp/4001"), &listening));
        assert!(!is_own_address(&a("/ip4/127.0.0.1/tcp/4002"), &listening));
        assert!(!is_own_address(
            &a("/ip4/127.0.0.1/udp/4001/quic-v1"),
            &listening
        ));
        assert!(!is_own_address(&a("/dns/node1/tcp/4001"), &listening));
    }

    #[test]
    fn undialable_announcements_are_named() {
        assert!(undialable(&a("/ip4/0.0.0.0/tcp/4001")).is_some());
        assert!(undialable(&a("/ip4/127.0.0.1/tcp/0")).is_some());
        assert!(undialable(&a("/ip4/1.2.3.4")).is_some());
        assert!(undialable(&a("/ip4/1.2.3.4/tcp/1")).is_none());
        assert!(undialable(&a("/dns/example.org/tcp/1")).is_none());
    }
}
