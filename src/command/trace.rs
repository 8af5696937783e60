//! `trace KEY | trace --peer PEER_ID | trace --providers KEY [--svg FILE]`
//! and `routing [--svg FILE]`: their arguments, how they are written back,
//! and how they run (the lookup or the routing table, then the picture
//! written when `--svg` asks for one).

use std::fmt;
use std::path::{Path, PathBuf};

use libp2p::PeerId;

use crate::command::ParseError;
use crate::command::parse::{Args, LineArg};
use crate::command::table::Command;
use crate::keys::UserKey;
use crate::network::Client;
use crate::output::{Body, Picture, Reply, svg};
use crate::quote::quote;
use crate::reports::trace::TraceTarget;

/// The option that asks for a picture.
pub const SVG_OPTION: &str = "--svg";
const PEER_OPTION: &str = "--peer";
const PROVIDERS_OPTION: &str = "--providers";

/// What `trace` was asked to look for, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceArg {
    /// `trace KEY`: a record (GET_VALUE).
    Value(UserKey),
    /// `trace --peer PEER_ID`: a peer (FIND_NODE).
    Peer(PeerId),
    /// `trace --providers KEY`: provider records (GET_PROVIDERS).
    Providers(UserKey),
}

impl TraceArg {
    /// What the node whose peer ID is `local` looks for (`@self/..` keys
    /// are its own).
    pub fn target(&self, local: &PeerId) -> TraceTarget {
        match self {
            TraceArg::Value(k) => TraceTarget::Value(k.record_key(local)),
            TraceArg::Peer(p) => TraceTarget::Peer(*p),
            TraceArg::Providers(k) => TraceTarget::Providers(k.record_key(local)),
        }
    }
}

impl LineArg for TraceArg {
    fn write_arg(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceArg::Value(k) => write!(f, " {k}"),
            TraceArg::Peer(p) => write!(f, " {PEER_OPTION} {p}"),
            TraceArg::Providers(k) => write!(f, " {PROVIDERS_OPTION} {k}"),
        }
    }

    fn as_key(&self) -> Option<&UserKey> {
        match self {
            TraceArg::Value(k) | TraceArg::Providers(k) => Some(k),
            TraceArg::Peer(_) => None,
        }
    }
}

/// Where `--svg` asks for a picture to be written, if anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SvgPath(pub Option<PathBuf>);

impl LineArg for SvgPath {
    fn write_arg(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(p) => write!(f, " {SVG_OPTION} {}", quote(&p.to_string_lossy())),
            None => Ok(()),
        }
    }
}

fn svg_option(args: &mut Args) -> Result<SvgPath, ParseError> {
    let path = args.take_option(SVG_OPTION, "a FILE to write the picture to")?;
    Ok(SvgPath(path.map(PathBuf::from)))
}

/// `trace KEY | trace --peer PEER_ID | trace --providers KEY [--svg FILE]`.
pub(crate) fn parse(mut args: Args) -> Result<Command, ParseError> {
    let svg = svg_option(&mut args)?;
    let target = if args.take_flag(PEER_OPTION) {
        let text = args.next()?.text;
        let peer = text
            .parse()
            .map_err(|e: libp2p::identity::ParseError| ParseError::PeerId {
                text: text.clone(),
                reason: e.to_string(),
            })?;
        TraceArg::Peer(peer)
    } else if args.take_flag(PROVIDERS_OPTION) {
        // A provider key may be a CID, as `providers` takes it.
        TraceArg::Providers(crate::keys::UserKey::parse_content(&args.next()?.text)?)
    } else {
        TraceArg::Value(args.key()?)
    };
    args.end(Command::Trace { target, svg })
}

/// `routing [--svg FILE]`.
pub(crate) fn parse_routing(mut args: Args) -> Result<Command, ParseError> {
    let svg = svg_option(&mut args)?;
    args.end(Command::Routing { svg })
}

