//! A test's view of the engine: containers of p2pnode started the way
//! p2p_setup.md tells users to, and driven with `docker exec ... p2pnode
//! ctl --json`.

use std::time::Duration;

use p2pnode_testkit::Wait;
use serde_json::Value;

use crate::LABEL;
use crate::cleanup::Resources;
use crate::engine::{docker, docker_ok, image};

/// How long a container may take to turn healthy.
const HEALTHY_TIMEOUT: Duration = Duration::from_secs(90);
/// How long the nodes may take to find each other.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a `get` may keep failing before the record counts as lost.
const GET_TIMEOUT: Duration = Duration::from_secs(90);
/// Pace of polling (each poll is a `docker` command); the timeouts bound the waits.
const POLL: Duration = Duration::from_millis(250);

/// Polls `check` until it returns `Ok`, for at most `timeout`.
fn wait_until<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Result<T, String>) -> T {
    Wait::new(timeout)
        .pace(POLL)
        .eventually(|| check().map_err(|last| format!("{what}: {last}")))
}

/// One test's view of the engine: its prefix and what it has made.
pub struct Lab {
    prefix: String,
    /// What it has made.
    pub res: Resources,
}

/// How to start one container.
pub struct Node<'a> {
    pub name: &'a str,
    pub network: &'a str,
    pub alias: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub remote: &'a str,
}

impl Lab {
    pub fn new(scenario: &str) -> Lab {
        Lab {
            prefix: format!("p2pt-{}-{scenario}", std::process::id()),
            res: Resources::default(),
        }
    }

    pub fn name(&self, part: &str) -> String {
        format!("{}-{part}", self.prefix)
    }

    pub fn label(&self) -> String {
        format!("{LABEL}={}", std::process::id())
    }

    pub fn network(&mut self, extra: &[&str]) -> String {
        let name = self.prefix.clone();
        let label = self.label();
        let mut args = vec!["network", "create", "--label", &label];
        args.extend_from_slice(extra);
        args.push(&name);
        // Registered before it exists: dropping an absent network is harmless.
        self.res.networks.push(name.clone());
        docker_ok(&args);
        name
    }

    /// Starts a node container with a named volume `<container>-data` on
    /// /data. The image's own health check runs, every 2 s instead of the
    /// image's 10 s to keep the suite short.
    pub fn start(&mut self, node: Node<'_>) {
        let volume = format!("{}-data", node.name);
        if !self.res.volumes.contains(&volume) {
            let label = self.label();
            self.res.volumes.push(volume.clone());
            docker_ok(&["volume", "create", "--label", &label, &volume]);
        }
        let label = self.label();
        let mount = format!("{volume}:/data");
        let remote = format!("P2P_REMOTE_HOST={}", node.remote);
        let mut args = vec![
            "run",
            "-d",
            "--name",
            node.name,
            "--hostname",
            node.name,
            "--label",
            &label,
            "--network",
            node.network,
            "-v",
            &mount,
            "-e",
            &remote,
            "-e",
            "RUST_LOG=info",
            "--health-interval",
            "2s",
        ];
        if let Some(alias) = node.alias {
            args.extend(["--network-alias", alias]);
        }
        if let Some(ip) = node.ip {
            args.extend(["--ip", ip]);
        }
        let image = image();
        args.push(&image);
        if !self.res.containers.iter().any(|c| c == node.name) {
            self.res.containers.push(node.name.to_string());
        }
        docker_ok(&args);
    }

    /// Starts one container per name in `parts` on `network`: the first is
    /// the seed (it creates the network, reachable as `seed`, at `seed_ip`
    /// when given), the others join it by that name, as in p2p_setup.md.
    /// Returns the containers' names.
    pub fn start_seeded(
        &mut self,
        network: &str,
        parts: &[&str],
        seed_ip: Option<&str>,
    ) -> Vec<String> {
        let names: Vec<String> = parts.iter().map(|n| self.name(n)).collect();
        for (i, name) in names.iter().enumerate() {
            let seed = i == 0;
            self.start(Node {
                name,
                network,
                alias: seed.then_some("seed"),
                ip: seed_ip.filter(|_| seed),
                remote: if seed { "" } else { "seed" },
            });
        }
        names
    }

