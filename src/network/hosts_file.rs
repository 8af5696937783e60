//! Host names resolved the way the resolver does before asking any DNS
//! server: `/etc/hosts`, with the search domains of `/etc/resolv.conf`.
//!
//! Why: a bootstrap target given by name may be this node itself. On
//! Kubernetes every pod of a StatefulSet joins through pod 0
//! (`p2pnode-0.p2pnode`), pod 0 included, and the kubelet writes the pod's
//! own name into its `/etc/hosts` (`10.1.2.3
//! p2pnode-0.p2pnode.default.svc.cluster.local p2pnode-0`). Dialled, such a
//! name reaches the node itself and the handshake fails without saying so,
//! so the node would retry itself forever; matched here, the target is
//! dropped at start like an own IP address. Nothing is sent on the network.

use std::collections::HashMap;
use std::net::IpAddr;

use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;

/// Names and their addresses from a hosts file, and the search domains.
#[derive(Debug, Default, Clone)]
pub struct HostsFile {
    names: HashMap<String, Vec<IpAddr>>,
    search: Vec<String>,
}

impl HostsFile {
    /// Reads `/etc/hosts` and `/etc/resolv.conf`; a missing or unreadable
    /// file counts as empty.
    pub fn read() -> HostsFile {
        let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        let resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        HostsFile::parse(&hosts, &resolv)
    }

    /// Parses a hosts file (`ADDRESS NAME [ALIAS...]`, `#` comments) and a
    /// resolv.conf (its `search` and `domain` lines; the last one wins, as
    /// in resolv.conf(5)).
    pub fn parse(hosts: &str, resolv: &str) -> HostsFile {
        let mut names: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for line in hosts.lines() {
            let line = line.split('#').next().unwrap_or_default();
            let mut fields = line.split_whitespace();
            let Some(ip) = fields.next().and_then(|a| a.parse::<IpAddr>().ok()) else {
                continue;
            };
            for name in fields {
                names.entry(normalise(name)).or_default().push(ip);
            }
        }
        let mut search = Vec::new();
        for line in resolv.lines() {
            let mut fields = line.split_whitespace();
            if let Some("search" | "domain") = fields.next() {
                search = fields.map(normalise).collect();
            }
        }
        HostsFile { names, search }
    }

    /// `addr` with its `/dns*/NAME` replaced by each address the hosts file
    /// gives NAME, or NAME under a search domain; empty when it names no
    /// host the file knows (or no host at all).
    pub fn resolve(&self, addr: &Multiaddr) -> Vec<Multiaddr> {
        let Some(name) = addr.iter().find_map(|p| match p {
            Protocol::Dns(h) | Protocol::Dns4(h) | Protocol::Dns6(h) => Some(normalise(&h)),
            _ => None,
        }) else {
            return Vec::new();
        };
        let candidates =
            std::iter::once(name.clone()).chain(self.search.iter().map(|d| format!("{name}.{d}")));
        let ips: Vec<IpAddr> = candidates
            .filter_map(|n| self.names.get(&n))
            .flatten()
            .copied()
            .collect();
        ips.into_iter()
            .map(|ip| {
                addr.iter()
                    .map(|p| match p {
                        Protocol::Dns(_) | Protocol::Dns4(_) | Protocol::Dns6(_) => match ip {
                            IpAddr::V4(a) => Protocol::Ip4(a),
                            IpAddr::V6(a) => Protocol::Ip6(a),
                        },
                        other => other,
                    })
                    .collect()
            })
            .collect()
    }
}

/// Host names compare without case and without a trailing dot.
fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::is_own_address;

    fn a(s: &str) -> Multiaddr {
        s.parse().unwrap()
    }

    /// What the kubelet writes into pod 0 of the StatefulSet `p2pnode`.
    const POD_HOSTS: &str = "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n10.244.1.7\tp2pnode-0.p2pnode.default.svc.cluster.local\tp2pnode-0\n";
    const POD_RESOLV: &str = "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n";

    #[test]
    fn the_pods_own_service_name_resolves_to_its_ip() {
        let f = HostsFile::parse(POD_HOSTS, POD_RESOLV);
        let listening = [a("/ip4/127.0.0.1/tcp/4001"), a("/ip4/10.244.1.7/tcp/4001")];
        let own = |s: &str| {
            f.resolve(&a(s))
                .iter()
                .any(|r| is_own_address(r, &listening))
        };
        assert!(own("/dns/p2pnode-0.p2pnode/tcp/4001"));
        assert!(own("/dns/P2PNODE-0.p2pnode./tcp/4001"));
        assert!(own("/dns4/p2pnode-0/tcp/4001"));
        // Another pod, another port, an unknown name: not this node.
        assert!(!own("/dns/p2pnode-1.p2pnode/tcp/4001"));
        assert!(!own("/dns/p2pnode-0.p2pnode/tcp/4002"));
        assert!(!own("/dns/example.org/tcp/4001"));
        // localhost is this machine, but only the node on that port.
        assert!(own("/dns/localhost/tcp/4001"));
        assert!(!own("/dns/localhost/tcp/5000"));
    }

    #[test]
    fn resolving_keeps_the_rest_of_the_address() {
        let f = HostsFile::parse(POD_HOSTS, POD_RESOLV);
        assert_eq!(
            f.resolve(&a("/dns/p2pnode-0.p2pnode/udp/4001/quic-v1")),
            vec![a("/ip4/10.244.1.7/udp/4001/quic-v1")]
        );
        assert!(f.resolve(&a("/ip4/10.0.0.1/tcp/1")).is_empty());
        assert!(
            HostsFile::default()
                .resolve(&a("/dns/p2pnode-0/tcp/1"))
                .is_empty()
        );
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let f = HostsFile::parse(
            "not-an-ip name\n\n# only a comment\n10.0.0.1 # no name\n10.0.0.2 ok\n",
            "search\n",
        );
        assert_eq!(
            f.resolve(&a("/dns/ok/tcp/1")),
            vec![a("/ip4/10.0.0.2/tcp/1")]
        );
        assert!(f.resolve(&a("/dns/name/tcp/1")).is_empty());
    }
}
