//! Container suite: p2pnode as Docker containers on a user-defined bridge
//! network and on a macvlan network, driven with `docker exec ... p2pnode
//! ctl --json`, the way p2p_setup.md tells users to.
//!
//! - Needs a Docker engine. When none answers, each test prints a loud SKIP
//!   banner and returns; with `P2PNODE_REQUIRE_DOCKER=1` (CI) it fails.
//! - Uses the image `p2pnode:latest` (override: `P2PNODE_IMAGE`). When it is
//!   missing, runs `docker/build-offline.sh` first (`P2PNODE_REBUILD_IMAGE=1`
//!   rebuilds it even when present).
//! - The macvlan test creates its own parent interface (a dummy, or a veth
//!   pair where the kernel has no dummy driver): it needs root; without the
//!   permission it skips loudly (fails under `P2PNODE_REQUIRE_DOCKER=1`).
//! - Every name starts with `p2pt-<pid>` (`p2pt<pid>` for interfaces) and
//!   every Docker object is labelled `p2pnode-test=<pid>`; a [`Resources`]
//!   guard removes them all when the test ends, also when it fails, and a
//!   run first sweeps what crashed earlier runs (dead pids) left behind.
//! - Every wait is bounded; nothing sleeps in place of a readiness check.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long one `docker` command may run (image builds aside).
const DOCKER_TIMEOUT: Duration = Duration::from_secs(120);
/// How long building the image may take (a release build on 2 cores).
const BUILD_TIMEOUT: Duration = Duration::from_secs(45 * 60);
/// How long a container may take to turn healthy.
const HEALTHY_TIMEOUT: Duration = Duration::from_secs(90);
/// How long the nodes may take to find each other.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a `get` may keep failing before the record counts as lost.
const GET_TIMEOUT: Duration = Duration::from_secs(90);
/// Pace of polling loops; the timeouts above bound the waits.
const POLL: Duration = Duration::from_millis(250);
/// The image's size limit (issue 3: under 30 MB).
const MAX_IMAGE_BYTES: u64 = 30_000_000;
/// The label put on every Docker object the suite creates.
const LABEL: &str = "p2pnode-test";

fn image() -> String {
    std::env::var("P2PNODE_IMAGE").unwrap_or_else(|_| "p2pnode:latest".into())
}

fn require_docker() -> bool {
    std::env::var("P2PNODE_REQUIRE_DOCKER").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Prints a banner nobody can miss, or fails under P2PNODE_REQUIRE_DOCKER.
fn skip(test: &str, why: &str) {
    let msg = format!("SKIPPED container test `{test}`: {why}");
    assert!(!require_docker(), "{msg} (P2PNODE_REQUIRE_DOCKER is set)");
    let bar = "!".repeat(msg.len().min(100));
    loud(&format!("\n{bar}\n{msg}\n{bar}\n"));
}

/// Writes `text` where a person sees it even though the test passes: test
/// runners hide a passing test's output. `eprintln!` is captured by libtest,
/// so this writes to the process's real stderr (the terminal under `cargo
/// test`); under nextest, whose pipe that is, it also writes to nextest's
/// own stderr, through /proc.
fn loud(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(text.as_bytes());
    let parent = std::os::unix::process::parent_id();
    let comm = std::fs::read_to_string(format!("/proc/{parent}/comm")).unwrap_or_default();
    if comm.contains("nextest")
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .write(true)
            .open(format!("/proc/{parent}/fd/2"))
    {
        let _ = f.write_all(text.as_bytes());
    }
}

// ---------------------------------------------------------------------------
// Running commands with a time bound.

/// What a finished command printed.
struct Out {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}; stdout: {}; stderr: {}",
            self.code,
            self.stdout.trim(),
            self.stderr.trim()
        )
    }
}

