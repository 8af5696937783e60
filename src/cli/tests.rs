//! The command line into a `Config`: defaults, and every rule a flag
//! can break named by its flag.

use super::*;

/// The `Config` of a command line, or its error's text.
pub(crate) fn parse(args: &[&str]) -> Result<Config, String> {
    let cli = Cli::try_parse_from(std::iter::once("p2pnode").chain(args.iter().copied()))
        .map_err(|e| e.to_string())?;
    cli.node.into_config().map_err(|e| e.to_string())
}

#[test]
fn defaults_listen_on_tcp_and_quic() {
    let c = parse(&[]).unwrap();
    assert_eq!(c.listen.len(), 2);
    let p = parse(&["--port", "4002"]).unwrap();
    assert!(p.listen[0].to_string().ends_with("/tcp/4002"));
    assert!(parse(&["--port", "1", "--listen", "/ip4/127.0.0.1/tcp/0"]).is_err());
    assert_eq!(c.limits.max_value_bytes, 65536);
}

#[test]
fn bootstrap_flag_accepts_lists_and_names_bad_entries() {
    let c = parse(&["--bootstrap", "node1,node2:9", "--bootstrap", "127.0.0.1:1"]).unwrap();
    assert_eq!(c.bootstrap.len(), 3);
    let e = parse(&["--bootstrap", "/ip4/nope"]).unwrap_err();
    assert!(e.contains("/ip4/nope"), "{e}");
}

#[test]
fn lifecycle_intervals_must_nest() {
    // Republishing is its own job: it may run more often than replication.
    parse(&["--republish-interval", "10s", "--record-ttl", "1m"]).unwrap();
    let e = parse(&[
        "--record-ttl",
        "2s",
        "--republish-interval",
        "2s",
        "--replication-interval",
        "1s",
    ])
    .unwrap_err();
    assert!(e.contains("--record-ttl"), "{e}");
    parse(&[
        "--record-ttl",
        "3s",
        "--republish-interval",
        "2s",
        "--replication-interval",
        "1s",
    ])
    .unwrap();
}

#[test]
fn a_swarm_key_means_tcp_only() {
    let c = parse(&["--swarm-key", "k"]).unwrap();
    assert_eq!(c.listen.len(), 1);
    assert!(!is_quic(&c.listen[0]));
    let e = parse(&[
        "--swarm-key",
        "k",
        "--listen",
        "/ip4/127.0.0.1/udp/0/quic-v1",
    ])
    .unwrap_err();
    assert!(e.contains("QUIC") && e.contains("--swarm-key"), "{e}");
    let e = parse(&[
        "--swarm-key",
        "k",
        "--bootstrap",
        "/ip4/127.0.0.1/udp/1/quic-v1",
    ])
    .unwrap_err();
    assert!(e.contains("QUIC"), "{e}");
}

#[test]
fn repl_mode_and_output_format_are_in_the_config() {
    let c = parse(&[]).unwrap();
    assert_eq!((c.repl, c.format), (ReplMode::Auto, Format::Human));
    assert_eq!(parse(&["--no-repl"]).unwrap().repl, ReplMode::Off);
    assert_eq!(parse(&["--no-repl=true"]).unwrap().repl, ReplMode::Off);
    assert_eq!(parse(&["--no-repl=false"]).unwrap().repl, ReplMode::On);
    assert_eq!(parse(&["--json"]).unwrap().format, Format::Json);
    assert!(parse(&["--no-repl=maybe"]).is_err());
}

#[test]
fn zero_limits_and_durations_name_their_flag() {
    let e = parse(&["--max-key-size", "0"]).unwrap_err();
    assert_eq!(e, "--max-key-size must be at least 1");
    let e = parse(&["--query-timeout", "0s"]).unwrap_err();
    assert_eq!(e, "--query-timeout must be longer than zero");
}

#[test]
fn kad_protocols_come_from_kad_protocol_and_lan() {
    use crate::dht::protocols::{IPFS, IPFS_LAN};
    assert_eq!(parse(&[]).unwrap().kad_protocols.names(), [IPFS]);
    assert_eq!(
        parse(&["--lan"]).unwrap().kad_protocols.names(),
        [IPFS_LAN, IPFS]
    );
    let c = parse(&["--kad-protocol", "/a/kad/1.0.0,/b/kad/1.0.0"]).unwrap();
    assert_eq!(c.kad_protocols.to_string(), "/a/kad/1.0.0, /b/kad/1.0.0");
    let e = parse(&["--kad-protocol", "mynet"]).unwrap_err();
    assert!(e.starts_with("--kad-protocol \"mynet\""), "{e}");
}

#[test]
fn bad_listen_multiaddr_is_rejected() {
    assert!(parse(&["--listen", "not-an-addr"]).is_err());
}
