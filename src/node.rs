//! Running a node as the binary does: the control socket, the network, the
//! start-up banner, the command loop on stdin, and a graceful shutdown when
//! any of `quit`, EOF, `ctl quit`, the caller's shutdown future or the
//! event loop's end comes first. Errors are returned typed; the caller
//! (`main`) prints them and picks the exit code.

mod banner;

use std::future::Future;
use std::time::Duration;

use tokio::net::UnixListener;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::config::{Config, ReplMode};
use crate::error::StartError;
use crate::network::{Client, Node};
use crate::output::Format;
use crate::repl::{self, End};
use crate::terminal::{self, Input, Stdin};
use crate::{control, identity};

/// How long the command loop waits for the node to join before answering
/// the first line anyway.
const JOIN_WAIT: Duration = Duration::from_secs(15);

/// How long a graceful shutdown may take before the node gives up on it.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Why running a node failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The node could not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The event loop ended while the node was meant to be serving.
    #[error("the node's event loop stopped unexpectedly")]
    Stopped,
    /// The graceful shutdown (flushing the record store) did not finish.
    #[error(
        "shutdown did not finish within {}; records received from peers may not be on disk",
        humantime::format_duration(*.0)
    )]
    ShutdownTimedOut(Duration),
}

/// What ended the node's service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The command loop ended: EOF or `quit`.
    Input(End),
    /// `p2pnode ctl quit`.
    ControlQuit,
    /// The caller's shutdown future (signals, in `main`).
    Requested,
    /// The event loop ended by itself.
    Died,
}

/// Runs a node until `quit`, the end of its input, `ctl quit`, `shutdown`
/// completing, or its event loop ending (an error).
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), RunError> {
    let format = config.format;
    let history = config.history_file();
    let data_dir = config.data_dir.clone();
    let control_socket = config.control_socket;
    let reads_stdin = reads_stdin(config.repl);
    let listener = control_listener(&config).await?;
    crate::fd_limit::ensure(config.connections.descriptors());
    let bootstrap: Vec<String> = config.bootstrap.iter().map(ToString::to_string).collect();
    let mut node = Node::spawn(config).await?;
    let mut stdout = terminal::open_output();
    let facts = banner::Facts {
        bootstrap: &bootstrap,
        reads_stdin,
        control_dir: control_socket.then_some(data_dir.as_path()),
    };
    banner::write(&mut stdout, &node, &facts, format).await;

    // Kept alive here: with every sender gone, `wait_for` would end at once.
    let (quit_tx, quit_rx) = watch::channel(false);
    if let Some(listener) = listener {
        let client = node.client.clone();
        tokio::spawn(control::serve(listener, client, quit_tx.clone()));
    }
    // The prompt appears only now, after the banner.
    let client = node.client.clone();
    let commands = async move {
        if !reads_stdin {
            return std::future::pending().await;
        }
        command_loop(client, history, stdout, format).await
    };
    let stop = first_stop(&mut node, commands, quit_rx, shutdown).await;
    match stop {
        Stop::Input(End::Eof) => info!("end of input: shutting down"),
        Stop::Input(End::Quit) => info!("quit: shutting down"),
        Stop::ControlQuit => info!("quit requested over the control socket: shutting down"),
        Stop::Requested | Stop::Died => {}
    }
    let finished = finish(node.client.shutdown(), SHUTDOWN_TIMEOUT).await;
    if control_socket {
        let _ = std::fs::remove_file(control::socket_path(&data_dir));
    }
    match stop {
        Stop::Died => Err(RunError::Stopped),
        _ => finished,
    }
}

/// Whether the command loop reads stdin (see [`ReplMode`]).
fn reads_stdin(mode: ReplMode) -> bool {
    match mode {
        ReplMode::On => true,
        ReplMode::Off => false,
        ReplMode::Auto => Stdin::detect() != Stdin::Absent,
    }
}

/// Binds the control socket for `p2pnode ctl`, before the node touches the
/// data directory's files: it refuses a directory another running node uses.
async fn control_listener(config: &Config) -> Result<Option<UnixListener>, StartError> {
    if !config.control_socket {
        return Ok(None);
    }
    identity::ensure_data_dir(&config.data_dir)?;
    control::bind(&config.data_dir).await.map(Some)
}

/// Answers commands from stdin until EOF or `quit`. Lines typed before the
/// node has joined wait (in the pipe or the channel, in order) until it has,
/// or until [`JOIN_WAIT`] has passed.
async fn command_loop(
    client: Client,
    history: Option<std::path::PathBuf>,
    stdout: impl tokio::io::AsyncWrite + Unpin,
    format: Format,
) -> End {
    let input = terminal::open_input(history);
    if tokio::time::timeout(JOIN_WAIT, client.wait_joined())
        .await
        .is_err()
    {
        warn!("still joining the network; answering commands anyway");
    }
    let done = match input {
        Input::Pipe(lines) => repl::run(&client, lines, stdout, format).await,
        // The session restores the terminal when this future is dropped.
        Input::Thread(lines, _session) => repl::run_channel(&client, lines, stdout, format).await,
    };
    done.unwrap_or_else(|e| {
        warn!(error = %e, "reading stdin or writing stdout failed");
        End::Eof
    })
}

/// Waits for the first reason to stop. The futures that lost are dropped
/// here, before anything is logged: the terminal is back in its own mode.
async fn first_stop(
    node: &mut Node,
    commands: impl Future<Output = End>,
    mut quit_rx: watch::Receiver<bool>,
    shutdown: impl Future<Output = ()>,
) -> Stop {
    tokio::select! {
        end = commands => Stop::Input(end),
        _ = quit_rx.wait_for(|quit| *quit) => Stop::ControlQuit,
        () = shutdown => Stop::Requested,
        () = node.stopped() => Stop::Died,
    }
}

/// Waits for the graceful shutdown, at most `within`.
async fn finish<T>(shutdown: impl Future<Output = T>, within: Duration) -> Result<(), RunError> {
    tokio::time::timeout(within, shutdown)
        .await
        .map(drop)
        .map_err(|_| RunError::ShutdownTimedOut(within))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_shutdown_that_does_not_finish_in_time_is_an_error() {
        let within = Duration::from_millis(20);
        let stuck = finish(std::future::pending::<()>(), within).await;
        assert!(
            matches!(stuck, Err(RunError::ShutdownTimedOut(d)) if d == within),
            "{stuck:?}"
        );
        assert!(finish(std::future::ready(()), within).await.is_ok());
    }
}
