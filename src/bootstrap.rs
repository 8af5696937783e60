//! Bootstrap addresses: the text of `--bootstrap` and `P2P_REMOTE_HOST`
//! turned into dial targets.
//!
//! Users of containers know their neighbour by name (`node1`), not by
//! multiaddr and peer ID, so besides full multiaddrs this accepts `host`,
//! `host:port`, `ip:port` and `[ipv6]:port`, each optionally followed by
//! `/p2p/<peer-id>`. A missing port means [`DEFAULT_PORT`]; a host name
//! becomes `/dns/<host>/tcp/<port>`, resolved when dialled.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

/// The port p2pnode listens on by default, and assumes for a bare host.
pub const DEFAULT_PORT: u16 = 4001;

/// One peer to dial when joining a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Where to dial, without any `/p2p/` suffix.
    pub addr: Multiaddr,
    /// The peer expected there, when the user gave it.
    pub peer: Option<PeerId>,
}

impl Target {
    /// The address with `/p2p/<peer>` when the peer is known.
    pub fn full_addr(&self) -> Multiaddr {
        match self.peer {
            Some(peer) => self.addr.clone().with(Protocol::P2p(peer)),
            None => self.addr.clone(),
        }
    }
}

/// What `dial` connects to: an address, or a peer found by its ID in the
/// DHT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialTarget {
    /// An address (any form [`Target`] takes).
    Addr(Target),
    /// A bare peer ID: its addresses come from the routing table or a
    /// FIND_NODE lookup.
    Peer(PeerId),
}

impl FromStr for DialTarget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        // A peer ID is base58 (no ':' or '/'), and no host name parses as one.
        if !text.contains([':', '/', '.'])
            && let Ok(peer) = text.parse::<PeerId>()
        {
            return Ok(DialTarget::Peer(peer));
        }
        text.parse().map(DialTarget::Addr)
    }
}

impl std::fmt::Display for DialTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DialTarget::Addr(t) => t.fmt(f),
            DialTarget::Peer(p) => p.fmt(f),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.full_addr())
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.is_empty() {
            return Err("empty address".into());
        }
        let bad = |why: &str| format!("invalid address '{text}': {why}");
        if text.starts_with('/') {
            let addr: Multiaddr = text.parse().map_err(|e| bad(&format!("{e}")))?;
            return split_peer(addr).map_err(|e| bad(&e));
        }
        let (host_port, peer) = match text.split_once("/p2p/") {
            Some((hp, id)) => (
                hp,
                Some(
                    id.parse::<PeerId>()
                        .map_err(|e| bad(&format!("bad peer id: {e}")))?,
                ),
            ),
            None => (text, None),
        };
        let addr = host_port_addr(host_port).map_err(|e| bad(&e))?;
        Ok(Target { addr, peer })
    }
}

/// Splits a trailing `/p2p/<id>` off a multiaddr and checks that what is left
/// can be dialled (it names a host and a transport).
fn split_peer(mut addr: Multiaddr) -> Result<Target, String> {
    let peer = match addr.iter().last() {
        Some(Protocol::P2p(peer)) => {
            addr.pop();
            Some(peer)
        }
        _ => None,
    };
    let mut host = false;
    let mut transport = false;
    for p in addr.iter() {
        match p {
            Protocol::Ip4(_)
            | Protocol::Ip6(_)
            | Protocol::Dns(_)
            | Protocol::Dns4(_)
            | Protocol::Dns6(_) => host = true,
            Protocol::Tcp(_) | Protocol::QuicV1 => transport = true,
            Protocol::P2p(_) => return Err("/p2p/ must come last".into()),
            _ => {}
        }
    }
    if !host {
        return Err("no host (/ip4, /ip6, /dns...)".into());
    }
    if !transport {
        return Err("no transport (/tcp/PORT or /udp/PORT/quic-v1)".into());
    }
    Ok(Target { addr, peer })
}

/// `host`, `host:port`, `ip`, `ip:port`, `[v6]:port` into a TCP multiaddr.
fn host_port_addr(text: &str) -> Result<Multiaddr, String> {
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Ok(ip_addr(sa.ip(), sa.port()));
    }
    if let Ok(ip) = text
        .trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
    {
        return Ok(ip_addr(ip, DEFAULT_PORT));
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .map_err(|_| format!("bad port '{port}'"))?,
        ),
        None => (text, DEFAULT_PORT),
    };
    if port == 0 {
        return Err("port 0 cannot be dialled".into());
    }
    let valid = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_');
    if !valid {
        return Err(format!("'{host}' is not a host name"));
    }
    Ok(Multiaddr::empty()
        .with(Protocol::Dns(host.to_string().into()))
        .with(Protocol::Tcp(port)))
}

fn ip_addr(ip: IpAddr, port: u16) -> Multiaddr {
    Multiaddr::from(ip).with(Protocol::Tcp(port))
}

