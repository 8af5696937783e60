//! Rendering of the operator's commands: `health`, `delete`, `compact`,
//! `backup`, `config` and `log-level`, as JSON fields and as text.

use std::fmt::Write;

use serde_json::{Map, Value, json};

use super::Body;
use crate::config::{Config, ReplMode};
use crate::health::Health;
use crate::quote::escape_controls;

fn human(d: std::time::Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn strings<T: ToString>(items: &[T]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

/// The settings in force, keyed by their flag's name.
fn settings(c: &Config) -> Value {
    json!({
        "version": crate::version::long(),
        "listen": strings(&c.listen),
        "bootstrap": strings(&c.bootstrap),
        "announce": strings(&c.announce),
        "data_dir": c.data_dir.display().to_string(),
        "ephemeral": c.ephemeral,
        "max_value_size": c.limits.max_value_bytes,
        "max_key_size": c.limits.max_key_bytes,
        "max_records": c.limits.max_records,
        "max_provider_keys": c.limits.max_provider_keys,
        "record_ttl": human(c.timings.record_ttl),
        "republish_interval": human(c.timings.republish_interval),
        "replication_interval": human(c.timings.replication_interval),
        "query_timeout": human(c.timings.query_timeout),
        "refresh_interval": human(c.timings.refresh_interval),
        "idle_timeout": human(c.timings.idle_timeout),
        "swarm_key": c.swarm_key.as_ref().map(|p| p.display().to_string()),
        "require_private": c.require_private,
        "metrics": c.metrics.map(|a| a.to_string()),
        "health_grace": human(c.health_grace),
        "log_format": format!("{:?}", c.log_format).to_lowercase(),
        "log_level": crate::logging::current(),
        "json": c.format == super::Format::Json,
        "repl": match c.repl {
            ReplMode::Auto => "auto",
            ReplMode::On => "on",
            ReplMode::Off => "off",
        },
        "control_socket": c.control_socket,
    })
}

fn health_json(h: &Health) -> Value {
    let checks: Map<String, Value> = h
        .checks
        .iter()
        .map(|c| {
            (
                c.name.to_string(),
                json!({ "ok": c.ok, "detail": c.detail }),
            )
        })
        .collect();
    json!({ "healthy": h.healthy, "checks": checks })
}

/// The JSON fields of an operator command's reply.
pub(super) fn json(body: &Body) -> Value {
    match body {
        Body::Health(h) => health_json(h),
        Body::Delete(held) => json!({ "deleted": held, "scope": "local" }),
        Body::Compact(c) => json!({ "bytes_before": c.before, "bytes_after": c.after }),
        Body::Backup(b) => json!({
            "dir": b.dir.display().to_string(),
            "records": b.records,
            "providers": b.providers,
            "peers": b.peers,
            "bytes": b.bytes,
            "identity": b.identity,
        }),
        Body::Config(c) => json!({ "config": settings(c) }),
        Body::LogLevel(filter) => json!({ "log_level": filter }),
        _ => json!({}),
    }
}

/// The text of an operator command's reply.
pub(super) fn text(body: &Body) -> String {
    match body {
        Body::Health(h) => {
            let mut s = String::from(if h.healthy { "healthy" } else { "unhealthy" });
            for c in &h.checks {
                let mark = if c.ok { "ok  " } else { "FAIL" };
                let _ = write!(s, "\n  {mark} {:<10} {}", c.name, escape_controls(&c.detail));
            }
            s
        }
        Body::Delete(true) => {
            "deleted from this node's store (local only: copies on other peers stay, and may come back by replication)".into()
        }
        Body::Delete(false) => "this node held no record under that key (nothing deleted)".into(),
        Body::Compact(c) => format!(
            "compacted the record store: {} bytes before, {} bytes after",
            c.before, c.after
        ),
        Body::Backup(b) => format!(
            "backed up {} record(s), {} provider list(s), {} saved peer(s){} into {} ({} bytes); \
             restore: start a node with --data-dir {}",
            b.records,
            b.providers,
            b.peers,
            if b.identity { " and the identity key" } else { "" },
            escape_controls(&b.dir.display().to_string()),
            b.bytes,
            escape_controls(&b.dir.display().to_string()),
        ),
        Body::Config(c) => {
            let mut s = String::from("settings in force:");
            if let Value::Object(fields) = settings(c) {
                for (k, v) in fields {
                    let v = match v {
                        Value::String(t) => t,
                        other => other.to_string(),
                    };
                    let _ = write!(s, "\n  {k:<22} {}", escape_controls(&v));
                }
            }
            s
        }
        Body::LogLevel(filter) => format!("log filter now: {}", escape_controls(filter)),
        _ => String::new(),
    }
}
