//! `--metrics ADDR`: a node serves Prometheus (OpenMetrics) text on that
//! address, scraped here over a real socket on 127.0.0.1 while two
//! in-process nodes connect, route and store. The binary's side (the
//! `metrics` event with the bound port, off by default, a clear error for
//! an unusable address) is tested end to end.

use std::time::Duration;

use p2pnode_testkit::{Ask, Binary, Net, NodeExt, Opts, eventually_async};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));
const WAIT: Duration = Duration::from_secs(30);

/// One HTTP GET; the status line and the body.
async fn http_get(addr: &str, path: &str) -> (String, String) {
    let exchange = async {
        let mut s = TcpStream::connect(addr).await?;
        // As Prometheus asks: OpenMetrics (anything else gets the 0.0.4 text).
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/openmetrics-text; version=1.0.0\r\n\r\n"
        );
        s.write_all(request.as_bytes()).await?;
        let mut text = String::new();
        s.read_to_string(&mut text).await?;
        Ok::<_, std::io::Error>(text)
    };
    let text = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .expect("the metrics server answers in time")
        .expect("an HTTP exchange with the metrics address");
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
async fn scrape_until(addr: &str, pred: impl Fn(&str) -> bool) -> String {
    eventually_async(WAIT, || async {
        let (status, body) = http_get(addr, "/metrics").await;
        assert!(status.contains("200"), "{status}");
        if pred(&body) {
            Ok(body)
        } else {
            Err(format!("metrics never matched; last scrape:\n{body}"))
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_and_follow_the_node() {
    let mut net = Net::new();
    let local = "127.0.0.1:0".parse().expect("a socket address");
    let a = net.spawn(|c| c.metrics = Some(local)).await;
    let addr = a.metrics_addr.expect("a metrics address").to_string();
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );
    // The stats command tells the same address.
    let stats = a.cmd("stats").await;
    assert_eq!(stats["metrics"], addr.as_str(), "{stats}");

    let mut b = net.join(&a, |_| {}).await;
    b.wait_routing(1, WAIT).await;
    let put = a.cmd("put metrics-key metrics-value").await;
    assert_eq!(put["ok"], true, "{put}");
    let got = b.cmd("get metrics-key").await;
    assert_eq!(got["value"], "metrics-value", "{got}");
    a.cmd("get metrics-key").await;

    let body = scrape_until(&addr, |body| {
        sample(body, "p2pnode_routing_table_peers") == Some(1.0)
            && sample(body, "p2pnode_connected_peers") == Some(1.0)
            && sample(body, "p2pnode_records_stored").is_some_and(|r| r >= 1.0)
    })
    .await;
    // Commands served, by command (the stats above, the put and the get).
    assert_eq!(
        sample(
            &body,
            r#"p2pnode_commands_total{command="put",outcome="ok"}"#
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(
            &body,
            r#"p2pnode_commands_total{command="get",outcome="ok"}"#
        ),
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
    for family in [
        "libp2p_swarm_connections_established_total",
        "p2pnode_dht_query_duration_seconds_bucket{le=\"0.0001\",kind=\"put\"}",
        "p2pnode_dht_query_requests_bucket{le=\"1.0\",kind=\"put\"}",
        "libp2p_identify_received_total",
    ] {
        assert!(body.contains(family), "no {family} in {body}");
    }
    assert!(
        body.trim_end().ends_with("# EOF"),
        "OpenMetrics text ends with # EOF"
    );

    // Anything but /metrics is not found; the server keeps serving.
    let (status, _) = http_get(&addr, "/nope").await;
    assert!(status.contains("404"), "{status}");
    let (status, _) = http_get(&addr, "/metrics").await;
    assert!(status.contains("200"), "{status}");
    // The routing table shrinks when the peer leaves.
    b.client.shutdown().await.expect("b is running");
    b.stopped().await;
    scrape_until(&addr, |body| {
        sample(body, "p2pnode_connected_peers") == Some(0.0)
    })
    .await;
}

#[test]
fn the_binary_prints_where_it_serves_metrics() {
    let mut a = BIN.start(Opts::default().arg("--metrics").arg("127.0.0.1:0"));
    let event = a.wait_event("metrics", WAIT);
    let addr = event["addr"].as_str().expect("addr").to_string();
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );
    let stats = a.cmd("stats");
    assert_eq!(stats["metrics"], addr.as_str(), "{stats}");
    // That address really serves the node's metrics.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (status, body) = runtime.block_on(http_get(&addr, "/metrics"));
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("p2pnode_routing_table_peers"), "{body}");
}

#[test]
fn metrics_are_off_by_default() {
    let mut a = BIN.start(Opts::default());
    let stats = a.cmd("stats");
    assert!(stats["metrics"].is_null(), "{stats}");
}

#[test]
fn an_unusable_metrics_address_is_a_clear_error() {
    // Take a port, then ask the node for it.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("tempdir");
    let metrics = format!("127.0.0.1:{port}");
    let (code, err) = BIN.run_to_exit(
        &[
            "--json",
            "--ephemeral",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--metrics",
            &metrics,
        ],
        &dir.path().join("n"),
    );
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains("metrics") && err.contains(&port.to_string()),
        "{err}"
    );
}
