//! p2pnode: a libp2p Kademlia DHT peer with an interactive terminal.
//!
//! A node joins (or creates) a Kademlia network over TCP and QUIC, serves
//! the records other peers store on it, and lets a person or a script put and
//! get values through a line-oriented command loop, or through `p2pnode ctl`
//! from another process.
//!
//! # Layout
//! - [`cli`]: the command line (clap, env fallbacks), validated into a [`Config`].
//! - [`config`]: the validated [`config::Config`] a node runs with, and its errors.
//! - [`bootstrap`]: `P2P_REMOTE_HOST` / `--bootstrap` text into dial targets.
//! - [`identity`]: the node's persistent ed25519 key in the data directory.
//! - [`keys`]: how a user writes a record key (`text`, `hex:..`, `mh:..`),
//!   parsed once into a [`keys::UserKey`].
//! - [`dht`]: p2pnode's Kademlia without I/O: ID space and XOR distance,
//!   wire messages, routing table, lookups, records and their ordering,
//!   owned records (signed, only their owner can write them).
//! - [`network`]: the swarm: behaviour, transport, the `EventLoop` that owns
//!   it and the cloneable [`network::Client`] that talks to it.
//! - [`store`]: the record store behind Kademlia: an in-memory index written
//!   through to an embedded database (redb) in the data directory, within
//!   budgets and per-peer quotas, under a write policy; `verify`.
//! - [`command`]: the command table; lines tokenized (quotes, escapes) and
//!   parsed once into a typed [`command::Command`], then applied to the node.
//! - [`repl`]: the command loop over stdin lines.
//! - [`output`]: the [`output::Reply`] (success decided once), rendered as
//!   friendly text or one JSON object a line.
//! - [`metrics`]: Prometheus metrics served on `--metrics ADDR`.
//! - [`swarm_key`]: private networks' pre-shared keys (`p2pnode swarm-key generate`).
//! - [`control`]: the local control socket used by `p2pnode ctl`.
//! - [`terminal`]: stdin and stdout for the command loop; on a terminal, line
//!   editing, history, and logs printed above the prompt.
//! - [`health`]: the `health` checks (event loop, peers, store) and their verdict.
//! - [`logging`]: log output (text or JSON lines) and the level changed at run time.
//! - [`node`]: running a node as the binary does (control socket, banner,
//!   command loop, shutdown), for the thin `main.rs`.
//! - [`version`]: version, git commit and store schema of this build.
//! - [`fd_limit`]: the file-descriptor limit checked (and raised) against
//!   the connection limits at start.
//! - [`error`]: the library's error types.
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

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
pub mod repl;
pub mod store;
pub mod swarm_key;
pub mod terminal;
pub mod version;

pub use config::Config;
pub use error::Error;
pub use network::{Client, Node};
