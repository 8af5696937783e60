//! The process's file-descriptor limit (`RLIMIT_NOFILE`) against what the
//! connection limits may need: every connection, established or in its
//! handshake, holds one descriptor. At start the soft limit is raised
//! toward what is needed, up to the hard limit (as kubo and the Go runtime
//! do), and a warning names the shortfall when even the hard limit is too
//! low, so a flood ends in refused connections instead of "Too many open
//! files" for everyone.

use nix::sys::resource::{Resource, getrlimit, setrlimit};
use tracing::{debug, warn};

/// What was found and done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The soft limit already covers the need.
    Enough {
        /// The soft limit.
        soft: u64,
    },
    /// The soft limit was raised to cover it.
    Raised {
        /// The soft limit before.
        from: u64,
        /// The soft limit now.
        to: u64,
    },
    /// The limit stays below the need (a warning was logged).
    TooLow {
        /// The soft limit now.
        soft: u64,
        /// What the connection limits may need.
        need: u64,
    },
    /// The limit could not be read.
    Unknown,
}

/// Raises the soft `RLIMIT_NOFILE` to `need` descriptors if it is lower
/// (never above the hard limit); warns when it stays below.
pub fn ensure(need: u64) -> Outcome {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return Outcome::Unknown;
    };
    if soft >= need {
        debug!(
            soft,
            need, "file descriptor limit covers the connection limits"
        );
        return Outcome::Enough { soft };
    }
    let to = need.min(hard);
    let raised = to > soft && setrlimit(Resource::RLIMIT_NOFILE, to, hard).is_ok();
    let now = if raised { to } else { soft };
    if now >= need {
        debug!(from = soft, to, "raised the soft file descriptor limit");
        return Outcome::Raised { from: soft, to };
    }
    warn!(
        limit = now,
        need,
        "the file descriptor limit (ulimit -n) is below what the connection limits may use; \
         raise it (e.g. ulimit -n {need}, LimitNOFILE= in systemd) or lower --max-connections / --max-pending-incoming"
    );
    Outcome::TooLow { soft: now, need }
}
