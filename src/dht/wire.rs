//! The Kademlia wire messages of the libp2p DHT spec
//! (<https://github.com/libp2p/specs/tree/master/kad-dht>, `dht.proto`),
//! as spoken by go-libp2p-kad-dht, rust-libp2p and py-libp2p, plus two
//! p2pnode extension fields that other implementations skip as unknown:
//!
//! - `Record.version` (field 7101): the record's version (see
//!   [`super::record`]), so two p2pnode nodes can tell which of two values
//!   of one key is the newer;
//! - `Record.ttl_ms` (field 7102): the remaining lifetime in
//!   milliseconds, where `ttl` (777) has whole seconds only;
//! - `Message.refused` (field 7100): in a PUT_VALUE response, why the
//!   record was not stored. A refusing p2pnode answers with the record it
//!   holds instead of an echo of the one it was sent, which go-libp2p reads
//!   as a failed put, and p2pnode reads as a refusal with its reason.
//!
//! The fields `publisher` (666) and `ttl` (777) are rust-libp2p's own
//! extensions, kept so rust-libp2p peers see the publisher and lifetime.

use libp2p::{Multiaddr, PeerId};

/// One DHT message: a request or a response.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Message {
    /// What kind of message this is ([`MessageType`]).
    #[prost(enumeration = "MessageType", tag = "1")]
    pub r#type: i32,
    /// Unused by the spec; kept for compatibility.
    #[prost(int32, tag = "10")]
    pub cluster_level_raw: i32,
    /// The key asked about (PUT_VALUE, GET_VALUE, ADD_PROVIDER,
    /// GET_PROVIDERS) or the target of FIND_NODE.
    #[prost(bytes = "vec", tag = "2")]
    pub key: Vec<u8>,
    /// The record stored or returned (PUT_VALUE, GET_VALUE).
    #[prost(message, optional, tag = "3")]
    pub record: Option<WireRecord>,
    /// Peers closer to the key (FIND_NODE, GET_VALUE, GET_PROVIDERS).
    #[prost(message, repeated, tag = "8")]
    pub closer_peers: Vec<WirePeer>,
    /// Providers of the key (ADD_PROVIDER, GET_PROVIDERS).
    #[prost(message, repeated, tag = "9")]
    pub provider_peers: Vec<WirePeer>,
    /// p2pnode: why a PUT_VALUE was refused (absent when it was stored).
    #[prost(string, optional, tag = "7100")]
    pub refused: Option<String>,
}

/// A record on the wire.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WireRecord {
    /// The key.
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
    /// The value.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
    /// Set by go-libp2p receivers (RFC 3339 text); ignored here.
    #[prost(string, tag = "5")]
    pub time_received: String,
    /// rust-libp2p: the original publisher's peer ID bytes.
    #[prost(bytes = "vec", tag = "666")]
    pub publisher: Vec<u8>,
    /// rust-libp2p: the remaining lifetime in seconds (0: no expiry given).
    #[prost(uint32, tag = "777")]
    pub ttl: u32,
    /// p2pnode: the record's version (0: none given).
    #[prost(uint64, tag = "7101")]
    pub version: u64,
    /// p2pnode: the remaining lifetime in milliseconds (0: none given), so
    /// copies passed between p2pnode nodes keep their expiry exactly
    /// instead of gaining up to a second at each hop.
    #[prost(uint64, tag = "7102")]
    pub ttl_ms: u64,
}

/// A peer and its addresses on the wire.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WirePeer {
    /// The peer ID bytes.
    #[prost(bytes = "vec", tag = "1")]
    pub id: Vec<u8>,
    /// Its multiaddrs, as bytes.
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub addrs: Vec<Vec<u8>>,
    /// Whether the sender is connected to it ([`ConnectionType`]).
    #[prost(enumeration = "ConnectionType", tag = "3")]
    pub connection: i32,
}

/// The message types of the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MessageType {
    /// Store a record.
    PutValue = 0,
    /// Ask for a record (and closer peers).
    GetValue = 1,
    /// Announce a provider.
    AddProvider = 2,
    /// Ask for providers (and closer peers).
    GetProviders = 3,
    /// Ask for the peers closest to a key.
    FindNode = 4,
    /// Liveness check (deprecated in the spec, still answered).
    Ping = 5,
}

