//! Which records this node takes from which peers (`--accept-records`,
//! `--allow-writer`). Records that prove who wrote them are always taken:
//! owned records (signed, see [`crate::dht::owned`]) and `/pk/` records
//! (the key names the hash of the value). A plain key can be written by
//! anyone, so a private network can take plain records only from the peers
//! it trusts. The peer judged is the one that pushed the copy, the only
//! writer a node can verify (a record's publisher field is not signed), so
//! under a policy a plain record reaches a node only through an allowed
//! peer: its author's put and republishing, not other holders' replication.
//! This node's own puts always pass.

use std::str::FromStr;

use libp2p::PeerId;

use crate::dht::{RecordKey, owned};

/// What `--accept-records` allows from peers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Accept {
    /// Every valid record (the DHT's usual rule).
    #[default]
    All,
    /// Only records that prove their writer (owned, `/pk/`).
    Owned,
    /// Those, and plain records pushed by an allowlisted peer.
    OwnedAndAllowlist,
}

impl Accept {
    /// The flag's spelling of each choice.
    pub const CHOICES: [&'static str; 3] = ["all", "owned", "owned+allowlist"];
}

impl FromStr for Accept {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "all" => Ok(Accept::All),
            "owned" => Ok(Accept::Owned),
            "owned+allowlist" => Ok(Accept::OwnedAndAllowlist),
            other => Err(format!(
                "{other:?} is not one of {}",
                Accept::CHOICES.join(", ")
            )),
        }
    }
}

impl std::fmt::Display for Accept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Accept::All => Accept::CHOICES[0],
            Accept::Owned => Accept::CHOICES[1],
            Accept::OwnedAndAllowlist => Accept::CHOICES[2],
        })
    }
}

/// The write policy a node applies to what peers push.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WritePolicy {
    /// What is accepted.
    pub accept: Accept,
    /// The peers whose plain records are accepted under
    /// [`Accept::OwnedAndAllowlist`].
    pub allow: Vec<PeerId>,
}

impl WritePolicy {
    /// Whether a copy of a record under `key` pushed by `from` may be
    /// stored (`None`: this node's own write).
    pub fn permits(&self, key: &RecordKey, from: Option<&PeerId>) -> bool {
        let Some(peer) = from else {
            return true;
        };
        let proves_writer = owned::is_owned(key.as_ref()) || key.as_ref().starts_with(b"/pk/");
        match self.accept {
            Accept::All => true,
            _ if proves_writer => true,
            Accept::Owned => false,
            Accept::OwnedAndAllowlist => self.allow.contains(peer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_records_pass_only_from_allowed_peers() {
        let (friend, stranger) = (PeerId::random(), PeerId::random());
        let plain = RecordKey::new(&"greeting");
        let mine = owned::key(&stranger, b"name");
        let policy = WritePolicy {
            accept: "owned+allowlist".parse().unwrap(),
            allow: vec![friend],
        };
        assert!(policy.permits(&plain, Some(&friend)));
        assert!(!policy.permits(&plain, Some(&stranger)));
        assert!(policy.permits(&mine, Some(&stranger)));
        assert!(policy.permits(&plain, None));
        let owned_only = WritePolicy {
            accept: Accept::Owned,
            ..policy
        };
        assert!(!owned_only.permits(&plain, Some(&friend)));
        assert!(WritePolicy::default().permits(&plain, Some(&stranger)));
        assert!("some".parse::<Accept>().is_err());
        for c in Accept::CHOICES {
            assert_eq!(c.parse::<Accept>().unwrap().to_string(), c);
        }
    }
}
