//! p2pnode: a libp2p Kademlia DHT peer with an interactive terminal.
//!
//! A node joins (or creates) a Kademlia network over TCP and QUIC, serves
//! the records other peers store on it, and lets a person or a script put and
//! get values through a line-oriented command loop, or through `p2pnode ctl`
//! from another process.
//!
//! # Layout
//! From the bottom layer up: a module uses only those listed before it,
//! and four leaves of later ones that import nothing back (the store's
//! `Refusal` and schema number, `terminal::log`, `command::error`).
//! - [`dht`]: p2pnode's Kademlia without I/O: ID space and XOR distance,
//!   wire messages, routing table, lookups, records and their ordering,
//!   owned records (signed, only their owner can write them).
//! - [`address`]: which multiaddrs are dialled and advertised (`--announce-subnet`).
//! - [`bootstrap`]: `P2P_REMOTE_HOST` / `--bootstrap` text into dial targets.
//! - [`quote`]: text back into one token, and made safe for a terminal.
//! - [`error`]: the library's error types.
//! - [`health`]: the `health` checks (event loop, peers, store) and their verdict.
//! - [`logging`]: log output (text or JSON lines) and the level changed at run time.
//! - [`swarm_key`]: private networks' pre-shared keys (`p2pnode swarm-key generate`).
//! - [`fd_limit`]: the file-descriptor limit checked (and raised) against
//!   the connection limits at start.
//! - [`version`]: version, git commit and store schema of this build.
//! - [`keys`]: how a user writes a record key (`text`, `hex:..`, `mh:..`,
//!   CIDs, owned keys), parsed once into a [`keys::UserKey`].
//! - [`identity`]: the node's persistent ed25519 key in the data directory.
//! - [`reports`]: what the node answers (put, get, trace, stats...): plain
//!   data the network fills and [`output`] renders.
//! - [`store`]: the record store behind Kademlia: an in-memory index written
//!   through to an embedded database (redb) in the data directory, within
//!   budgets and per-peer quotas, under a write policy; `verify`.
//! - [`config`]: the validated [`config::Config`] a node runs with, and its errors.
//! - [`metrics`]: Prometheus metrics served on `--metrics ADDR`.
//! - [`network`]: the swarm: behaviour, transport, the `EventLoop` that owns
//!   it (split by concern under `network/event_loop/`) and the cloneable
//!   [`network::Client`] that talks to it.
//! - [`output`]: the [`output::Reply`] (success decided once), rendered as
//!   friendly text, one JSON object a line, or SVG.
//! - [`command`]: the command table; lines tokenized (quotes, escapes) and
//!   parsed once into a typed [`command::Command`], then applied to the node.
//! - [`repl`]: the command loop over stdin lines.
//! - [`control`]: the local control socket used by `p2pnode ctl`.
//! - [`terminal`]: stdin and stdout for the command loop; on a terminal, line
//!   editing, history, and logs printed above the prompt.
//! - [`cli`]: the command line (clap, env fallbacks), validated into a [`Config`].
//! - [`node`]: running a node as the binary does (control socket, banner,
//!   command loop, shutdown), for the thin `main.rs`.
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod address;
pub mod bootstrap;
pub mod cli;
pub mod command;
pub mod config;
pub mod control;
pub mod dht;
pub mod error;
pub mod fd_limit;
pub mod health;
pub mod identity;
pub mod keys;
pub mod logging;
pub mod metrics;
pub mod network;
pub mod node;
pub mod output;
pub mod quote;
pub mod repl;
pub mod reports;
pub mod store;
pub mod swarm_key;
pub mod terminal;
pub mod version;

pub use config::Config;
pub use error::Error;
pub use network::{Client, Node};