/// Runs `program args`, killing it after `timeout`.
fn run(program: &str, args: &[&str], timeout: Duration) -> Out {
    let mut child = match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            return Out {
                ok: false,
                code: None,
                stdout: String::new(),
                stderr: format!("cannot run {program}: {e}"),
            };
        }
    };
    // Drain both pipes on threads so a chatty command cannot block on a full pipe.
    let out_t = drain(child.stdout.take());
    let err_t = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let stdout = out_t.join().unwrap_or_default();
    let mut stderr = err_t.join().unwrap_or_default();
    if status.is_none() {
        stderr.push_str(&format!(
            "\n[killed after {timeout:?}: {program} {}]",
            args.join(" ")
        ));
    }
    Out {
        ok: status.is_some_and(|s| s.success()),
        code: status.and_then(|s| s.code()),
        stdout,
        stderr,
    }
}

/// Reads a child's pipe to the end on a thread of its own.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_string(&mut s);
        }
        s
    })
}

fn docker(args: &[&str]) -> Out {
    run("docker", args, DOCKER_TIMEOUT)
}

/// Runs a docker command that must succeed.
fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    assert!(out.ok, "docker {} failed: {out}", args.join(" "));
    out.stdout.trim().to_string()
}

/// Logs a step of a test, with the time since the test began (shown when
/// a test fails, or with `--no-capture`).
fn step(started: Instant, what: &str) {
    eprintln!(
        "[containers +{:>5.1}s] {what}",
        started.elapsed().as_secs_f64()
    );
}

