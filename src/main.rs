//! The `p2pnode` binary: parse the command line, set up logging (stderr,
//! `RUST_LOG`), then run a node or `ctl`. Everything else is in the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use p2pnode::app;
use p2pnode::config::{Cli, Sub};
use p2pnode::output::Format;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    // One swarm, one event loop: a single-threaded runtime is all a node
    // needs, and it keeps memory and context switches down.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match cli.command {
        Some(Sub::Ctl(args)) => runtime.block_on(app::run_ctl(args)),
        None => {
            let json = cli.node.json;
            let no_repl = cli.node.no_repl;
            match cli.node.into_config() {
                Ok(config) => {
                    let format = if json { Format::Json } else { Format::Human };
                    let code = runtime.block_on(app::run_node(config, format, no_repl));
                    // The stdin thread may still be blocked in a read: don't wait for it.
                    runtime.shutdown_background();
                    code
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
