//! `--replication-factor` and `--alpha`: Kademlia's k and alpha on the
//! command line (with environment fallbacks), checked into a
//! [`Kademlia`].

use clap::Args;

use crate::config::{ConfigError, Kademlia};
use crate::dht::{DEFAULT_ALPHA, DEFAULT_K};

/// Kademlia's size parameters.
#[derive(Debug, Args)]
pub struct KademliaArgs {
    /// Kademlia's k: the k-bucket size and the replication factor (records
    /// go to the k closest peers; a lookup ends when the k closest peers it
    /// knows have answered). 1 to 64.
    #[arg(long, default_value_t = DEFAULT_K, env = "P2PNODE_REPLICATION_FACTOR")]
    pub replication_factor: usize,
    /// Kademlia's alpha: requests sent in parallel per lookup round, 1 to
    /// k. Default: 3, or k when k is smaller.
    #[arg(long, env = "P2PNODE_ALPHA")]
    pub alpha: Option<usize>,
}

impl KademliaArgs {
    /// Checks k and alpha (alpha defaults to min(3, k)).
    pub fn into_kademlia(self) -> Result<Kademlia, ConfigError> {
        let k = self.replication_factor;
        let alpha = self.alpha.unwrap_or(DEFAULT_ALPHA.min(k.max(1)));
        Kademlia::new(k, alpha)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        kademlia: KademliaArgs,
    }

    fn parse(args: &[&str]) -> Result<Kademlia, String> {
        let cli = Cli::try_parse_from(std::iter::once("p2pnode").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        cli.kademlia.into_kademlia().map_err(|e| e.to_string())
    }

    #[test]
    fn replication_factor_and_alpha_are_bounded() {
        let c = parse(&["--replication-factor", "3", "--alpha", "2"]).unwrap();
        assert_eq!((c.k, c.alpha), (3, 2));
        let c = parse(&["--replication-factor", "2"]).unwrap();
        assert_eq!((c.k, c.alpha), (2, 2));
        assert_eq!(parse(&[]).unwrap(), Kademlia::default());
        for bad in [
            &["--replication-factor", "0"][..],
            &["--replication-factor", "65"],
        ] {
            let e = parse(bad).unwrap_err();
            assert!(
                e.starts_with("--replication-factor") && !e.contains('\n'),
                "{e}"
            );
        }
        for bad in [
            &["--alpha", "0"][..],
            &["--replication-factor", "3", "--alpha", "4"],
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.starts_with("--alpha") && !e.contains('\n'), "{e}");
        }
    }
}
