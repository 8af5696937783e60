//! The control socket: a Unix socket in the data directory (owner-only)
//! through which `p2pnode ctl` hands one command line to the running node
//! and prints its reply. It is how a node without a terminal (a service, a
//! detached container) is driven, and what the container health check asks.
//!
//! Wire format: the client sends one JSON line `{"line": "...", "json": bool}`;
//! the node answers one JSON line `{"ok": bool, "text": "..."}`, where `text`
//! is the reply rendered as the REPL would, and closes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;
use tracing::{debug, warn};

use crate::error::StartError;
use crate::network::Client;
use crate::output::{Body, Format};
use crate::repl;

/// The socket's file name in the data directory.
pub const SOCKET_FILE: &str = "control.sock";

/// Longest request line accepted.
const MAX_REQUEST: usize = 1024 * 1024;

/// Where the control socket of the node using `data_dir` lives.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_FILE)
}

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    line: String,
    json: bool,
}

/// What the node answered to `ctl`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Response {
    /// Whether the command succeeded.
    pub ok: bool,
    /// The reply as the REPL renders it.
    pub text: String,
}

/// Binds the control socket. Fails when another live node already answers
/// on it (two nodes must not share a data directory); a stale socket file
/// left by a killed node is replaced.
pub async fn bind(data_dir: &Path) -> Result<UnixListener, StartError> {
    let path = socket_path(data_dir);
    let err = |reason: String| StartError::DataDir {
        path: data_dir.to_path_buf(),
        reason,
    };
    if path.exists() {
        if UnixStream::connect(&path).await.is_ok() {
            return Err(err(
                "another node is already running on this data directory".into(),
            ));
        }
        std::fs::remove_file(&path)
            .map_err(|e| err(format!("cannot remove stale {SOCKET_FILE}: {e}")))?;
    }
    let listener =
        UnixListener::bind(&path).map_err(|e| err(format!("cannot bind {SOCKET_FILE}: {e}")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| err(e.to_string()))?;
    }
    Ok(listener)
}

/// Serves `ctl` requests until the node stops. A `quit` request stops the
/// node: `quit` is sent on `quit_tx`.
pub async fn serve(listener: UnixListener, client: Client, quit_tx: watch::Sender<bool>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                warn!(error = %e, "control socket accept failed");
                continue;
            }
        };
        let client = client.clone();
        let quit_tx = quit_tx.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(stream, &client, &quit_tx).await {
                debug!(error = %e, "control request failed");
            }
        });
    }
}

async fn answer(
    stream: UnixStream,
    client: &Client,
    quit_tx: &watch::Sender<bool>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read.take(MAX_REQUEST as u64));
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let response = match serde_json::from_str::<Request>(&line) {
        Ok(request) => match repl::handle_line(client, &request.line).await {
            Some(reply) => {
                if matches!(reply.body, Ok(Body::Quit)) {
                    let _ = quit_tx.send(true);
                }
                let format = if request.json {
                    Format::Json
                } else {
                    Format::Human
                };
                Response {
                    ok: reply.ok(),
                    text: reply.render(format),
                }
            }
            None => Response {
                ok: false,
                text: "error: empty command".into(),
            },
        },
        Err(e) => Response {
            ok: false,
            text: format!("error: bad control request: {e}"),
        },
    };
    let mut out = serde_json::to_string(&response).map_err(std::io::Error::other)?;
    out.push('\n');
    write.write_all(out.as_bytes()).await?;
    write.shutdown().await
}

/// Sends one command line to the node on `data_dir` and returns its answer.
pub async fn request(
    data_dir: &Path,
    line: &str,
    json: bool,
    timeout: Duration,
) -> Result<Response, String> {
    let path = socket_path(data_dir);
    let work = async {
        let stream = UnixStream::connect(&path).await.map_err(|e| {
            format!(
                "no running node answers on {} ({e}); start one with this --data-dir",
                path.display()
            )
        })?;
        let (read, mut write) = stream.into_split();
        let mut req = serde_json::to_string(&Request {
            line: line.to_string(),
            json,
        })
        .map_err(|e| e.to_string())?;
        req.push('\n');
        write
            .write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut answer = String::new();
        BufReader::new(read)
            .read_line(&mut answer)
            .await
            .map_err(|e| e.to_string())?;
        serde_json::from_str::<Response>(&answer)
            .map_err(|e| format!("bad answer from the node: {e}"))
    };
    tokio::time::timeout(timeout, work).await.map_err(|_| {
        format!(
            "the node did not answer within {}",
            humantime::format_duration(timeout)
        )
    })?
}