/// Polls `check` until it returns `Ok`, for at most `timeout`.
fn wait_until<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(v) => return v,
            Err(last) => {
                assert!(
                    Instant::now() < deadline,
                    "{what}: not done within {timeout:?}; last: {last}"
                );
                std::thread::sleep(POLL);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The engine and the image.

/// Whether a Docker engine answers; the reason when not.
fn engine() -> Result<String, String> {
    let out = run(
        "docker",
        &["info", "--format", "{{.ServerVersion}}"],
        Duration::from_secs(20),
    );
    if out.ok && !out.stdout.trim().is_empty() {
        Ok(out.stdout.trim().to_string())
    } else {
        Err(format!("no Docker engine answers ({})", out.stderr.trim()))
    }
}

fn image_present() -> bool {
    docker(&["image", "inspect", "--format", "{{.Id}}", &image()]).ok
}

static IMAGE_READY: AtomicBool = AtomicBool::new(false);

/// Builds the image with docker/build-offline.sh when it is missing. Test
/// processes run in parallel: a lock directory lets one build while the
/// others wait (a lock whose owner died is taken over).
fn ensure_image() {
    if IMAGE_READY.load(Ordering::SeqCst) {
        return;
    }
    let rebuild = std::env::var("P2PNODE_REBUILD_IMAGE").is_ok_and(|v| v == "1");
    let lock = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("p2pnode-image.lock");
    let deadline = Instant::now() + BUILD_TIMEOUT;
    loop {
        if image_present() && !rebuild {
            break;
        }
        match std::fs::create_dir(&lock) {
            Ok(()) => {
                let _ = std::fs::write(lock.join("pid"), std::process::id().to_string());
                let built = (rebuild || !image_present()).then(build_image);
                let _ = std::fs::remove_dir_all(&lock);
                if let Some(Err(e)) = built {
                    panic!("{e}");
                }
                break;
            }
            Err(_) => {
                let owner = std::fs::read_to_string(lock.join("pid")).unwrap_or_default();
                let alive = owner
                    .trim()
                    .parse::<u32>()
                    .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
                if !alive && !owner.is_empty() {
                    let _ = std::fs::remove_dir_all(&lock);
                    continue;
                }
                assert!(
                    Instant::now() < deadline,
                    "waited {BUILD_TIMEOUT:?} for another test to build the image"
                );
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
    let size: u64 = docker_ok(&["image", "inspect", "--format", "{{.Size}}", &image()])
        .parse()
        .unwrap_or(u64::MAX);
    assert!(
        size < MAX_IMAGE_BYTES,
        "the image is {size} bytes; the limit is {MAX_IMAGE_BYTES}"
    );
    IMAGE_READY.store(true, Ordering::SeqCst);
}

fn build_image() -> Result<(), String> {
    let script = repo().join("docker/build-offline.sh");
    eprintln!(
        "[containers] image {} missing: running {}",
        image(),
        script.display()
    );
    let started = Instant::now();
    let out = run(
        "bash",
        &[script.to_str().unwrap_or("docker/build-offline.sh")],
        BUILD_TIMEOUT,
    );
    if !out.ok {
        return Err(format!("docker/build-offline.sh failed: {out}"));
    }
    eprintln!("[containers] image built in {:?}", started.elapsed());
    Ok(())
}

// ---------------------------------------------------------------------------
// Cleaning up.

/// Everything one test made; removed on drop, also when the test panics.
#[derive(Default)]
struct Resources {
    containers: Vec<String>,
    volumes: Vec<String>,
    networks: Vec<String>,
    interfaces: Vec<String>,
}

impl Drop for Resources {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for c in &self.containers {
                let logs = docker(&["logs", "--tail", "30", c]);
                eprintln!("---- last logs of {c} ----\n{}{}", logs.stdout, logs.stderr);
            }
        }
        if !self.containers.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(self.containers.iter().map(String::as_str));
            let _ = docker(&args);
        }
        for v in &self.volumes {
            let _ = docker(&["volume", "rm", "-f", v]);
        }
        for n in &self.networks {
            let _ = docker(&["network", "rm", n]);
        }
        for i in &self.interfaces {
            let _ = run("ip", &["link", "del", i], Duration::from_secs(10));
        }
    }
}

/// Removes what earlier runs left behind when they were killed before their
/// guard ran: objects labelled with a pid that no longer exists.
fn sweep_leftovers() {
    let dead = |pid: &str| !Path::new(&format!("/proc/{}", pid.trim())).exists();
    let filter = format!("label={LABEL}");
    let fmt = format!("{{{{.ID}}}} {{{{.Label \"{LABEL}\"}}}}");
    for (kind, list) in [
        (
            "container",
            vec!["ps", "-a", "--filter", &filter, "--format", &fmt],
        ),
        (
            "volume",
            vec!["volume", "ls", "--filter", &filter, "--format", "{{.Name}}"],
        ),
        (
            "network",
            vec!["network", "ls", "--filter", &filter, "--format", &fmt],
        ),
    ] {
        let out = docker(&list);
        for line in out.stdout.lines() {
            let mut parts = line.split_whitespace();
            let Some(id) = parts.next() else { continue };
            let pid = match parts.next() {
                Some(pid) => pid.to_string(),
                None => {
                    docker(&[
                        "volume",
                        "inspect",
                        "--format",
                        &format!("{{{{index .Labels \"{LABEL}\"}}}}"),
                        id,
                    ])
                    .stdout
                }
            };
            if dead(&pid) {
                eprintln!(
                    "[containers] removing leftover {kind} {id} (pid {})",
                    pid.trim()
                );
                let _ = match kind {
                    "container" => docker(&["rm", "-f", "-v", id]),
                    "volume" => docker(&["volume", "rm", "-f", id]),
                    _ => docker(&["network", "rm", id]),
                };
            }
        }
    }
    let links = run("ip", &["-o", "link", "show"], Duration::from_secs(10));
    for line in links.stdout.lines() {
        let Some(name) = line.split(": ").nth(1) else {
            continue;
        };
        let name = name.split('@').next().unwrap_or(name);
        if let Some(pid) = name.strip_prefix("p2pt")
            && !pid.is_empty()
            && pid.chars().all(|c| c.is_ascii_digit())
            && dead(pid)
        {
            eprintln!("[containers] removing leftover interface {name}");
            let _ = run("ip", &["link", "del", name], Duration::from_secs(10));
        }
    }
}

// ---------------------------------------------------------------------------
// Containers and what their nodes say.

/// One test's view of the engine: its prefix and what it has made.
struct Lab {
    prefix: String,
    res: Resources,
}

/// How to start one container.
struct Node<'a> {
    name: &'a str,
    network: &'a str,
    alias: Option<&'a str>,
    ip: Option<&'a str>,
    remote: &'a str,
}

