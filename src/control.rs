//! The control socket: a Unix socket in the data directory (owner-only)
//! through which `p2pnode ctl` hands one command line to the running node
//! and prints its reply. It is how a node without a terminal (a service, a
//! detached container) is driven, and what the container health check asks.
//!
//! Wire format: the client sends one JSON line `{"args": [...], "json": bool}`
//! with `ctl`'s arguments as a list, so their boundaries survive (each is one
//! token: `ctl put "my key" hello` puts key `my key`); the node answers one
//! JSON line `{"ok": bool, "text": "..."}`, where `text` is the reply rendered
//! as the REPL would, and closes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;
use tracing::{debug, warn};

use crate::command::{self, Command};
use crate::error::StartError;
use crate::network::Client;
use crate::output::Format;

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
    args: Vec<String>,
    json: bool,
}

/// Why `ctl` got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Nothing listens on the socket.
    #[error("no running node answers on {} ({source}); start one with this --data-dir", .path.display())]
    NoNode {
        /// The socket.
        path: PathBuf,
        /// Why the connection failed.
        source: std::io::Error,
    },
    /// The conversation broke off.
    #[error("talking to the node failed: {0}")]
    Io(#[from] std::io::Error),
    /// The node's answer is not what this `ctl` understands.
    #[error("bad answer from the node: {0}")]
    BadAnswer(#[from] serde_json::Error),
    /// No answer in time.
    #[error("the node did not answer within {}", humantime::format_duration(*.0))]
    Timeout(Duration),
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
        Ok(request) => {
            let reply = command::reply_to(client, Command::from_args(&request.args)).await;
            if reply.is_quit() {
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

/// Sends one command, as its argument list, to the node on `data_dir` and
/// returns its answer.
pub async fn request(
    data_dir: &Path,
    args: &[String],
    json: bool,
    timeout: Duration,
) -> Result<Response, ControlError> {
    let path = socket_path(data_dir);
    let work = async {
        let stream = UnixStream::connect(&path)
            .await
            .map_err(|source| ControlError::NoNode {
                path: path.clone(),
                source,
            })?;
        let (read, mut write) = stream.into_split();
        let args = match std::env::current_dir() {
            Ok(cwd) => command::trace::absolute_paths(args, &cwd),
            Err(_) => args.to_vec(),
        };
        let mut req = serde_json::to_string(&Request { args, json })?;
        req.push('\n');
        write.write_all(req.as_bytes()).await?;
        let mut answer = String::new();
        BufReader::new(read).read_line(&mut answer).await?;
        Ok(serde_json::from_str::<Response>(&answer)?)
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| ControlError::Timeout(timeout))?
}
