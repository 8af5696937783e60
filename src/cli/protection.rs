//! The command-line options that protect a node from hostile peers: store
//! budgets and per-peer quotas, the write policy, connection limits.

use clap::Args;
use libp2p::PeerId;

use crate::config::{ConfigError, ConnectionLimits};
use crate::store::Limits;
use crate::store::{Accept, WritePolicy};

/// The default per-peer record quota.
const DEFAULT_RECORDS_PER_PEER: usize = 4096;
/// The default per-peer byte quota (32 MiB).
const DEFAULT_BYTES_PER_PEER: usize = 32 * 1024 * 1024;

/// Budgets, quotas, write policy and connection limits.
#[derive(Debug, Args)]
pub struct ProtectionArgs {
    /// Most bytes the records held may take in memory (keys twice, values,
    /// 384 bytes each of bookkeeping); other peers' may fill three quarters.
    #[arg(long, default_value_t = 256 * 1024 * 1024, env = "P2PNODE_MAX_STORE_BYTES")]
    pub max_store_bytes: usize,
    /// Most records one remote peer may place on this node (default 4096,
    /// or --max-records when that is smaller).
    #[arg(long, env = "P2PNODE_MAX_RECORDS_PER_PEER")]
    pub max_records_per_peer: Option<usize>,
    /// Most bytes the records one remote peer places may take (default
    /// 32 MiB, or --max-store-bytes when that is smaller).
    #[arg(long, env = "P2PNODE_MAX_BYTES_PER_PEER")]
    pub max_bytes_per_peer: Option<usize>,
    /// Which records peers may store here: `all`; `owned`, only records
    /// that prove their writer (owned keys, /pk/); `owned+allowlist`, those
    /// and plain records pushed by an --allow-writer peer.
    #[arg(long, value_enum, default_value_t = Accept::All, env = "P2PNODE_ACCEPT_RECORDS")]
    pub accept_records: Accept,
    /// A peer ID whose plain records are taken under
    /// `--accept-records owned+allowlist` (repeatable).
    #[arg(
        long = "allow-writer",
        env = "P2PNODE_ALLOW_WRITERS",
        value_delimiter = ','
    )]
    pub allow_writer: Vec<PeerId>,
    /// Most established connections (incoming and outgoing).
    #[arg(long, default_value_t = 512, env = "P2PNODE_MAX_CONNECTIONS")]
    pub max_connections: u32,
    /// Most established incoming connections (the rest of
    /// --max-connections is kept for this node's own dials; at most
    /// --max-connections).
    #[arg(long, default_value_t = 384, env = "P2PNODE_MAX_INCOMING")]
    pub max_incoming: u32,
    /// Most established connections to one peer.
    #[arg(long, default_value_t = 4, env = "P2PNODE_MAX_CONNECTIONS_PER_PEER")]
    pub max_connections_per_peer: u32,
    /// Most incoming connections still in their handshake (a plain TCP
    /// connection that never starts one counts here until it times out).
    #[arg(long, default_value_t = 128, env = "P2PNODE_MAX_PENDING_INCOMING")]
    pub max_pending_incoming: u32,
    /// Most incoming connections in their handshake from one IP address.
    #[arg(long, default_value_t = 16, env = "P2PNODE_MAX_PENDING_PER_IP")]
    pub max_pending_per_ip: u32,
}

/// `--accept-records` takes the policy's own spellings.
impl clap::ValueEnum for Accept {
    fn value_variants<'a>() -> &'a [Self] {
        &[Accept::All, Accept::Owned, Accept::OwnedAndAllowlist]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let i = Self::value_variants().iter().position(|a| a == self)?;
        Some(clap::builder::PossibleValue::new(Accept::CHOICES[i]))
    }
}