impl Lab {
    fn new(scenario: &str) -> Lab {
        Lab {
            prefix: format!("p2pt-{}-{scenario}", std::process::id()),
            res: Resources::default(),
        }
    }

    fn name(&self, part: &str) -> String {
        format!("{}-{part}", self.prefix)
    }

    fn label(&self) -> String {
        format!("{LABEL}={}", std::process::id())
    }

    fn network(&mut self, extra: &[&str]) -> String {
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
    fn start(&mut self, node: Node<'_>) {
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

    /// Waits until the container's health check reports healthy, failing
    /// early (with its logs) when the container exits.
    fn wait_healthy(&self, name: &str) {
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
        // The check really asked the node: its output is the node's `id`.
        let log = docker_ok(&[
            "inspect",
            "--format",
            "{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}",
            name,
        ]);
        assert!(
            log.contains("peer id"),
            "{name}: health check output: {log}"
        );
    }

    /// `docker exec NAME p2pnode ctl --json LINE...`, parsed.
    fn ctl(&self, name: &str, line: &[&str]) -> Result<Value, String> {
        let mut args = vec!["exec", name, "p2pnode", "ctl", "--json", "--timeout", "45s"];
        args.extend_from_slice(line);
        let out = docker(&args);
        let text = out.stdout.trim();
        serde_json::from_str::<Value>(text).map_err(|e| format!("{name}: {e}: {out}"))
    }

    fn peer_id(&self, name: &str) -> String {
        let v = self.ctl(name, &["id"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v["ok"], true, "{name} id: {v}");
        v["peer_id"]
            .as_str()
            .expect("peer_id in id reply")
            .to_string()
    }

    fn routing_size(&self, name: &str) -> Result<u64, String> {
        let v = self.ctl(name, &["routing"])?;
        v["size"]
            .as_u64()
            .ok_or_else(|| format!("{name} routing: {v}"))
    }

    /// Waits until every node has at least `n` peers in its routing table.
    fn wait_routing(&self, names: &[String], n: u64) {
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

    fn put(&self, name: &str, key: &str, value: &str) -> Value {
        let v = self
            .ctl(name, &["put", key, value])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v["ok"], true, "put {key} through {name}: {v}");
        v
    }

    /// Gets `key` through `name` until the answer is `"ok": true` with the
    /// value (a node that has just joined may need a moment to find peers).
    fn get(&self, name: &str, key: &str, value: &str) -> Value {
        wait_until(&format!("get {key} through {name}"), GET_TIMEOUT, || {
            let v = self.ctl(name, &["get", key])?;
            if v["ok"] == true && v["value"] == value {
                Ok(v)
            } else {
                Err(v.to_string())
            }
        })
    }

    fn stop(&self, name: &str) {
        docker_ok(&["stop", "--time", "10", name]);
        let state = docker_ok(&["inspect", "--format", "{{.State.Status}}", name]);
        assert_eq!(state, "exited", "{name} after docker stop");
    }

    fn ip_of(&self, name: &str) -> String {
        docker_ok(&[
            "inspect",
            "--format",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            name,
        ])
    }
}

/// Checks the engine and the image; `false` when the test must skip.
fn prepare(test: &str) -> bool {
    init_tracing();
    match engine() {
        Ok(version) => eprintln!("[containers] Docker engine {version}"),
        Err(why) => {
            skip(test, &why);
            return false;
        }
    }
    sweep_leftovers();
    ensure_image();
    true
}

// ---------------------------------------------------------------------------
// The tests.

/// Five nodes on a user-defined bridge; put through one, get through the
/// others; a sixth joins after the put and finds the records over the
/// network; two nodes stop (the seed among them) and every record stays
/// reachable; a stopped node re-created on its volume keeps its peer ID.
#[test]
fn bridge_network_put_get_survive_stops_and_restart() {
    if !prepare("bridge_network_put_get_survive_stops_and_restart") {
        return;
    }
    let t = Instant::now();
    let mut lab = Lab::new("br");
    let net = lab.network(&["--driver", "bridge"]);
    step(t, &format!("created bridge network {net}"));

    // The image's contract: non-root, and `ctl` without a node fails clearly.
    let contract = docker_ok(&[
        "image",
        "inspect",
        "--format",
        "{{.Config.User}}|{{json .Config.Healthcheck.Test}}|{{json .Config.Volumes}}|{{json .Config.ExposedPorts}}",
        &image(),
    ]);
    let parts: Vec<&str> = contract.split('|').collect();
    assert_eq!(parts[0], "10001:10001", "image user: {contract}");
    assert!(parts[1].contains("\"ctl\""), "health check: {contract}");
    assert!(parts[2].contains("/data"), "volume: {contract}");
    assert!(
        parts[3].contains("4001/tcp") && parts[3].contains("4001/udp"),
        "ports: {contract}"
    );
    let lonely = docker(&["run", "--rm", "--network", "none", &image(), "ctl", "id"]);
    assert_eq!(lonely.code, Some(2), "ctl with no node: {lonely}");
    assert!(lonely.stderr.contains("no running node"), "{lonely}");

    // A seed (creates the network, reachable as `seed`) and four peers
    // joining it by that name, as in p2p_setup.md.
    let names: Vec<String> = ["seed", "n1", "n2", "n3", "n4"]
        .iter()
        .map(|n| lab.name(n))
        .collect();
    for (i, name) in names.iter().enumerate() {
        let seed = i == 0;
        lab.start(Node {
            name,
            network: &net,
            alias: seed.then_some("seed"),
            ip: None,
            remote: if seed { "" } else { "seed" },
        });
    }
    for name in &names {
        lab.wait_healthy(name);
    }
    step(t, "5 containers healthy");
    let ids: Vec<String> = names.iter().map(|n| lab.peer_id(n)).collect();
    lab.wait_routing(&names, 4);
    step(t, "every routing table holds the 4 other nodes");

    // Put through n1, get through every other node.
    let records: Vec<(String, String)> = (0..3)
        .map(|i| (format!("key-{i}"), format!("value {i} from {}", names[1])))
        .collect();
    for (key, value) in &records {
        let v = lab.put(&names[1], key, value);
        assert!(
            v["replicated"].as_u64().unwrap_or(0) >= 1,
            "put {key} reached no peer: {v}"
        );
    }
    step(t, "3 records put through n1");
    for name in names.iter().filter(|n| *n != &names[1]) {
        for (key, value) in &records {
            lab.get(name, key, value);
        }
    }
    step(t, "every record got through seed, n2, n3, n4");

    // A node joining after the put holds no copy: its get crosses the network.
    let late = lab.name("n5");
    lab.start(Node {
        name: &late,
        network: &net,
        alias: None,
        ip: None,
        remote: "seed",
    });
    lab.wait_healthy(&late);
    lab.wait_routing(std::slice::from_ref(&late), 2);
    for (key, value) in &records {
        let v = lab.get(&late, key, value);
        assert_ne!(v["from"], "local", "{late} had {key} before asking: {v}");
    }
    step(
        t,
        "n5, started after the put, got every record from its peers",
    );

    // Stop the seed and n2: every record is still found by every survivor.
    lab.stop(&names[0]);
    lab.stop(&names[2]);
    let survivors = [
        names[1].clone(),
        names[3].clone(),
        names[4].clone(),
        late.clone(),
    ];
    step(t, "stopped the seed and n2");
    for name in &survivors {
        for (key, value) in &records {
            lab.get(name, key, value);
        }
    }
    step(t, "every record got through n1, n3, n4, n5");

    // Re-create n2 on its volume; the seed is down, so it joins through n3.
    docker_ok(&["rm", &names[2]]);
    let n3 = names[3].clone();
    lab.start(Node {
        name: &names[2],
        network: &net,
        alias: None,
        ip: None,
        remote: &n3,
    });
    lab.wait_healthy(&names[2]);
    assert_eq!(
        lab.peer_id(&names[2]),
        ids[2],
        "n2 lost its identity across re-creation"
    );
    lab.wait_routing(std::slice::from_ref(&names[2]), 2);
    for (key, value) in &records {
        lab.get(&names[2], key, value);
    }
    step(
        t,
        "n2 re-created on its volume: same peer ID, every record found",
    );
}

/// Three nodes on a macvlan network over a parent interface of the test's
/// own: each gets its own MAC and an address of the test's subnet, and a
/// value put through one is got through the others.
#[test]
fn macvlan_network_put_get() {
    if !prepare("macvlan_network_put_get") {
        return;
    }
    let t = Instant::now();
    let mut lab = Lab::new("mv");
    let pid = std::process::id();
    let parent = format!("p2pt{pid}");
    let script = repo().join("docker/macvlan-parent.sh");
    lab.res.interfaces.push(parent.clone());
    let made = run(
        "bash",
        &[
            script.to_str().unwrap_or("docker/macvlan-parent.sh"),
            "up",
            &parent,
        ],
        Duration::from_secs(20),
    );
    if !made.ok {
        lab.res.interfaces.clear();
        if made.stderr.contains("Operation not permitted") || made.stderr.contains("cannot run") {
            skip(
                "macvlan_network_put_get",
                &format!("cannot create a parent interface ({made})"),
            );
            return;
        }
        panic!("creating the macvlan parent {parent} failed: {made}");
    }
    step(t, made.stdout.trim());
    // A /24 of our own, spread by pid so parallel runs do not overlap.
    let (a, b) = (200 + pid % 50, (pid / 50) % 256);
    let subnet = format!("10.{a}.{b}.0/24");
    let seed_ip = format!("10.{a}.{b}.10");
    let range = format!("10.{a}.{b}.128/25");
    let parent_opt = format!("parent={parent}");
    let net = lab.network(&[
        "--driver",
        "macvlan",
        "--subnet",
        &subnet,
        "--ip-range",
        &range,
        "-o",
        &parent_opt,
        "-o",
        "macvlan_mode=bridge",
    ]);

    let names: Vec<String> = ["seed", "n1", "n2"].iter().map(|n| lab.name(n)).collect();
    for (i, name) in names.iter().enumerate() {
        let seed = i == 0;
        lab.start(Node {
            name,
            network: &net,
            alias: seed.then_some("seed"),
            ip: seed.then_some(seed_ip.as_str()),
            remote: if seed { "" } else { "seed" },
        });
    }
    for name in &names {
        lab.wait_healthy(name);
        let ip = lab.ip_of(name);
        assert!(
            ip.starts_with(&format!("10.{a}.{b}.")),
            "{name} has address {ip}, not in {subnet}"
        );
    }
    step(
        t,
        &format!("3 containers healthy on macvlan {net} ({subnet})"),
    );
    lab.wait_routing(&names, 2);

    // The seed's connections run over the macvlan subnet.
    let peers = lab
        .ctl(&names[0], &["peers"])
        .unwrap_or_else(|e| panic!("{e}"));
    let addrs = peers["peers"].to_string();
    assert!(
        addrs.contains(&format!("/ip4/10.{a}.{b}.")),
        "seed peers not on {subnet}: {peers}"
    );

    lab.put(&names[1], "macvlan-greeting", "hello over macvlan");
    for name in [&names[0], &names[2]] {
        lab.get(name, "macvlan-greeting", "hello over macvlan");
    }
    step(t, "put through n1, got through the seed and n2");
}
