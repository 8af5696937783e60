//! Docker swarm for the swarm scenario: a single-node swarm (initialised
//! when none is active, left again afterwards), a stack deployed from
//! docker/stack.yml, its task containers, and a guard that removes the
//! stack, its volumes and networks when the test ends, also when it fails.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use p2pnode_testkit::{Wait, run_bounded};

use crate::engine::{docker, docker_ok, image, repo};

/// How long removing a stack may take (tasks stop within their grace).
const REMOVE_TIMEOUT: Duration = Duration::from_secs(90);
/// The overlay's subnet the test deploys with (P2P_OVERLAY_SUBNET): a /24
/// of its own, spread by pid as the other scenarios' are (macvlan takes
/// 10.200-249.x, the Kubernetes check 10.150-199.x).
pub fn overlay_subnet() -> String {
    let pid = std::process::id();
    format!("10.{}.{}.0/24", 100 + pid % 50, (pid / 50) % 256)
}

/// The swarm's state: `active`, `inactive`, ...
fn swarm_state() -> String {
    docker_ok(&["info", "--format", "{{.Swarm.LocalNodeState}}"])
}

/// A marker file saying that process `pid` initialised the swarm, so a run
/// after a crash can leave it.
fn marker() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("p2pnode-swarm-created-by")
}

/// A stack on a swarm; see the module docs. Dropping it cleans up.
pub struct Stack {
    /// The stack's name (`p2pt-<pid>-sw`): its services are `<name>_seed`
    /// and `<name>_peer`.
    pub name: String,
    created_swarm: bool,
}

impl Stack {
    /// Makes sure a swarm is active (initialising one on 127.0.0.1 when
    /// none is), after removing what crashed runs left behind.
    pub fn new() -> Stack {
        sweep_swarm_leftovers();
        let created_swarm = swarm_state() != "active";
        if created_swarm {
            let _ = std::fs::write(marker(), std::process::id().to_string());
            docker_ok(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
            eprintln!("[containers] initialised a single-node swarm (left at the end)");
        }
        Stack {
            name: format!("p2pt-{}-sw", std::process::id()),
            created_swarm,
        }
    }

    /// `docker stack deploy -c docker/stack.yml` with the image under test
    /// and the overlay subnet [`overlay_subnet`].
    pub fn deploy(&self) {
        let file = repo().join("docker/stack.yml");
        let mut cmd = Command::new("docker");
        cmd.args(["stack", "deploy", "--resolve-image", "never", "-c"])
            .arg(&file)
            .arg(&self.name)
            .env("P2PNODE_IMAGE", image())
            .env("P2P_OVERLAY_SUBNET", overlay_subnet());
        let out = run_bounded(cmd, Duration::from_secs(120));
        assert!(out.ok(), "docker stack deploy failed: {out}");
    }

    /// The service's full name.
    pub fn service(&self, short: &str) -> String {
        format!("{}_{short}", self.name)
    }

    /// The names of the service's task containers that are running and
    /// healthy, sorted.
    pub fn healthy_tasks(&self, short: &str) -> Vec<String> {
        let filter = format!(
            "label=com.docker.swarm.service.name={}",
            self.service(short)
        );
        let out = docker(&[
            "ps",
            "--filter",
            &filter,
            "--filter",
            "health=healthy",
            "--format",
            "{{.Names}}",
        ]);
        let mut names: Vec<String> = out.stdout.lines().map(str::to_string).collect();
        names.sort();
        names
    }

    /// Waits until the service has exactly `n` healthy tasks; their names.
    pub fn wait_tasks(&self, short: &str, n: usize, timeout: Duration) -> Vec<String> {
        Wait::new(timeout)
            .pace(Duration::from_millis(500))
            .eventually(|| {
                let tasks = self.healthy_tasks(short);
                if tasks.len() == n {
                    Ok(tasks)
                } else {
                    let ps = docker(&["service", "ps", "--no-trunc", &self.service(short)]);
                    Err(format!(
                        "{short}: {} healthy of {n}\n{}",
                        tasks.len(),
                        ps.stdout
                    ))
                }
            })
    }

    /// Whether swarm wants the task of container `name` stopped (desired
    /// state `shutdown`: an update is replacing it), or the container is gone.
    pub fn told_to_stop(name: &str) -> bool {
        let task = docker(&[
            "inspect",
            "--format",
            "{{index .Config.Labels \"com.docker.swarm.task.id\"}}",
            name,
        ]);
        if !task.ok() {
            return true;
        }
        let desired = docker(&[
            "inspect",
            "--format",
            "{{.DesiredState}}",
            task.stdout.trim(),
        ]);
        desired.stdout.trim() == "shutdown"
    }

    /// The state of the service's last update (`updating`, `completed`,
    /// `rollback_started`, ...), empty before any update.
    pub fn update_state(&self, short: &str) -> String {
        docker(&[
            "service",
            "inspect",
            "--format",
            "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
            &self.service(short),
        ])
        .stdout
        .trim()
        .to_string()
    }

    /// The subnet of `docker_gwbridge`, the host-local network every task
    /// is attached to beside the overlay.
    pub fn gwbridge_subnet() -> String {
        docker_ok(&[
            "network",
            "inspect",
            "--format",
            "{{range .IPAM.Config}}{{.Subnet}} {{end}}",
            "docker_gwbridge",
        ])
        .split_whitespace()
        .next()
        .unwrap_or_else(|| panic!("docker_gwbridge has no subnet"))
        .to_string()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for short in ["seed", "peer"] {
                let ps = docker(&["service", "ps", "--no-trunc", &self.service(short)]);
                let logs = docker(&["service", "logs", "--tail", "20", &self.service(short)]);
                eprintln!(
                    "---- {short}: tasks and last logs ----\n{}{}{}",
                    ps.stdout, logs.stdout, logs.stderr
                );
            }
        }
        remove_stack(&self.name);
        if self.created_swarm {
            leave_swarm();
        }
    }
}