/// Parses a list such as the value of `P2P_REMOTE_HOST`: entries separated by
/// commas and/or whitespace. Empty text gives an empty list (create a network).
pub fn parse_list(text: &str) -> Result<Vec<Target>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(Target::from_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";

    fn t(s: &str) -> Target {
        s.parse().unwrap()
    }

    #[test]
    fn multiaddr_with_and_without_peer() {
        let a = t(&format!("/ip4/127.0.0.1/tcp/4001/p2p/{ID}"));
        assert_eq!(a.addr.to_string(), "/ip4/127.0.0.1/tcp/4001");
        assert_eq!(a.peer.unwrap().to_string(), ID);
        let b = t("/ip4/10.0.0.1/udp/9/quic-v1");
        assert_eq!(b.peer, None);
        assert_eq!(b.full_addr().to_string(), "/ip4/10.0.0.1/udp/9/quic-v1");
    }

    #[test]
    fn host_forms() {
        assert_eq!(t("node1").addr.to_string(), "/dns/node1/tcp/4001");
        assert_eq!(t("node1:5000").addr.to_string(), "/dns/node1/tcp/5000");
        assert_eq!(t("localhost:7").addr.to_string(), "/dns/localhost/tcp/7");
        assert_eq!(t("127.0.0.1:80").addr.to_string(), "/ip4/127.0.0.1/tcp/80");
        assert_eq!(t("10.1.2.3").addr.to_string(), "/ip4/10.1.2.3/tcp/4001");
        assert_eq!(t("[::1]:9").addr.to_string(), "/ip6/::1/tcp/9");
        let with_id = t(&format!("node1:4001/p2p/{ID}"));
        assert_eq!(with_id.addr.to_string(), "/dns/node1/tcp/4001");
        assert!(with_id.peer.is_some());
    }

    #[test]
    fn bad_entries_are_named() {
        for bad in [
            "/ip4/999.0.0.1/tcp/1",
            "/ip4/1.2.3.4",
            "/tcp/4001",
            "node1:port",
            "node1:70000",
            "no such host",
            "host:0",
            "/ip4/1.2.3.4/tcp/1/p2p/notapeer",
            "node1/p2p/bad",
        ] {
            let err = bad.parse::<Target>().unwrap_err();
            assert!(err.contains("invalid address"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_bare_peer_id_is_a_peer_to_find() {
        assert_eq!(
            ID.parse::<DialTarget>().unwrap(),
            DialTarget::Peer(ID.parse().unwrap())
        );
        assert!(matches!(
            "node1".parse::<DialTarget>().unwrap(),
            DialTarget::Addr(_)
        ));
        let with_addr = format!("/ip4/127.0.0.1/tcp/1/p2p/{ID}");
        assert!(matches!(
            with_addr.parse::<DialTarget>().unwrap(),
            DialTarget::Addr(_)
        ));
    }

    #[test]
    fn host_names_take_dashes_dots_and_underscores_up_to_253_characters() {
        for host in ["seed-1", "tasks.seed", "p2p_node_1", "a-b.c_d"] {
            assert_eq!(
                t(&format!("{host}:5")).addr.to_string(),
                format!("/dns/{host}/tcp/5")
            );
        }
        let longest = "a".repeat(253);
        assert_eq!(
            t(&longest).addr.to_string(),
            format!("/dns/{longest}/tcp/4001")
        );
        let err = format!("{longest}a").parse::<Target>().unwrap_err();
        assert!(err.contains("is not a host name"), "{err}");
    }

    #[test]
    fn a_bracketed_ipv6_address_without_port_takes_the_default_port() {
        assert_eq!(t("[::1]").addr.to_string(), "/ip6/::1/tcp/4001");
        assert_eq!(t("::1").addr.to_string(), "/ip6/::1/tcp/4001");
    }

    #[test]
    fn p2p_must_end_a_multiaddr() {
        let err = format!("/ip4/1.2.3.4/p2p/{ID}/tcp/1")
            .parse::<Target>()
            .unwrap_err();
        assert!(err.contains("/p2p/ must come last"), "{err}");
    }

    #[test]
    fn targets_print_as_the_address_they_dial() {
        let with_peer = t(&format!("node1:5000/p2p/{ID}"));
        assert_eq!(
            with_peer.to_string(),
            format!("/dns/node1/tcp/5000/p2p/{ID}")
        );
        assert_eq!(t("10.1.2.3").to_string(), "/ip4/10.1.2.3/tcp/4001");
        let dial: DialTarget = format!("/ip4/127.0.0.1/tcp/1/p2p/{ID}").parse().unwrap();
        assert_eq!(dial.to_string(), format!("/ip4/127.0.0.1/tcp/1/p2p/{ID}"));
        assert_eq!(ID.parse::<DialTarget>().unwrap().to_string(), ID);
    }

    #[test]
    fn lists_split_on_commas_and_spaces() {
        assert!(parse_list("").unwrap().is_empty());
        assert!(parse_list("  , ").unwrap().is_empty());
        let l = parse_list("node1, node2:5 /ip4/1.2.3.4/tcp/1").unwrap();
        assert_eq!(l.len(), 3);
        let e = parse_list("node1,/bogus").unwrap_err();
        assert!(e.contains("/bogus"), "{e}");
    }
}