    /// Waits until the container's health check reports healthy, failing
    /// early (with its logs) when the container exits.
    pub fn wait_healthy(&self, name: &str) {
        wait_until(&format!("{name} healthy"), HEALTHY_TIMEOUT, || {
            let state = docker_ok(&[
                "inspect",
                "--format",
                "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}}",
                name,
            ]);
            match state.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["running", "healthy"] => Ok(()),
                ["running", _] => Err(state.clone()),
                _ => {
                    let logs = docker(&["logs", "--tail", "40", name]);
                    panic!(
                        "{name} is not running ({state}): {}{}",
                        logs.stdout, logs.stderr
                    )
                }
            }
        });
        // The check really asked the node: its output is the node's own
        // account of its health (`ctl health`), every check passing.
        let log = docker_ok(&[
            "inspect",
            "--format",
            "{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}",
            name,
        ]);
        assert!(
            log.contains("healthy")
                && log.contains("ok   event_loop")
                && log.contains("ok   store"),
            "{name}: health check output: {log}"
        );
    }

    /// `docker exec NAME p2pnode ctl --json LINE...`, parsed.
    pub fn ctl(&self, name: &str, line: &[&str]) -> Result<Value, String> {
        let mut args = vec!["exec", name, "p2pnode", "ctl", "--json", "--timeout", "45s"];
        args.extend_from_slice(line);
        let out = docker(&args);
        let text = out.stdout.trim();
        serde_json::from_str::<Value>(text).map_err(|e| format!("{name}: {e}: {out}"))
    }

    pub fn peer_id(&self, name: &str) -> String {
        let v = self.ctl(name, &["id"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v["ok"], true, "{name} id: {v}");
        v["peer_id"]
            .as_str()
            .expect("peer_id in id reply")
            .to_string()
    }

    pub fn routing_size(&self, name: &str) -> Result<u64, String> {
        let v = self.ctl(name, &["routing"])?;
        v["size"]
            .as_u64()
            .ok_or_else(|| format!("{name} routing: {v}"))
    }

    /// Waits until every node has at least `n` peers in its routing table.
    pub fn wait_routing(&self, names: &[String], n: u64) {
        for name in names {
            wait_until(
                &format!("{name} routing table >= {n}"),
                CONVERGE_TIMEOUT,
                || match self.routing_size(name)? {
                    size if size >= n => Ok(()),
                    size => Err(format!("size {size}")),
                },
            );
        }
    }

    pub fn put(&self, name: &str, key: &str, value: &str) -> Value {
        let v = self
            .ctl(name, &["put", key, value])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v["ok"], true, "put {key} through {name}: {v}");
        v
    }

    /// Gets `key` through `name` until the answer is `"ok": true` with the
    /// value (a node that has just joined may need a moment to find peers).
    pub fn get(&self, name: &str, key: &str, value: &str) -> Value {
        wait_until(&format!("get {key} through {name}"), GET_TIMEOUT, || {
            let v = self.ctl(name, &["get", key])?;
            if v["ok"] == true && v["value"] == value {
                Ok(v)
            } else {
                Err(v.to_string())
            }
        })
    }

    pub fn stop(&self, name: &str) {
        docker_ok(&["stop", "--time", "10", name]);
        let state = docker_ok(&["inspect", "--format", "{{.State.Status}}", name]);
        assert_eq!(state, "exited", "{name} after docker stop");
    }

    pub fn ip_of(&self, name: &str) -> String {
        docker_ok(&[
            "inspect",
            "--format",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            name,
        ])
    }
}
