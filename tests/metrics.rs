//! `--metrics ADDR`: a node serves Prometheus (OpenMetrics) text on that
//! address; scraped here over a real socket on 127.0.0.1 while two nodes
//! connect, route and store.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{NodeProc, Opts};

const WAIT: Duration = Duration::from_secs(30);

/// One HTTP GET; the status line and the body.
fn http_get(addr: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the metrics address");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\n\r\n"
    )
    .expect("send request");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read response");
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

/// The value of the sample named exactly `name` (with its labels), if present.
fn sample(body: &str, name: &str) -> Option<f64> {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Scrapes until `pred` holds on the body (gauges refresh every tick).
fn scrape_until(addr: &str, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, body) = http_get(addr, "/metrics");
        assert!(status.contains("200"), "{status}");
        if pred(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "metrics never matched; last scrape:\n{body}"
        );
        // Pace the polling; the bound above is the wait.
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Reads the `metrics` event the node prints after its `listening` events.
fn metrics_addr(node: &mut NodeProc) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let v = node.next_json(deadline).expect("a metrics event");
        if v["event"] == "metrics" {
            return v["addr"].as_str().expect("addr").to_string();
        }
    }
}

#[test]
fn metrics_are_served_and_follow_the_node() {
    let mut a = NodeProc::start(Opts::default().arg("--metrics").arg("127.0.0.1:0"));
    let addr = metrics_addr(&mut a);
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );
    // The stats command tells the same address.
    let stats = a.cmd("stats");
    assert_eq!(stats["metrics"], addr.as_str(), "{stats}");

    let mut b = NodeProc::start(Opts::default().bootstrap(a.tcp_addr().to_string()));
    b.wait_routing(1, WAIT);
    let put = a.cmd("put metrics-key metrics-value");
    assert_eq!(put["ok"], true, "{put}");
    let got = b.cmd("get metrics-key");
    assert_eq!(got["value"], "metrics-value", "{got}");
    a.cmd("get metrics-key");

    let body = scrape_until(&addr, |body| {
        sample(body, "p2pnode_routing_table_peers") == Some(1.0)
            && sample(body, "p2pnode_connected_peers") == Some(1.0)
            && sample(body, "p2pnode_records_stored").is_some_and(|r| r >= 1.0)
    });
    // Commands served, by command (the stats above, the put and the get).
    assert_eq!(
        sample(&body, r#"p2pnode_commands_served_total{command="put"}"#),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, r#"p2pnode_commands_served_total{command="get"}"#),
        Some(1.0),
        "{body}"
    );
    assert!(
        sample(&body, "p2pnode_queries_started_total").is_some_and(|q| q >= 2.0),
        "{body}"
    );
    assert!(
        sample(&body, "p2pnode_requests_served_total").is_some(),
        "{body}"
    );
    // libp2p's own (connections, identify) and p2pnode's DHT query
    // durations and requests per query.
    assert!(
        body.contains("libp2p_swarm_connections_established_total"),
        "{body}"
    );
    assert!(
        body.contains("p2pnode_dht_query_duration_seconds_bucket{le=\"0.0001\",kind=\"put\"}"),
        "{body}"
    );
    assert!(
        body.contains("p2pnode_dht_query_requests_bucket{le=\"1.0\",kind=\"put\"}"),
        "{body}"
    );
    assert!(body.contains("libp2p_identify_received_total"), "{body}");
    assert!(
        body.trim_end().ends_with("# EOF"),
        "OpenMetrics text ends with # EOF"
    );

    // Anything but /metrics is not found; the server keeps serving.
    let (status, _) = http_get(&addr, "/nope");
    assert!(status.contains("404"), "{status}");
    let (status, _) = http_get(&addr, "/metrics");
    assert!(status.contains("200"), "{status}");
    // The routing table shrinks when the peer leaves.
    drop(b);
    scrape_until(&addr, |body| {
        sample(body, "p2pnode_connected_peers") == Some(0.0)
    });
}

#[test]
fn metrics_are_off_by_default() {
    let mut a = NodeProc::start(Opts::default());
    let stats = a.cmd("stats");
    assert!(stats["metrics"].is_null(), "{stats}");
}

#[test]
fn an_unusable_metrics_address_is_a_clear_error() {
    // Take a port, then ask the node for it.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let out = std::process::Command::new(common::binary())
        .args([
            "--json",
            "--ephemeral",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--metrics",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(tempfile::tempdir().expect("tempdir").path().join("n"))
        .env_remove("P2P_REMOTE_HOST")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run p2pnode");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("metrics") && err.contains(&port.to_string()),
        "{err}"
    );
}