/// `ctl`'s arguments with a relative `--svg FILE` made absolute against
/// `cwd`, so the node writes the file where the person running `ctl` is.
pub fn absolute_paths(args: &[String], cwd: &Path) -> Vec<String> {
    let mut out = args.to_vec();
    for i in 1..out.len() {
        if out[i - 1] == SVG_OPTION && Path::new(&out[i]).is_relative() {
            out[i] = cwd.join(&out[i]).to_string_lossy().into_owned();
        }
    }
    out
}

/// Runs `trace`, writing its picture when asked.
pub(crate) async fn apply(client: &Client, name: &str, target: TraceArg, svg: SvgPath) -> Reply {
    let key = LineArg::as_key(&target).cloned();
    let result = client.trace(target.target(&client.peer_id())).await;
    let picture = match (&result, svg.0) {
        (Ok(report), Some(path)) => Some(Picture::write(path, &svg::trace(report)).await),
        _ => None,
    };
    Reply::new(
        name,
        key,
        result.map(|t| Body::Trace(Box::new(t))).map_err(Into::into),
    )
    .with_picture(picture)
}

/// Runs `routing`, writing its picture when asked.
pub(crate) async fn routing(client: &Client, name: &str, svg: SvgPath) -> Reply {
    let result = client.routing().await;
    let picture = match (&result, svg.0) {
        (Ok(buckets), Some(path)) => match client.info().await {
            Ok(info) => Some(Picture::write(path, &svg::routing(&info, buckets)).await),
            Err(e) => return Reply::new(name, None, Err(e.into())),
        },
        _ => None,
    };
    Reply::new(name, None, result.map(Body::Routing).map_err(Into::into)).with_picture(picture)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn p(line: &str) -> Result<Command, ParseError> {
        Command::from_str(line)
    }

    #[test]
    fn trace_forms_parse_and_read_back() {
        let peer = PeerId::random();
        let lines = [
            "trace greeting".to_string(),
            "trace \"my key\" --svg out.svg".to_string(),
            format!("trace --peer {peer}"),
            "trace --providers mh:x --svg \"a b.svg\"".to_string(),
            "trace \"--peer\"".to_string(),
            "routing --svg r.svg".to_string(),
            "routing".to_string(),
        ];
        for line in lines {
            let c = p(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(p(&c.to_string()), Ok(c.clone()), "{line} -> {c}");
        }
        let c = p("trace --svg t.svg k").unwrap();
        assert_eq!(
            c,
            Command::Trace {
                target: TraceArg::Value(UserKey::parse("k").unwrap()),
                svg: SvgPath(Some("t.svg".into())),
            }
        );
        assert_eq!(c.key().map(UserKey::text), Some("k"));
        let quoted = p("trace \"--peer\"").unwrap();
        assert!(matches!(
            quoted,
            Command::Trace {
                target: TraceArg::Value(_),
                ..
            }
        ));
    }

    #[test]
    fn bad_trace_lines_are_one_line_errors() {
        let usage = p("trace").unwrap_err().to_string();
        assert!(usage.starts_with("usage: trace KEY"), "{usage}");
        for (line, needle) in [
            ("trace", "usage: trace"),
            ("trace a b", "usage: trace"),
            ("trace --peer", "usage: trace"),
            ("trace --peer nope", "not a peer ID: nope"),
            ("trace --providers", "usage: trace"),
            ("trace k --svg", "--svg needs a FILE"),
            ("routing --svg", "--svg needs a FILE"),
            ("routing extra", "usage: routing"),
        ] {
            let e = p(line).unwrap_err().to_string();
            assert!(e.contains(needle), "{line}: {e}");
            assert!(!e.contains('\n'), "{line}: {e}");
        }
    }

    #[test]
    fn ctl_svg_paths_become_absolute() {
        let args: Vec<String> = ["trace", "k", "--svg", "t.svg"].map(String::from).to_vec();
        let out = absolute_paths(&args, Path::new("/home/u"));
        assert_eq!(out[3], "/home/u/t.svg");
        let abs: Vec<String> = ["routing", "--svg", "/tmp/r.svg"]
            .map(String::from)
            .to_vec();
        assert_eq!(absolute_paths(&abs, Path::new("/x")), abs);
    }
}
