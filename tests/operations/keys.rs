//! Swarm keys on the binary: `swarm-key generate` makes a key two nodes
//! form a private network with; `--require-private` (or its variable)
//! refuses to start without one; and a key mismatch is named on both
//! sides: in the dialer's `dial` error, in the listener's log and metrics.

use p2pnode_testkit::{Ask, Opts, eventually};

use crate::common::{BIN, WAIT, log_text, sample, scrape};

pub fn generated_and_required() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let key = dir.path().join("swarm.key");
    let k = key.display().to_string();
    let out = BIN.run(&["swarm-key", "generate", "--output", &k]);
    assert!(out.ok() && out.stderr.contains("fingerprint"), "{out}");
    let again = BIN.run(&["swarm-key", "generate", "--output", &k]);
    assert!(
        again.code() == Some(1) && again.stderr.contains("never overwritten"),
        "{again}"
    );
    let text = std::fs::read_to_string(&key).expect("the key file");
    assert!(
        text.starts_with("/key/swarm/psk/1.0.0/\n/base16/\n"),
        "{text}"
    );

    let a = BIN.start(Opts::default().args(&["--swarm-key", &k, "--require-private"]));
    let mut b = BIN.start(
        Opts::default()
            .args(&["--swarm-key", &k])
            .bootstrap(a.tcp_addr()),
    );
    b.wait_routing(1, WAIT);

    let (code, err) = BIN.run_to_exit(&["--require-private"], &dir.path().join("open"));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--require-private") && err.contains("no swarm key"),
        "{err}"
    );
    let mut cmd = BIN.command();
    cmd.args([
        "--data-dir",
        &dir.path().join("open2").display().to_string(),
    ])
    .env("P2PNODE_REQUIRE_PRIVATE", "true")
    .env_remove("P2PNODE_SWARM_KEY");
    let out = p2pnode_testkit::run_bounded(cmd, WAIT);
    assert_eq!(out.code(), Some(2), "{out}");
}

pub fn mismatch() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (one, two) = (dir.path().join("one.key"), dir.path().join("two.key"));
    for k in [&one, &two] {
        assert!(
            BIN.run(&[
                "swarm-key",
                "generate",
                "--output",
                &k.display().to_string()
            ])
            .ok()
        );
    }
    let log = dir.path().join("listener.log");
    let opts = Opts::default()
        .args(&[
            "--swarm-key",
            &one.display().to_string(),
            "--metrics",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "info")
        .log_to(&log);
    let mut listener = BIN.start(opts);
    let metrics = listener.wait_event("metrics", WAIT)["addr"]
        .as_str()
        .expect("addr")
        .to_string();
    let mut other = BIN.start(Opts::default().args(&["--swarm-key", &two.display().to_string()]));
    let mut open = BIN.start(Opts::default());

    // The dialer with another key is told.
    let dial = other.cmd(&format!("dial {}", listener.tcp_addr()));
    assert_eq!(dial["ok"], false, "{dial}");
    assert!(
        dial["error"]
            .as_str()
            .is_some_and(|e| e.contains("swarm key mismatch")),
        "{dial}"
    );
    // An open node's dial: the listener tells.
    assert_eq!(
        open.cmd(&format!("dial {}", listener.tcp_addr()))["ok"],
        false
    );

    // The listener logs it (at info) and counts it.
    eventually(WAIT, || {
        let text = log_text(&log);
        if text.contains("without this network's swarm key") {
            Ok(())
        } else {
            Err(text)
        }
    });
    let name =
        r#"p2pnode_connection_errors_total{direction="incoming",cause="swarm_key_mismatch"}"#;
    eventually(WAIT, || {
        let body = scrape(&metrics);
        match sample(&body, name) {
            Some(n) if n >= 1.0 => Ok(()),
            _ => Err(body),
        }
    });
}
