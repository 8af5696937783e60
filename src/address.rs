//! Address rules, as pure functions: which addresses a peer advertised are
//! worth dialling, which of its own addresses this node advertises (the
//! [`Reach`] rule: `--announce-subnet`), and whether a bootstrap address is
//! this node itself.

use std::net::IpAddr;

use ipnet::IpNet;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

/// The address rule of `--announce-subnet`: the networks peers can reach
/// this node on. A node listening on `0.0.0.0` has one address per
/// interface, and some of them are dead ends for every other host (on
/// Docker swarm, each task's `docker_gwbridge` address: host-local, with
/// traffic between containers dropped, and the same address in use on
/// every host). With subnets given, a node advertises (identify, provider
/// records) only its listen addresses inside them, and keeps (routing
/// table, closer peers, provider records) only peers' addresses inside
/// them. Empty: every address is in reach, as before.
///
/// Addresses naming no IP (`/dns/...`, `/memory/...`) are always in reach:
/// a name cannot be judged without resolving it, and a user who wrote one
/// chose it. `--announce` addresses are advertised whatever the rule says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    subnets: Vec<IpNet>,
}

impl Reach {
    /// The rule for `subnets` (CIDR networks, e.g. `10.231.8.0/24`); no
    /// subnets: every address is in reach.
    pub fn new(subnets: Vec<IpNet>) -> Reach {
        Reach { subnets }
    }

    /// The subnets, as given.
    pub fn subnets(&self) -> &[IpNet] {
        &self.subnets
    }

    /// Whether `addr` is in reach: no subnets are given, it names no IP, or
    /// its IP lies inside one of the subnets.
    pub fn in_reach(&self, addr: &Multiaddr) -> bool {
        if self.subnets.is_empty() {
            return true;
        }
        match ip(addr) {
            Some(ip) => self.subnets.iter().any(|n| n.contains(&ip)),
            None => true,
        }
    }

    /// Whether this node advertises `addr`, one of its own listen addresses.
    pub fn advertises(&self, addr: &Multiaddr) -> bool {
        self.in_reach(addr)
    }

    /// Whether to keep `addr`, an address a peer advertised: [`usable`]
    /// (with `loopback_ok` as there) and in reach.
    pub fn keeps(&self, addr: &Multiaddr, loopback_ok: bool) -> bool {
        usable(addr, loopback_ok) && self.in_reach(addr)
    }
}

/// Parses a `--announce-subnet` value: a network in CIDR form
/// (`10.231.8.0/24`, `fd00::/8`); the error is one line saying so.
pub fn parse_subnet(text: &str) -> Result<IpNet, String> {
    text.trim().parse::<IpNet>().map_err(|_| {
        format!("not a network in CIDR form (address/prefix length, e.g. 10.231.8.0/24): {text}")
    })
}

/// The IP address of a multiaddr, when it names one.
fn ip(addr: &Multiaddr) -> Option<IpAddr> {
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(a) => Some(IpAddr::V4(a)),
        Protocol::Ip6(a) => Some(IpAddr::V6(a)),
        _ => None,
    })
}

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
    fn reach_keeps_only_addresses_inside_the_subnets() {
        let overlay = Reach::new(vec!["10.231.8.0/24".parse().unwrap()]);
        // The overlay address is advertised and kept; the gwbridge one is not.
        assert!(overlay.advertises(&a("/ip4/10.231.8.7/tcp/4001")));
        assert!(overlay.advertises(&a("/ip4/10.231.8.7/udp/4001/quic-v1")));
        assert!(!overlay.advertises(&a("/ip4/172.18.0.3/tcp/4001")));
        assert!(overlay.keeps(&a("/ip4/10.231.8.9/tcp/4001"), false));
        assert!(!overlay.keeps(&a("/ip4/172.18.0.3/tcp/4001"), false));
        // Loopback is outside the overlay: dropped even between loopback peers.
        assert!(!overlay.keeps(&a("/ip4/127.0.0.1/tcp/4001"), true));
        // The subnet's edges: network and broadcast addresses are inside it.
        assert!(overlay.in_reach(&a("/ip4/10.231.8.0/tcp/1")));
        assert!(overlay.in_reach(&a("/ip4/10.231.8.255/tcp/1")));
        assert!(!overlay.in_reach(&a("/ip4/10.231.9.0/tcp/1")));
        // Unusable addresses stay unusable inside the subnet.
        assert!(!overlay.keeps(&a("/ip4/10.231.8.9/tcp/0"), false));
        // Names and memory addresses are not judged.
        assert!(overlay.keeps(&a("/dns/tasks.seed/tcp/4001"), false));
        assert!(overlay.advertises(&a("/memory/42")));
    }

    #[test]
    fn reach_with_several_subnets_and_ipv6() {
        let both = Reach::new(vec![
            "10.0.0.0/8".parse().unwrap(),
            "fd00::/8".parse().unwrap(),
        ]);
        assert!(both.advertises(&a("/ip4/10.1.2.3/tcp/1")));
        assert!(both.advertises(&a("/ip6/fd12::1/tcp/1")));
        assert!(!both.advertises(&a("/ip6/fe80::1/tcp/1")));
        assert!(!both.advertises(&a("/ip4/192.168.1.1/tcp/1")));
        // A subnet written with host bits set still means its network.
        let host_bits = Reach::new(vec!["10.231.8.7/24".parse().unwrap()]);
        assert!(host_bits.advertises(&a("/ip4/10.231.8.200/tcp/1")));
    }

    #[test]
    fn subnets_parse_in_cidr_form_only() {
        assert_eq!(
            parse_subnet(" 10.231.8.0/24").unwrap().to_string(),
            "10.231.8.0/24"
        );
        assert!(parse_subnet("fd00::/8").is_ok());
        for bad in ["10.0.0.1", "10.0.0.0/33", "bogus", ""] {
            let e = parse_subnet(bad).unwrap_err();
            assert!(e.contains("CIDR") && !e.contains('\n'), "{bad}: {e}");
        }
    }

    #[test]
    fn no_subnets_means_every_address_is_in_reach() {
        let any = Reach::default();
        assert!(any.advertises(&a("/ip4/172.18.0.3/tcp/4001")));
        assert!(any.keeps(&a("/ip4/172.18.0.3/tcp/4001"), false));
        assert!(!any.keeps(&a("/ip4/127.0.0.1/tcp/4001"), false));
        assert!(any.keeps(&a("/ip4/127.0.0.1/tcp/4001"), true));
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
