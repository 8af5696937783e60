//! The two things the binary does: run a node (with its command loop,
//! control socket and signal handling) and `ctl` (ask a running node).
//! Kept in the library so `main.rs` stays a thin shell.

use std::process::ExitCode;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::config::{Config, CtlArgs, default_data_dir};
use crate::network::Node;
use crate::output::{Format, listening_event, metrics_event};
use crate::terminal::Input;
use crate::{control, repl, terminal};

/// How long the command loop waits for the node to join before answering
/// the first line anyway.
const JOIN_WAIT: Duration = Duration::from_secs(15);

/// How long a graceful shutdown may take before the process exits anyway.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs a node until `quit`, EOF (unless `no_repl`), SIGINT or SIGTERM.
pub async fn run_node(config: Config, format: Format, no_repl: bool) -> ExitCode {
    let data_dir = config.data_dir.clone();
    let joining: Vec<String> = config.bootstrap.iter().map(ToString::to_string).collect();
    let control_socket = config.control_socket;
    let history = (!config.ephemeral).then(|| data_dir.join("history.txt"));
    if control_socket && let Err(e) = crate::identity::ensure_data_dir(&data_dir) {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    // Bind the control socket first: it refuses a data directory that
    // another running node already uses, before we touch its files.
    let listener = if control_socket {
        match control::bind(&data_dir).await {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        None
    };
    let mut node = match Node::spawn(config).await {
        Ok(node) => node,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let mut stdout = terminal::open_output();
    let banner = match format {
        Format::Json => {
            let mut s: String = node
                .listen_addrs
                .iter()
                .map(|a| listening_event(a) + "\n")
                .collect();
            let mode = if joining.is_empty() { "create" } else { "join" };
            s.push_str(&serde_json::json!({"event": "started", "peer_id": node.peer_id.to_string(), "mode": mode, "bootstrap": joining}).to_string());
            s.push('\n');
            if let Some(addr) = &node.metrics_addr {
                s.push_str(&metrics_event(addr));
                s.push('\n');
            }
            s
        }
        Format::Human => {
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
            if joining.is_empty() {
                s.push_str("no bootstrap peers: this node creates a new network\n");
            } else {
                s.push_str(&format!("joining through {}\n", joining.join(", ")));
            }
            if !no_repl {
                s.push_str("type 'help' for commands\n");
            }
            s
        }
    };
    let _ = stdout.write_all(banner.as_bytes()).await;
    let _ = stdout.flush().await;

    let (quit_tx, mut quit_rx) = watch::channel(false);
    if let Some(listener) = listener {
        tokio::spawn(control::serve(
            listener,
            node.client.clone(),
            quit_tx.clone(),
        ));
    }
    let client = node.client.clone();
    let repl_done = async {
        if no_repl {
            std::future::pending::<()>().await;
        }
        let input = terminal::open_input(history);
        // Lines typed meanwhile wait in the pipe or the channel, in order.
        if tokio::time::timeout(JOIN_WAIT, client.wait_joined())
            .await
            .is_err()
        {
            warn!("still joining the network; answering commands anyway");
        }
        let done = match input {
            Input::Pipe(lines) => repl::run(&client, lines, stdout, format).await,
            Input::Thread(lines) => repl::run_channel(&client, lines, stdout, format).await,
        };
        if let Err(e) = done {
            warn!(error = %e, "reading stdin or writing stdout failed");
        }
    };
    tokio::select! {
        _ = repl_done => info!("end of input: shutting down"),
        _ = quit_rx.wait_for(|q| *q) => info!("quit requested over the control socket"),
        _ = shutdown_signal() => info!("signal received: shutting down"),
        _ = node.stopped() => warn!("the node stopped"),
    }
    match tokio::time::timeout(SHUTDOWN_TIMEOUT, node.client.shutdown()).await {
        Ok(_) => {}
        Err(_) => warn!("shutdown took too long; exiting anyway"),
    }
    if control_socket {
        let _ = std::fs::remove_file(control::socket_path(&data_dir));
    }
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `p2pnode ctl`: sends the command to the running node and prints the
/// answer. Exit code 0 when the command succeeded, 1 when it failed, 2 when
/// no node answered.
pub async fn run_ctl(args: CtlArgs) -> ExitCode {
    let data_dir = args.data_dir.unwrap_or_else(default_data_dir);
    match control::request(&data_dir, &args.command, args.json, args.timeout).await {
        Ok(response) => {
            println!("{}", response.text);
            if response.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"cmd": "ctl", "ok": false, "error": e.to_string()})
                );
            }
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
