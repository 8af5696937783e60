//! The library's error types: one enum for what can go wrong talking to a
//! running node, one for what can go wrong starting one.

use std::path::PathBuf;

/// Why a request to the node failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// The event loop has stopped (shutdown, or it failed): nothing can be asked any more.
    #[error("the node has stopped")]
    Stopped,
    /// The user's input was wrong (bad key, oversized value, bad address...).
    #[error("{0}")]
    Invalid(String),
    /// The network operation failed; the message says how.
    #[error("{0}")]
    Network(String),
    /// A dial failed; the message names the address and why.
    #[error("dial failed: {0}")]
    Dial(String),
    /// This node's own rules refuse the record (the same rules it applies
    /// to what peers push).
    #[error("{refusal}{hint}", refusal = .0, hint = .0.flag().map(|f| format!(" ({f})")).unwrap_or_default())]
    Refused(crate::store::refusal::Refusal),
    /// The record store could not write the record to disk.
    #[error(
        "record store {path}: cannot write ({reason}); the value is held in memory only (sent to {replicated} peer(s))"
    )]
    StoreWrite {
        /// The database file.
        path: String,
        /// Why the write failed.
        reason: String,
        /// How many peers confirmed storing it.
        replicated: usize,
    },
}

impl<T> From<tokio::sync::mpsc::error::SendError<T>> for Error {
    fn from(_: tokio::sync::mpsc::error::SendError<T>) -> Self {
        Error::Stopped
    }
}

impl From<tokio::sync::oneshot::error::RecvError> for Error {
    fn from(_: tokio::sync::oneshot::error::RecvError) -> Self {
        Error::Stopped
    }
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The identity key file exists but cannot be used.
    #[error("identity key file {path}: {reason}")]
    Identity {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The data directory cannot be created or used.
    #[error("data directory {path}: {reason}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The record store cannot be opened.
    #[error("record store {path}: {reason}")]
    Store {
        /// The database file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address asked for.
        addr: String,
        /// Why it failed.
        reason: String,
    },
    /// The swarm-key file for a private network is unreadable or malformed.
    #[error("swarm key {path}: {reason}")]
    SwarmKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Anything else in setting up the transport or behaviour.
    #[error("{0}")]
    Setup(String),
}
