//! Logs: tracing to stderr (or above the prompt on a terminal, see
//! [`crate::terminal::log`]), as text or as JSON lines (`--log-format
//! json`: one object per event, with `timestamp`, `level`, `target`,
//! `message` and the event's fields), and a filter that the `log-level`
//! command changes while the node runs (tracing-subscriber's reload layer).
//! Either way one event is one line: a newline inside a message is written
//! as `\n` (see [`crate::terminal::log::LogLine`]).

use std::sync::OnceLock;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, fmt, reload};

use crate::terminal::log::LogWriter;

/// The target of the start-up events the banner repeats (identity, store
/// opened, listen addresses, how the node joins): a terminal's default
/// filter leaves them out, as the banner right under them says the same;
/// log files and `docker logs` keep them.
pub const STARTUP: &str = "p2pnode::startup";

/// Logs on a terminal when `RUST_LOG` is unset: p2pnode's own news (joined,
/// lost peers, refused records) and any library's errors, not the libraries'
/// routine warnings, nor the start-up events the banner repeats
/// ([`STARTUP`]) unless they warn.
pub const TERMINAL_LOG: &str = "p2pnode=info,p2pnode::startup=warn,error";

/// Logs elsewhere (files, `docker logs`, journald) when `RUST_LOG` is unset.
pub const DEFAULT_LOG: &str = "info";

/// The line editor's own logs, never shown: printed above its own prompt,
/// each line would cause the next.
const QUIET_EDITOR: &str = "rustyline=off";

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON object per line (for log collectors).
    Json,
}

/// The handle that changes the filter of the subscriber [`init`] installed.
static RELOAD: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();

/// Why the log level could not be changed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum LevelError {
    /// This process's logging was not set up by [`init`] (a library user's).
    #[error("the log level of this process is not managed by p2pnode")]
    NotManaged,
    /// Not a level or filter.
    #[error(
        "not a log level or filter: {spec:?} ({reason}); try info, debug, or p2pnode=debug,info"
    )]
    Invalid {
        /// What was given.
        spec: String,
        /// Why it does not parse.
        reason: String,
    },
}

fn filter(spec: &str) -> Result<EnvFilter, LevelError> {
    let invalid = |reason: String| LevelError::Invalid {
        spec: spec.to_string(),
        reason,
    };
    let quiet = QUIET_EDITOR.parse().map_err(|e| invalid(format!("{e}")))?;
    EnvFilter::builder()
        .parse(spec)
        .map(|f| f.add_directive(quiet))
        .map_err(|e| invalid(e.to_string()))
}

/// The filter to start with: `RUST_LOG` when it says something, else
/// `default`. An empty `RUST_LOG` (`export RUST_LOG=` in a shell profile)
/// counts as unset, as it does for `env_logger`.
fn initial_spec(rust_log: Option<String>, default: &str) -> String {
    rust_log
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// Installs the process's subscriber: `RUST_LOG` if set (and not empty),
/// else `default`; text (with colours when `ansi`) or JSON lines. Does
/// nothing when a subscriber is already installed.
pub fn init(format: LogFormat, default: &str, ansi: bool) {
    let spec = initial_spec(std::env::var("RUST_LOG").ok(), default);
    let initial = filter(&spec).or_else(|_| filter(default));
    let Ok(initial) = initial else {
        return;
    };
    let (layer, handle) = reload::Layer::new(initial);
    let registry = tracing_subscriber::registry().with(layer);
    let installed = match format {
        LogFormat::Text => registry
            .with(fmt::layer().with_writer(LogWriter).with_ansi(ansi))
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_writer(LogWriter),
            )
            .try_init(),
    };
    if installed.is_ok() {
        let _ = RELOAD.set(handle);
    }
}

/// Replaces the log filter (`info`, `debug`, `p2pnode=debug,warn`, ...);
/// returns the filter now in force.
pub fn set_level(spec: &str) -> Result<String, LevelError> {
    let handle = RELOAD.get().ok_or(LevelError::NotManaged)?;
    let new = filter(spec)?;
    let shown = new.to_string();
    handle.reload(new).map_err(|_| LevelError::NotManaged)?;
    Ok(shown)
}

/// The log filter in force, when p2pnode manages this process's logging.
pub fn current() -> Option<String> {
    RELOAD.get()?.with_current(ToString::to_string).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_filters_parse_and_nonsense_is_named() {
        assert!(filter("debug").is_ok());
        assert!(filter("p2pnode=debug,libp2p_swarm=warn,info").is_ok());
        let e = filter("p2pnode=loud").unwrap_err();
        assert!(e.to_string().contains("p2pnode=loud"), "{e}");
        assert!(!e.to_string().contains('\n'));
    }

    #[test]
    fn a_terminal_leaves_out_what_the_banner_says() {
        assert!(TERMINAL_LOG.contains(&format!("{STARTUP}=warn")));
        assert!(filter(TERMINAL_LOG).is_ok() && filter(DEFAULT_LOG).is_ok());
    }

    #[test]
    fn an_empty_rust_log_is_no_filter_at_all() {
        assert_eq!(initial_spec(None, "warn"), "warn");
        assert_eq!(initial_spec(Some(String::new()), "warn"), "warn");
        assert_eq!(initial_spec(Some("  ".into()), "warn"), "warn");
        assert_eq!(initial_spec(Some("debug".into()), "warn"), "debug");
    }
}