impl MessageType {
    /// Its name in the spec (`GET_VALUE`, ...), as `stats` shows it.
    pub fn spec_name(self) -> &'static str {
        match self {
            MessageType::PutValue => "PUT_VALUE",
            MessageType::GetValue => "GET_VALUE",
            MessageType::AddProvider => "ADD_PROVIDER",
            MessageType::GetProviders => "GET_PROVIDERS",
            MessageType::FindNode => "FIND_NODE",
            MessageType::Ping => "PING",
        }
    }
}

/// The connection states of the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ConnectionType {
    /// No connection, no information.
    NotConnected = 0,
    /// A live connection.
    Connected = 1,
    /// Recently connected.
    CanConnect = 2,
    /// Recently failed to connect.
    CannotConnect = 3,
}

impl Message {
    /// A request of type `t` about `key`.
    pub fn request(t: MessageType, key: Vec<u8>) -> Message {
        Message {
            r#type: t as i32,
            key,
            ..Default::default()
        }
    }

    /// The message type, `None` for a type this code does not know.
    pub fn kind(&self) -> Option<MessageType> {
        MessageType::try_from(self.r#type).ok()
    }

    /// Stands for a request that was too large to decode: `len` bytes,
    /// read and thrown away by the codec (never sent on the wire).
    pub fn oversized(len: usize) -> Message {
        Message {
            r#type: OVERSIZED,
            cluster_level_raw: i32::try_from(len).unwrap_or(i32::MAX),
            ..Default::default()
        }
    }

    /// The size of an oversized request (see [`Message::oversized`]).
    pub fn oversized_len(&self) -> Option<usize> {
        (self.r#type == OVERSIZED).then(|| usize::try_from(self.cluster_level_raw).unwrap_or(0))
    }
}

/// The type of [`Message::oversized`]: no message type of the spec.
const OVERSIZED: i32 = i32::MIN;

/// A peer as a DHT message carries it, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAddrs {
    /// The peer.
    pub peer: PeerId,
    /// The addresses that decoded (undecodable ones are dropped).
    pub addrs: Vec<Multiaddr>,
}

impl WirePeer {
    /// Encodes a peer with its addresses.
    pub fn new(peer: &PeerId, addrs: &[Multiaddr], connected: bool) -> WirePeer {
        WirePeer {
            id: peer.to_bytes(),
            addrs: addrs.iter().map(|a| a.to_vec()).collect(),
            connection: if connected {
                ConnectionType::Connected as i32
            } else {
                ConnectionType::NotConnected as i32
            },
        }
    }

    /// Decodes the peer; `None` when its ID is not a peer ID.
    pub fn decode(&self) -> Option<PeerAddrs> {
        let peer = PeerId::from_bytes(&self.id).ok()?;
        let addrs = self
            .addrs
            .iter()
            .filter_map(|a| Multiaddr::try_from(a.clone()).ok())
            .collect();
        Some(PeerAddrs { peer, addrs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    #[test]
    fn a_go_style_message_decodes_and_unknown_fields_are_skipped() {
        let m = Message {
            r#type: MessageType::GetValue as i32,
            key: b"k".to_vec(),
            record: Some(WireRecord {
                key: b"k".to_vec(),
                value: b"v".to_vec(),
                version: 42,
                ..Default::default()
            }),
            refused: Some("stale".into()),
            ..Default::default()
        };
        let bytes = m.encode_to_vec();
        let back = Message::decode(bytes.as_slice()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.kind(), Some(MessageType::GetValue));
        // A message with only the spec's fields (what go sends) decodes
        // with the extensions absent.
        let plain = Message::request(MessageType::FindNode, b"x".to_vec());
        let back = Message::decode(plain.encode_to_vec().as_slice()).unwrap();
        assert_eq!(back.refused, None);
        assert_eq!(back.kind(), Some(MessageType::FindNode));
    }

    #[test]
    fn peers_round_trip_and_bad_ids_are_dropped() {
        let p = PeerId::random();
        let a: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().unwrap();
        let w = WirePeer::new(&p, std::slice::from_ref(&a), true);
        assert_eq!(
            w.decode(),
            Some(PeerAddrs {
                peer: p,
                addrs: vec![a]
            })
        );
        let bad = WirePeer {
            id: vec![1, 2, 3],
            ..Default::default()
        };
        assert_eq!(bad.decode(), None);
    }
}
