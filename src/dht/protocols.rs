//! Which Kademlia protocol names a node serves and asks with: the
//! [`KadProtocols`] of its configuration (`--kad-protocol`, `--lan`).
//!
//! go-libp2p-kad-dht names a DHT by its protocol: the IPFS public DHT is
//! `/ipfs/kad/1.0.0`, kubo's LAN DHT `/ipfs/lan/kad/1.0.0` (the `/lan`
//! extension of go-libp2p-kad-dht's `dual` package), and a private network
//! picks its own prefix (`/mynet/kad/1.0.0`). Peers meet only where they
//! share a name: multistream-select negotiates it on every stream.
//!
//! p2pnode serves every configured name with ONE routing table and ONE
//! record store. Its networks are LANs, containers and private DHTs, where
//! kubo's LAN DHT and the p2pnode peers are the same peers: two tables
//! would split a small network in two. A request proposes the names in
//! order and the peer answers on the first one it serves, so the order is
//! the preference: `--lan` puts the LAN name first, because a kubo node on
//! a LAN serves only its LAN DHT (its WAN DHT keeps to peers with public
//! addresses and stays a client without one).

use std::fmt;

use libp2p::StreamProtocol;

/// The IPFS public DHT's protocol (go-libp2p-kad-dht's default), p2pnode's default.
pub const IPFS: StreamProtocol = StreamProtocol::new("/ipfs/kad/1.0.0");

/// kubo's LAN DHT (go-libp2p-kad-dht `dual`: `/ipfs` + `/lan` + `/kad/1.0.0`).
pub const IPFS_LAN: StreamProtocol = StreamProtocol::new("/ipfs/lan/kad/1.0.0");

/// Protocols the node already runs beside the DHT: a DHT by one of these
/// names would take their streams.
const TAKEN: [&str; 3] = ["/ipfs/id/1.0.0", "/ipfs/id/push/1.0.0", "/ipfs/ping/1.0.0"];

/// Why a `--kad-protocol` name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// multistream-select names start with `/`.
    #[error("--kad-protocol {0:?}: a protocol name starts with '/' (e.g. /mynet/kad/1.0.0)")]
    NoSlash(String),
    /// Whitespace or control characters would break the negotiation's lines.
    #[error("--kad-protocol {0:?}: a protocol name has no spaces or control characters")]
    BadCharacter(String),
    /// The name of a protocol the node runs for something else.
    #[error("--kad-protocol {0}: that is the name of identify or ping, not of a DHT")]
    Taken(String),
}

/// The Kademlia protocol names of a node, most preferred first; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KadProtocols(Vec<StreamProtocol>);

impl Default for KadProtocols {
    /// `/ipfs/kad/1.0.0` alone.
    fn default() -> Self {
        KadProtocols(vec![IPFS])
    }
}

impl KadProtocols {
    /// The names from `--kad-protocol` (in order; none: the default) with
    /// `--lan` putting `/ipfs/lan/kad/1.0.0` first. A name given twice
    /// counts once, where it first appears.
    pub fn new(names: &[String], lan: bool) -> Result<Self, ProtocolError> {
        let mut list = Vec::new();
        if lan {
            list.push(IPFS_LAN);
        }
        for name in names {
            let p = parse(name)?;
            if !list.contains(&p) {
                list.push(p);
            }
        }
        if names.is_empty() {
            list.push(IPFS);
        }
        Ok(KadProtocols(list))
    }

    /// The names, most preferred first.
    pub fn names(&self) -> &[StreamProtocol] {
        &self.0
    }

    /// The first name: what a request proposes first.
    pub fn primary(&self) -> &StreamProtocol {
        // Never empty: every constructor puts a name in.
        &self.0[0]
    }

    /// The first of our names that a peer serving `theirs` (identify's
    /// protocol list) serves too: the name our requests reach it on.
    pub fn shared<'a>(&'a self, theirs: &[StreamProtocol]) -> Option<&'a StreamProtocol> {
        self.0.iter().find(|p| theirs.contains(p))
    }
}

impl fmt::Display for KadProtocols {
    /// The names, comma separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(AsRef::as_ref).collect();
        f.write_str(&names.join(", "))
    }
}

/// Whether a protocol name looks like some Kademlia DHT's (`.../kad/...`):
/// a peer serving one but none of ours runs a DHT under another name.
pub fn is_kad_name(p: &StreamProtocol) -> bool {
    p.as_ref().contains("/kad/")
}

fn parse(name: &str) -> Result<StreamProtocol, ProtocolError> {
    if !name.starts_with('/') {
        return Err(ProtocolError::NoSlash(name.to_string()));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ProtocolError::BadCharacter(name.to_string()));
    }
    if TAKEN.contains(&name) {
        return Err(ProtocolError::Taken(name.to_string()));
    }
    StreamProtocol::try_from_owned(name.to_string())
        .map_err(|_| ProtocolError::NoSlash(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &KadProtocols) -> Vec<&str> {
        p.names().iter().map(AsRef::as_ref).collect()
    }

    #[test]
    fn default_is_the_ipfs_dht_and_lan_goes_first() {
        let none: [String; 0] = [];
        assert_eq!(
            names(&KadProtocols::new(&none, false).unwrap()),
            ["/ipfs/kad/1.0.0"]
        );
        assert_eq!(
            names(&KadProtocols::new(&none, true).unwrap()),
            ["/ipfs/lan/kad/1.0.0", "/ipfs/kad/1.0.0"]
        );
        let own = ["/mynet/kad/1.0.0".to_string()];
        assert_eq!(
            names(&KadProtocols::new(&own, false).unwrap()),
            ["/mynet/kad/1.0.0"]
        );
        let both = [
            "/ipfs/kad/1.0.0".to_string(),
            "/ipfs/lan/kad/1.0.0".to_string(),
            "/ipfs/kad/1.0.0".to_string(),
        ];
        let p = KadProtocols::new(&both, true).unwrap();
        assert_eq!(names(&p), ["/ipfs/lan/kad/1.0.0", "/ipfs/kad/1.0.0"]);
        assert_eq!(p.primary(), &IPFS_LAN);
        assert_eq!(p.to_string(), "/ipfs/lan/kad/1.0.0, /ipfs/kad/1.0.0");
    }

    #[test]
    fn the_shared_name_follows_our_preference() {
        let p = KadProtocols::new(&[], true).unwrap();
        let kubo = [StreamProtocol::new("/ipfs/bitswap"), IPFS_LAN];
        assert_eq!(p.shared(&kubo), Some(&IPFS_LAN));
        assert_eq!(p.shared(&[IPFS, IPFS_LAN]), Some(&IPFS_LAN));
        assert_eq!(p.shared(&[IPFS]), Some(&IPFS));
        let mynet = StreamProtocol::new("/mynet/kad/1.0.0");
        assert_eq!(p.shared(std::slice::from_ref(&mynet)), None);
        assert!(is_kad_name(&mynet) && !is_kad_name(&StreamProtocol::new("/ipfs/ping/1.0.0")));
    }

    #[test]
    fn bad_names_are_one_line_errors() {
        for (name, needle) in [
            ("mynet/kad/1.0.0", "starts with '/'"),
            ("/my net/kad", "no spaces"),
            ("/mynet/kad\n", "no spaces"),
            ("/ipfs/ping/1.0.0", "identify or ping"),
        ] {
            let e = KadProtocols::new(&[name.to_string()], false)
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle) && !e.contains('\n'), "{name:?}: {e}");
        }
    }
}
