//! The pictures `--svg FILE` writes, composed with the `svg` crate (which
//! escapes text; no browser or C library involved):
//! - [`trace`]: a lookup, rounds left to right, peers placed by their XOR
//!   distance to the target, arrows to the closer peers each one returned;
//! - [`routing`]: the routing table as the binary tree of the Kademlia
//!   paper (figure 1), this node's k-buckets hanging off its own path.
//!
//! Every peer drawn is one `<g>` element with a `data-peer` attribute (its
//! peer ID) and a `<title>` (shown on hover), so tests and scripts can find
//! it; text from users (keys) is shown with control characters escaped.

mod lanes;
mod routing;
mod trace;
mod trace_frame;

use std::path::PathBuf;

use libp2p::PeerId;
use svg::node::element::{Definitions, Marker, Path, Rectangle, Style, Text};

pub use routing::routing;
pub use trace::trace;

/// A picture a command wrote, or why it could not.
#[derive(Debug)]
pub struct Picture {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes, or why it was not written.
    pub written: Result<usize, String>,
}

impl Picture {
    /// Writes `svg` to `path`.
    pub async fn write(path: PathBuf, svg: &str) -> Picture {
        let written = tokio::fs::write(&path, svg)
            .await
            .map(|()| svg.len())
            .map_err(|e| e.to_string());
        Picture { path, written }
    }
}

/// `text` with a line saying where the picture went (nothing more when it
/// failed: the reply's error says so).
pub(super) fn with_note(text: String, p: &Picture) -> String {
    match &p.written {
        Ok(bytes) => format!(
            "{text}\npicture written to {} ({bytes} bytes)",
            crate::quote::escape_controls(&p.path.display().to_string())
        ),
        Err(_) => text,
    }
}

/// The style sheet both pictures use.
const STYLE: &str = "
text { font-family: 'DejaVu Sans', Verdana, Arial, sans-serif; fill: #222; }
.title { font-size: 19px; font-weight: bold; }
.subtitle { font-size: 13px; fill: #555; }
.head { font-size: 14px; font-weight: bold; text-anchor: middle; }
.note { font-size: 12px; fill: #666; }
.label { font-size: 12px; }
.mono { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 12px; }
.axis { font-size: 12px; fill: #555; text-anchor: end; }
.mono, .note, .label { paint-order: stroke; stroke: #ffffff; stroke-width: 3px; stroke-linejoin: round; }
.band { fill: #f3f6fa; }
.grid { stroke: #d5dbe3; stroke-width: 1; }
.edge { stroke: #6b7a90; stroke-width: 1.4; fill: none; opacity: 0.75; }
.edge.learned { stroke-dasharray: 4 3; opacity: 0.45; }
.edge.start { stroke: #2e9e62; stroke-dasharray: 2 3; opacity: 0.8; }
.answered circle { fill: #4a7fc1; stroke: #1f4f8f; stroke-width: 1.5; }
.holder circle { fill: #f0a830; stroke: #a86a00; stroke-width: 2.5; }
.failed circle { fill: #e15a5a; stroke: #9b1c1c; stroke-width: 1.5; }
.pending circle { fill: #bbbbbb; stroke: #777; stroke-width: 1.5; }
.learned circle { fill: #ffffff; stroke: #8a96a8; stroke-width: 1.5; stroke-dasharray: 2 2; }
.self circle, circle.self { fill: #2e9e62; stroke: #17643c; stroke-width: 2; }
.tree { stroke: #444; stroke-width: 2; fill: none; }
.path { stroke: #2e9e62; stroke-width: 4; fill: none; }
.bucket { fill: #eef3fa; stroke: #4a7fc1; stroke-width: 1.5; }
.bucket.empty { fill: #fafafa; stroke: #c3c3c3; stroke-dasharray: 5 4; }
.peer circle { fill: #4a7fc1; stroke: #1f4f8f; stroke-width: 1.5; }
.peer.disconnected circle { fill: #ffffff; }
.bit { font-size: 12px; fill: #444; font-weight: bold; }
";

/// The document's common parts: white background, style, arrowheads.
fn document(width: f64, height: f64) -> svg::Document {
    let arrow = Marker::new()
        .set("id", "arrow")
        .set("viewBox", "0 0 10 10")
        .set("refX", 9)
        .set("refY", 5)
        .set("markerWidth", 7)
        .set("markerHeight", 7)
        .set("orient", "auto-start-reverse")
        .add(
            Path::new()
                .set("d", "M 0 0 L 10 5 L 0 10 z")
                .set("fill", "#6b7a90"),
        );
    svg::Document::new()
        .set("width", width)
        .set("height", height)
        .set("viewBox", (0, 0, width, height))
        .add(Style::new(STYLE))
        .add(Definitions::new().add(arrow))
        .add(
            Rectangle::new()
                .set("width", "100%")
                .set("height", "100%")
                .set("fill", "#ffffff"),
        )
}

/// A text element of class `class` at (x, y).
fn text(x: f64, y: f64, class: &str, content: impl Into<String>) -> Text {
    Text::new(content.into())
        .set("x", x)
        .set("y", y)
        .set("class", class)
}

/// A peer ID shortened to its last six characters (those differ; the
/// first ones are the same for every ed25519 key).
fn short(peer: &PeerId) -> String {
    format!("…{}", crate::reports::short(peer))
}

/// User text made safe for XML (no control characters).
fn safe(s: &str) -> String {
    crate::quote::escape_controls(s).into_owned()
}