/// Removes stack `name`: its services, then (once their containers are
/// gone) its volumes and networks.
fn remove_stack(name: &str) {
    let _ = docker(&["stack", "rm", name]);
    let label = format!("label=com.docker.stack.namespace={name}");
    let gone = Wait::new(REMOVE_TIMEOUT)
        .pace(Duration::from_millis(500))
        .until(|| {
            docker(&["ps", "-aq", "--filter", &label])
                .stdout
                .trim()
                .is_empty()
                .then_some(())
        });
    if gone.is_none() {
        eprintln!("[containers] stack {name}: containers still there after {REMOVE_TIMEOUT:?}");
    }
    let volumes = docker(&["volume", "ls", "-q", "--filter", &label]);
    for v in volumes.stdout.lines() {
        let _ = docker(&["volume", "rm", "-f", v]);
    }
    // The overlay goes with the stack, a moment after its last task.
    let _ = Wait::new(Duration::from_secs(30))
        .pace(Duration::from_millis(500))
        .until(|| {
            let nets = docker(&["network", "ls", "-q", "--filter", &label]);
            for n in nets.stdout.lines() {
                let _ = docker(&["network", "rm", n]);
            }
            nets.stdout.trim().is_empty().then_some(())
        });
}

/// Leaves the swarm this test run initialised, and removes the
/// `docker_gwbridge` network it created.
fn leave_swarm() {
    let _ = docker(&["swarm", "leave", "--force"]);
    let _ = docker(&["network", "rm", "docker_gwbridge"]);
    let _ = std::fs::remove_file(marker());
    eprintln!("[containers] left the swarm this run initialised");
}

/// Removes stacks of dead test runs, and leaves a swarm that a dead run
/// initialised.
fn sweep_swarm_leftovers() {
    let dead = |pid: &str| !std::path::Path::new(&format!("/proc/{}", pid.trim())).exists();
    if swarm_state() != "active" {
        return;
    }
    let stacks = docker(&["stack", "ls", "--format", "{{.Name}}"]);
    for name in stacks.stdout.lines() {
        if let Some(pid) = name.strip_prefix("p2pt-").and_then(|r| r.split('-').next())
            && dead(pid)
        {
            eprintln!("[containers] removing leftover stack {name}");
            remove_stack(name);
        }
    }
    if let Ok(pid) = std::fs::read_to_string(marker())
        && dead(&pid)
    {
        eprintln!(
            "[containers] leaving the swarm that a dead run (pid {}) initialised",
            pid.trim()
        );
        leave_swarm();
    }
}
