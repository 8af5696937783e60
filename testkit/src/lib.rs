//! The dev-only test kit of p2pnode: what every test and bench uses to run
//! nodes, so there is one way to start a node, to talk to a process, and to
//! wait for a condition.
//!
//! # Layout
//! - [`wait`]: [`eventually`] and [`eventually_async`]: every bounded wait
//!   (a condition polled until it holds, failing with the last answer).
//! - [`process`]: [`LineProc`], one child process driven line by line over
//!   stdin/stdout (a pump thread, reads bounded in time and size, signals,
//!   wait-for-exit), and [`run_bounded`] for commands run to completion.
//! - [`binary`]: the p2pnode binary as a process: [`Binary`] (the path a
//!   test hands in), [`Opts`], [`NodeProc`] driven through `--json`.
//! - [`inproc`]: nodes in the test's own process through the library API:
//!   [`spawn_nodes`], [`Net`], and [`NodeExt`] (REPL lines answered in JSON).
//! - [`kad`]: in-process networks with a small k ([`kad::spawn_with_k`]),
//!   settled when every routing table is as full as k allows.
//! - [`peers`]: the third-party reference peers of `../shared/peers`
//!   (py-libp2p, bmuller kademlia) on the same process driver.
//! - [`kubo`]: kubo (the IPFS daemon) in a loopback-only network
//!   namespace that is removed, with everything in it, when dropped.
//! - [`harness`]: a libtest-compatible `main` whose tests that need something
//!   the machine lacks (Docker, the reference peers) are listed as ignored,
//!   so test runners count them as skipped, not passed.
//! - [`rng`]: a small seeded generator so a run can be replayed.
//! - [`rogue`]: a hostile peer speaking the kad-dht protocol: forged
//!   records, floods of PUT_VALUE.
//! - [`flood`]: a flood of plain TCP connections that never handshake.
//!
//! `env!("CARGO_BIN_EXE_p2pnode")` exists only in the p2pnode package's own
//! tests and benches: they hand the path in with [`Binary::new`].
#![deny(missing_docs)]

pub mod binary;
pub mod flood;
pub mod harness;
pub mod inproc;
pub mod kad;
pub mod kubo;
pub mod peers;
pub mod process;
pub mod rng;
pub mod rogue;
pub mod wait;

pub use binary::{Binary, NodeProc, Opts, read_log};
pub use inproc::{Net, NodeExt, init_logs, spawn_node, spawn_nodes, spawn_nodes_with};
pub use nix::sys::signal::Signal;
pub use process::{Finished, LineProc, run_bounded};
pub use rng::Rng;
pub use wait::{Ask, Wait, eventually, eventually_async, holding_until, throughout};

/// How long a network may take to settle (routing tables filled).
pub const SETTLE: std::time::Duration = std::time::Duration::from_secs(60);

/// Writes a swarm key file for a private network (`/key/swarm/psk/1.0.0/`,
/// `/base16/`, 64 hex digits derived from `byte`: the same byte, the same key).
pub fn write_swarm_key(path: &std::path::Path, byte: u8) {
    let hex: String = (0..32u8)
        .map(|i| format!("{:02x}", i.wrapping_mul(7) ^ byte))
        .collect();
    std::fs::write(path, format!("/key/swarm/psk/1.0.0/\n/base16/\n{hex}\n")).expect("write key");
}

/// Panics unless the reply says `"ok": true`.
pub fn assert_ok(v: &serde_json::Value) {
    assert_eq!(v["ok"], true, "expected ok: {v}");
}

/// Panics unless the reply says `"ok": false` with an error containing
/// `needle`.
pub fn assert_error(v: &serde_json::Value, needle: &str) {
    assert_eq!(v["ok"], false, "expected an error: {v}");
    let e = v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error text: {v}"));
    assert!(e.contains(needle), "expected an error with {needle:?}: {v}");
}

/// The peer IDs in a `routing` reply (`--json`), bucket by bucket.
pub fn routing_ids(v: &serde_json::Value) -> Vec<String> {
    v["buckets"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|b| b["peers"].as_array().into_iter().flatten())
        .filter_map(|p| p["peer"].as_str().map(str::to_string))
        .collect()
}
