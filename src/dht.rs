//! p2pnode's Kademlia: the parts of the DHT that need no I/O, each small
//! enough to test alone (the network event loop does the I/O).
//!
//! p2pnode speaks the libp2p kad-dht wire protocol (`/ipfs/kad/1.0.0`)
//! itself instead of through libp2p-kad, because what it promises needs
//! control that libp2p-kad does not expose: every request of a lookup
//! observed (`trace`), a refused record not counted as stored, a version
//! carried with each record so the newest value wins, the pushing peer of
//! each record known (quotas). The protocol on the wire is the same, so
//! go-libp2p, py-libp2p and rust-libp2p peers are part of the same DHT.
//!
//! - [`key`]: points of the 256-bit ID space and the XOR distance.
//! - [`wire`]: the protobuf messages (plus two p2pnode extension fields).
//! - [`codec`]: their framing on a stream.
//! - [`routing`]: the routing table (k-buckets).
//! - [`lookup`]: the iterative lookup with its rounds and trace.
//! - [`record`]: records, provider records, and the rule that orders two
//!   values of one key.
//! - [`protocols`]: the protocol names a node serves (`--kad-protocol`,
//!   `--lan`) and which one reaches a given peer.
//! - [`owned`]: owned records (`/p2pnode/<peer ID>/<name>`): signed values
//!   only their owner can write.

pub mod codec;
pub mod key;
pub mod lookup;
pub mod owned;
pub mod protocols;
pub mod record;
pub mod routing;
pub mod wire;

pub use key::{Distance, Point};
pub use record::{ProviderRecord, Record, RecordKey, Version};

/// The Kademlia protocol of the IPFS/libp2p public DHT, p2pnode's default
/// (see [`protocols`] for the others a node may serve).
pub const PROTOCOL: libp2p::StreamProtocol = protocols::IPFS;

/// Kademlia's k: bucket size and replication factor (the paper and libp2p).
pub const DEFAULT_K: usize = 20;

/// Kademlia's alpha: requests in flight per lookup round.
pub const DEFAULT_ALPHA: usize = 3;
