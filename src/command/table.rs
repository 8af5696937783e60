//! The command table: every REPL command in one row (its variant with its
//! typed arguments, name, aliases, usage, one-line help, and its parser).
//! The row is the only place a command is described: the [`Command`] enum,
//! [`Command::name`] (the JSON `"cmd"` and the metrics label), the parser's
//! name lookup, `help` and the command list in `p2pnode --help` are all
//! made from it. Adding a command is a row here, its `apply` arm and its
//! rendering.

use std::fmt;

use crate::bootstrap::DialTarget;
use crate::command::ParseError;
use crate::command::parse::{self, Args, LineArg};
use crate::command::trace::{SvgPath, TraceArg};
use crate::keys::UserKey;
use crate::network::Quorum;

/// One command's row of the table.
#[derive(Debug)]
pub struct Spec {
    /// The name (lower case), as typed and as in JSON `"cmd"`.
    pub name: &'static str,
    /// Other names accepted for it.
    pub aliases: &'static [&'static str],
    /// How it is written, with its arguments.
    pub usage: &'static str,
    /// What it does, in one line.
    pub help: &'static str,
    /// Builds the command from its arguments.
    pub(crate) parse: fn(Args) -> Result<Command, ParseError>,
}

/// Builds [`Command`], [`COMMANDS`] and the per-command lookups from the
/// rows, so they cannot disagree.
macro_rules! command_table {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident $({ $($(#[doc = $fdoc:literal])* $field:ident: $ty:ty),* $(,)? })? => {
            name: $name:literal,
            aliases: [$($alias:literal),* $(,)?],
            usage: $usage:literal,
            help: $help:literal,
            parse: $parse:expr $(,)?
        }
    ),* $(,)?) => {
        /// One command, parsed: its arguments are typed values (keys already
        /// parsed once into [`UserKey`]s), ready to [`apply`](crate::command::apply).
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Command {
            $(
                $(#[doc = $doc])*
                $variant $({ $($(#[doc = $fdoc])* $field: $ty),* })?
            ),*
        }

        /// Every command, in the order `help` lists them.
        pub static COMMANDS: &[Spec] = &[$(
            Spec {
                name: $name,
                aliases: &[$($alias),*],
                usage: $usage,
                help: $help,
                parse: $parse,
            }
        ),*];

        /// Each command's position in [`COMMANDS`].
        enum Row { $($variant),* }

        impl Command {
            /// This command's row of the table.
            pub fn spec(&self) -> &'static Spec {
                let row = match self { $(Command::$variant { .. } => Row::$variant),* };
                &COMMANDS[row as usize]
            }

            /// The key it acts on, for commands that take one.
            pub fn key(&self) -> Option<&UserKey> {
                match self {
                    $(Command::$variant $({ $($field),* })? => {
                        $($(if let Some(key) = LineArg::as_key($field) {
                            return Some(key);
                        })*)?
                        None
                    })*
                }
            }
        }

        impl fmt::Display for Command {
            /// The command as a line that parses back to it, quoting what
            /// needs it.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())?;
                match self {
                    $(Command::$variant $({ $($field),* })? => {
                        $($(LineArg::write_arg($field, f)?;)*)?
                    })*
                }
                Ok(())
            }
        }
    };
}

command_table! {
    /// Store a value under a key, locally and on the k closest peers.
    Put {
        /// The key.
        key: UserKey,
        /// The value (see the quoting rules).
        value: String,
        /// How many peers must confirm.
        quorum: Quorum,
    } => {
        name: "put",
        aliases: ["set"],
        usage: "put KEY VALUE [--quorum N|all]",
        help: "store VALUE under KEY here and on the k closest peers",
        parse: parse::put,
    },
    /// Look a key up in the DHT.
    Get {
        /// The key.
        key: UserKey,
        /// How many copies to wait for.
        quorum: Quorum,
    } => {
        name: "get",
        aliases: [],
        usage: "get KEY [--quorum N|all]",
        help: "look KEY up in the DHT; all distinct values found are shown",
        parse: parse::get,
    },
    /// Announce this node as a provider of a key.
    Provide {
        /// The key.
        key: UserKey,
    } => {
        name: "provide",
        aliases: [],
        usage: "provide KEY",
        help: "announce this node as a provider of KEY (a CID: Qm.../baf... or cid:...)",
        parse: |args| args.content_key_only(|key| Command::Provide { key }),
    },
    /// Find the providers of a key.
    Providers {
        /// The key.
        key: UserKey,
    } => {
        name: "providers",
        aliases: [],
        usage: "providers KEY",
        help: "find the providers of KEY (a CID: Qm.../baf... or cid:...)",
        parse: |args| args.content_key_only(|key| Command::Providers { key }),
    },
    /// Follow one lookup through the network, request by request.
    Trace {
        /// What to look for.
        target: TraceArg,
        /// Where to write its picture.
        svg: SvgPath,
    } => {
        name: "trace",
        aliases: [],
        usage: "trace KEY | trace --peer PEER_ID | trace --providers KEY [--svg FILE]",
        help: "run a lookup through the network (never the local store): every round, peer asked, XOR distance, answer",
        parse: crate::command::trace::parse,
    },
    /// List the connected peers.
    Peers => {
        name: "peers",
        aliases: [],
        usage: "peers",
        help: "connected peers and their addresses",
        parse: |args| args.none(Command::Peers),
    },
    /// Show this node's identity and addresses.
    Id => {
        name: "id",
        aliases: [],
        usage: "id",
        help: "this node's peer ID and full listen addresses",
        parse: |args| args.none(Command::Id),
    },
    /// Show the routing table.
    Routing {
        /// Where to write its picture (the Kademlia paper's binary tree).
        svg: SvgPath,
    } => {
        name: "routing",
        aliases: [],
        usage: "routing [--svg FILE]",
        help: "the routing table, k-bucket by k-bucket; --svg draws it as the paper's binary tree",
        parse: crate::command::trace::parse_routing,
    },
    /// The closest known peers to a key.
    Closest {
        /// The key.
        key: UserKey,
    } => {
        name: "closest",
        aliases: [],
        usage: "closest KEY",
        help: "the k closest known peers to KEY: distance, common prefix",
        parse: |args| args.key_only(|key| Command::Closest { key }),
    },
    /// Connect to a peer.
    Dial {
        /// Where: an address, or a peer ID to find in the DHT.
        target: DialTarget,
    } => {
        name: "dial",
        aliases: [],
        usage: "dial ADDR|PEER_ID",
        help: "connect to a peer: an address (multiaddr, host:port, ...) or a peer ID found in the DHT",
        parse: parse::dial,
    },
    /// Dial the bootstrap peers again and refresh the routing table.
    Bootstrap => {
        name: "bootstrap",
        aliases: [],
        usage: "bootstrap",
        help: "dial the bootstrap peers and refresh the routing table",
        parse: |args| args.none(Command::Bootstrap),
    },
    /// Show the node's counters.
    Stats => {
        name: "stats",
        aliases: [],
        usage: "stats",
        help: "counters: connections, routing table, records, queries",
        parse: |args| args.none(Command::Stats),
    },
    /// Tell whether the node can do its job.
    Health => {
        name: "health",
        aliases: [],
        usage: "health",
        help: "whether this node can do its job: event loop, peers, store writes (fails when not)",
        parse: |args| args.none(Command::Health),
    },
    /// Remove a record from this node's store only.
    Delete {
        /// The key.
        key: UserKey,
    } => {
        name: "delete",
        aliases: [],
        usage: "delete KEY",
        help: "remove KEY's record from this node's store only (copies on other peers stay)",
        parse: |args| args.key_only(|key| Command::Delete { key }),
    },
    /// Compact the record store's database file.
    Compact => {
        name: "compact",
        aliases: [],
        usage: "compact",
        help: "compact the record store's database file; sizes before and after",
        parse: |args| args.none(Command::Compact),
    },
    /// Back the store and identity up into a new directory.
    Backup {
        /// The new directory.
        dir: String,
    } => {
        name: "backup",
        aliases: [],
        usage: "backup DIR",
        help: "write a consistent copy of the record store and identity key into the new directory DIR",
        parse: |args| args.one_word(|dir| Command::Backup { dir }),
    },
    /// Show the settings the node runs with.
    Config => {
        name: "config",
        aliases: [],
        usage: "config",
        help: "the settings this node runs with (flags, environment, defaults)",
        parse: |args| args.none(Command::Config),
    },
    /// Change the log filter.
    LogLevel {
        /// The level or filter.
        level: String,
    } => {
        name: "log-level",
        aliases: [],
        usage: "log-level LEVEL",
        help: "change the log filter now: error, warn, info, debug, trace, or e.g. p2pnode=debug,info",
        parse: |args| args.one_word(|level| Command::LogLevel { level }),
    },
    /// List the commands.
    Help => {
        name: "help",
        aliases: ["?"],
        usage: "help",
        help: "this list",
        parse: |_| Ok(Command::Help),
    },
    /// Shut the node down.
    Quit => {
        name: "quit",
        aliases: ["exit"],
        usage: "quit",
        help: "shut down; Ctrl-D does too",
        parse: |args| args.none(Command::Quit),
    },
}

impl Command {
    /// The command's name: the JSON `"cmd"` and the metrics label.
    pub fn name(&self) -> &'static str {
        self.spec().name
    }
}

/// The row whose name or alias is `word` (any case).
pub fn lookup(word: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|spec| {
        spec.name.eq_ignore_ascii_case(word)
            || spec.aliases.iter().any(|a| a.eq_ignore_ascii_case(word))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_are_unique_and_lower_case() {
        let mut words: Vec<&str> = COMMANDS
            .iter()
            .flat_map(|s| std::iter::once(s.name).chain(s.aliases.iter().copied()))
            .collect();
        assert!(words.iter().all(|w| *w == w.to_lowercase()));
        let n = words.len();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), n);
    }

    #[test]
    fn every_row_names_its_own_command() {
        for spec in COMMANDS {
            let usage_word = spec.usage.split(' ').next();
            assert_eq!(usage_word, Some(spec.name));
            assert!(std::ptr::eq(lookup(spec.name).unwrap(), spec));
        }
        assert_eq!(Command::Peers.name(), "peers");
        assert_eq!(lookup("SET").map(|s| s.name), Some("put"));
        assert_eq!(lookup("?").map(|s| s.name), Some("help"));
        assert_eq!(lookup("exit").map(|s| s.name), Some("quit"));
        assert!(lookup("frobnicate").is_none());
    }
}
