//! Changes to this node's own store that involve no peer: `delete KEY`
//! removes the record held here (copies on other peers stay, and a
//! replication by one of them may bring it back), and stops republishing
//! it when this node published it; answered once the removal is on disk.

use tokio::sync::oneshot;

use super::{Ack, EventLoop};
use crate::dht::RecordKey;
use crate::error::Error;

impl EventLoop {
    /// `delete KEY`: see the module docs.
    pub(super) fn delete_local(
        &mut self,
        key: RecordKey,
        reply: oneshot::Sender<Result<bool, Error>>,
    ) {
        let held = self.store.remove(&key);
        self.jobs.forget(&key);
        let seq = if held { self.store.flush() } else { None };
        self.ack_after(seq, Ack::Local(reply, held));
    }

    /// The answer to a local change whose write reached the disk (or not).
    pub(super) fn local_write_done(
        &self,
        answer: bool,
        error: Option<String>,
    ) -> Result<bool, Error> {
        match error {
            None => Ok(answer),
            Some(reason) => Err(self.store_write_error(reason, 0)),
        }
    }

    /// The error of a write that did not reach the disk (sent to
    /// `replicated` peers nonetheless).
    pub(super) fn store_write_error(&self, reason: String, replicated: usize) -> Error {
        let path = self.store.path().map(|p| p.display().to_string());
        Error::StoreWrite {
            path: path.unwrap_or_default(),
            reason,
            replicated,
        }
    }
}