impl ProtectionArgs {
    /// Checks the options; fills the store budgets into `limits` and
    /// returns the write policy and the connection limits.
    pub fn apply(
        self,
        limits: &mut Limits,
    ) -> Result<(WritePolicy, ConnectionLimits), ConfigError> {
        let nonzero = [
            ("--max-store-bytes", self.max_store_bytes),
            ("--max-connections", self.max_connections as usize),
            ("--max-incoming", self.max_incoming as usize),
            (
                "--max-connections-per-peer",
                self.max_connections_per_peer as usize,
            ),
            ("--max-pending-incoming", self.max_pending_incoming as usize),
            ("--max-pending-per-ip", self.max_pending_per_ip as usize),
        ];
        if let Some((flag, _)) = nonzero.into_iter().find(|(_, n)| *n == 0) {
            return Err(ConfigError::ZeroSize { flag });
        }
        // Given explicitly, a quota over its budget is a mistake; by
        // default it is capped by the budget.
        let max_records_per_peer = self
            .max_records_per_peer
            .unwrap_or(DEFAULT_RECORDS_PER_PEER.min(limits.max_records));
        let max_bytes_per_peer = self
            .max_bytes_per_peer
            .unwrap_or(DEFAULT_BYTES_PER_PEER.min(self.max_store_bytes));
        let quotas = [
            (
                "--max-records-per-peer",
                max_records_per_peer,
                "--max-records",
                limits.max_records,
            ),
            (
                "--max-bytes-per-peer",
                max_bytes_per_peer,
                "--max-store-bytes",
                self.max_store_bytes,
            ),
        ];
        if let Some((flag, quota, budget_flag, budget)) =
            quotas.into_iter().find(|(_, q, _, b)| q > b)
        {
            return Err(ConfigError::QuotaOverBudget {
                flag,
                quota,
                budget_flag,
                budget,
            });
        }
        if !self.allow_writer.is_empty() && self.accept_records != Accept::OwnedAndAllowlist {
            return Err(ConfigError::AllowlistUnused);
        }
        limits.max_store_bytes = self.max_store_bytes;
        limits.max_records_per_peer = max_records_per_peer;
        limits.max_bytes_per_peer = max_bytes_per_peer;
        let policy = WritePolicy {
            accept: self.accept_records,
            allow: self.allow_writer,
        };
        let connections = ConnectionLimits {
            max_established: self.max_connections,
            max_established_incoming: self.max_incoming.min(self.max_connections),
            max_established_per_peer: self.max_connections_per_peer,
            max_pending_incoming: self.max_pending_incoming,
            max_pending_per_ip: self.max_pending_per_ip,
        };
        Ok((policy, connections))
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::tests::parse;
    use crate::store::Accept;

    #[test]
    fn defaults_bound_the_store_and_the_connections() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.limits.max_store_bytes, 256 * 1024 * 1024);
        assert_eq!(c.policy.accept, Accept::All);
        assert!(
            c.connections.descriptors() < 1024,
            "fits the usual soft limit"
        );
    }

    #[test]
    fn the_policy_and_its_allowlist_parse_and_are_checked() {
        let id = libp2p::PeerId::random().to_string();
        let c = parse(&["--accept-records", "owned+allowlist", "--allow-writer", &id]).unwrap();
        assert_eq!(c.policy.accept, Accept::OwnedAndAllowlist);
        assert_eq!(c.policy.allow.len(), 1);
        let e = parse(&["--allow-writer", &id]).unwrap_err();
        assert!(e.contains("owned+allowlist"), "{e}");
        let e = parse(&["--accept-records", "some"]).unwrap_err();
        assert!(e.contains("owned+allowlist"), "{e}");
        assert!(parse(&["--accept-records", "owned", "--allow-writer", "nope"]).is_err());
    }

    #[test]
    fn quotas_must_fit_their_budget_and_limits_must_not_be_zero() {
        let e = parse(&["--max-records", "10", "--max-records-per-peer", "11"]).unwrap_err();
        assert_eq!(
            e,
            "--max-records-per-peer (11) must not be more than --max-records (10)"
        );
        let e = parse(&["--max-pending-per-ip", "0"]).unwrap_err();
        assert_eq!(e, "--max-pending-per-ip must be at least 1");
    }
}
