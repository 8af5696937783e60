//! The scrape endpoint: a minimal HTTP/1.1 server answering `GET /metrics`
//! with the registry, in the format the scraper asks for. Prometheus asks
//! for OpenMetrics (`Accept: application/openmetrics-text`) and gets what
//! prometheus-client encodes; anything else (curl, `promtool check
//! metrics`, older scrapers) gets the Prometheus text format 0.0.4, made
//! from the same text by [`to_text_format`].

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tracing::{debug, warn};

/// Longest HTTP request head read from a scraper.
const MAX_REQUEST: usize = 8 * 1024;
/// How long one scrape connection may take.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);
/// The content type of the OpenMetrics text format.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The content type of the Prometheus text format.
const TEXT_004: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves scrapes from `listener` until `stopped` fires (or its sender is dropped).
pub(super) async fn serve(
    listener: TcpListener,
    registry: Arc<Registry>,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let registry = registry.clone();
                    tokio::spawn(async move {
                        match tokio::time::timeout(SCRAPE_TIMEOUT, answer(stream, &registry)).await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => debug!(%peer, error = %e, "metrics request failed"),
                            Err(_) => debug!(%peer, "metrics request timed out"),
                        }
                    });
                }
                Err(e) => {
                    warn!(error = %e, "metrics listener: accept failed");
                    // Out of file descriptors and the like: don't spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
}

/// Reads one request head and answers it: `GET /metrics` (or `/`) gets the
/// registry's text; anything else a 404 or 405.
async fn answer(mut stream: TcpStream, registry: &Registry) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_REQUEST {
            let status = "431 Request Header Fields Too Large";
            return respond(&mut stream, status, "text/plain", "").await;
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().unwrap_or_default().split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let openmetrics = lines.any(|l| {
        l.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("accept")
                && value.contains("application/openmetrics-text")
        })
    });
    match (method, path) {
        ("GET", "/metrics" | "/") => {
            let mut body = String::new();
            if let Err(e) = prometheus_client::encoding::text::encode(&mut body, registry) {
                let status = "500 Internal Server Error";
                return respond(&mut stream, status, "text/plain", &e.to_string()).await;
            }
            if openmetrics {
                respond(&mut stream, "200 OK", OPENMETRICS, &body).await
            } else {
                respond(&mut stream, "200 OK", TEXT_004, &to_text_format(&body)).await
            }
        }
        ("GET", _) => respond(&mut stream, "404 Not Found", "text/plain", "try /metrics\n").await,
        _ => respond(&mut stream, "405 Method Not Allowed", "text/plain", "").await,
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// OpenMetrics text as the Prometheus text format 0.0.4: a counter family
/// is named with its `_total` suffix (OpenMetrics names it without), an
/// info family becomes a gauge named `_info`, `# UNIT` and `# EOF` lines
/// go, and help texts lose the `\"` escape 0.0.4 does not have. Samples are
/// the same in both formats.
pub fn to_text_format(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    // OpenMetrics writes HELP before TYPE: the HELP line waits for the TYPE
    // line that may rename its family.
    let mut help: Option<(&str, String)> = None;
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, text) = rest.split_once(' ').unwrap_or((rest, ""));
            help = Some((name, text.replace("\\\"", "\"")));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let (new_name, new_kind) = match kind {
                "counter" => (format!("{name}_total"), "counter"),
                "info" => (format!("{name}_info"), "gauge"),
                "gaugehistogram" => (name.to_string(), "histogram"),
                "stateset" => (name.to_string(), "gauge"),
                other => (name.to_string(), other),
            };
            if let Some((_, text)) = help.take().filter(|(n, _)| *n == name) {
                out.push_str(&format!("# HELP {new_name} {text}\n"));
            }
            out.push_str(&format!("# TYPE {new_name} {new_kind}\n"));
            continue;
        }
        if let Some((name, text)) = help.take() {
            out.push_str(&format!("# HELP {name} {text}\n"));
        }
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::to_text_format;

    #[test]
    fn counters_and_info_families_get_their_0_0_4_names() {
        let om = "# HELP a_requests Requests \\\"served\\\".\n# TYPE a_requests counter\n\
                  a_requests_total{x=\"1\"} 3\n# HELP a_build Build.\n# TYPE a_build info\n\
                  a_build_info{v=\"1\"} 1\n# HELP a_time Time.\n# TYPE a_time gauge\n\
                  # UNIT a_time seconds\na_time 2.5\n# EOF\n";
        let text = to_text_format(om);
        assert_eq!(
            text,
            "# HELP a_requests_total Requests \"served\".\n# TYPE a_requests_total counter\n\
             a_requests_total{x=\"1\"} 3\n# HELP a_build_info Build.\n# TYPE a_build_info gauge\n\
             a_build_info{v=\"1\"} 1\n# HELP a_time Time.\n# TYPE a_time gauge\na_time 2.5\n"
        );
    }
}
