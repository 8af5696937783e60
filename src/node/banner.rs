//! What a node prints on stdout once it listens: for people, who it is,
//! where it listens, what it joins and how to talk to it; for programs
//! (`--json`), one `listening` event per address, then `started` (and
//! `metrics` with `--metrics`).

use std::path::{Path, PathBuf};

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::config::default_data_dir;
use crate::network::Node;
use crate::output::{Format, listening_event, metrics_event};

/// What the banner tells besides the node itself.
pub(super) struct Facts<'a> {
    /// The bootstrap peers, as given.
    pub bootstrap: &'a [String],
    /// Whether commands are read from stdin.
    pub reads_stdin: bool,
    /// The data directory, when `p2pnode ctl` can reach the node through it.
    pub control_dir: Option<&'a Path>,
}

/// Writes the banner and flushes it, so a prompt drawn next comes after it.
/// A stdout that cannot be written is not a reason to stop serving.
pub(super) async fn write(
    stdout: &mut (impl AsyncWrite + Unpin),
    node: &Node,
    facts: &Facts<'_>,
    format: Format,
) {
    let text = match format {
        Format::Json => json(node, facts.bootstrap),
        Format::Human => human(node, facts),
    };
    let _ = stdout.write_all(text.as_bytes()).await;
    let _ = stdout.flush().await;
}

fn json(node: &Node, bootstrap: &[String]) -> String {
    let mut s: String = node
        .listen_addrs
        .iter()
        .map(|a| listening_event(a) + "\n")
        .collect();
    let started = serde_json::json!({
        "event": "started",
        "peer_id": node.peer_id.to_string(),
        "mode": node.mode,
        "bootstrap": bootstrap,
    });
    s.push_str(&format!("{started}\n"));
    if let Some(addr) = &node.metrics_addr {
        s.push_str(&metrics_event(addr));
        s.push('\n');
    }
    s
}

fn human(node: &Node, facts: &Facts<'_>) -> String {
    let mut s = format!(
        "p2pnode {} peer id {}\n",
        env!("CARGO_PKG_VERSION"),
        node.peer_id
    );
    for a in &node.listen_addrs {
        s.push_str(&format!("listening on {a}\n"));
    }
    if let Some(addr) = &node.metrics_addr {
        s.push_str(&format!("metrics on http://{addr}/metrics\n"));
    }
    match node.mode {
        "create" => s.push_str("no bootstrap peers: this node creates a new network\n"),
        "rejoin" if facts.bootstrap.is_empty() => {
            s.push_str("rejoining the network through the peers saved at its last run\n");
        }
        "rejoin" => s.push_str(&format!(
            "rejoining the network through the peers saved at its last run and {}\n",
            facts.bootstrap.join(", ")
        )),
        _ => s.push_str(&format!("joining through {}\n", facts.bootstrap.join(", "))),
    }
    if facts.reads_stdin {
        s.push_str("type 'help' for commands\n");
    } else if let Some(dir) = facts.control_dir {
        let flag = if dir == ctl_default_dir() {
            String::new()
        } else {
            format!(" --data-dir {}", dir.display())
        };
        s.push_str(&format!(
            "not reading commands from stdin: talk to this node with `p2pnode ctl{flag} COMMAND`\n"
        ));
    }
    s
}

/// The data directory `p2pnode ctl` uses without `--data-dir`.
fn ctl_default_dir() -> PathBuf {
    std::env::var_os("P2PNODE_DATA_DIR")
        .filter(|dir| !dir.is_empty())
        .map_or_else(default_data_dir, PathBuf::from)
}
