//! Several "hosts" on one machine: each a network namespace with an
//! address on a shared network (a bridge in a switch namespace, reached
//! over a veth pair) and a host-local address on a network of its own that
//! no other host can reach, as docker_gwbridge is on Docker swarm: packets
//! to another host's host-local address leave on that host's own link and
//! vanish, unanswered (like gwbridge's dropped traffic between containers).
//! A guard deletes the namespaces (and with them every interface) when the
//! test ends, also when it fails; a run first sweeps what crashed runs left.

use std::path::{Path, PathBuf};
use std::time::Duration;

use p2pnode_testkit::{Binary, Finished, run_bounded};

/// How long one `ip` command may run.
const IP_TIMEOUT: Duration = Duration::from_secs(20);

/// The shared network's /24: host `i` is `10.77.0.<i>` on it.
pub const SHARED_NET: &str = "10.77.0.0/24";
/// The host-local network (`172.18.0.0/16`, gwbridge's default): host `i` is
/// `172.18.0.<10 + i>` on it, on an interface of its own.
pub const LOCAL_NET: &str = "172.18.0.0/16";

/// Runs `ip args` within [`IP_TIMEOUT`].
fn ip(args: &[&str]) -> Finished {
    let mut cmd = std::process::Command::new("ip");
    cmd.args(args);
    run_bounded(cmd, IP_TIMEOUT)
}

/// Runs `ip args`, which must succeed.
fn ip_ok(args: &[&str]) {
    let out = ip(args);
    assert!(out.ok(), "ip {} failed: {out}", args.join(" "));
}

/// A set of hosts; see the module docs.
pub struct Hosts {
    prefix: String,
    namespaces: Vec<String>,
    dir: tempfile::TempDir,
}

impl Hosts {
    /// `n` hosts (1..=n) on a shared network, each with a host-local
    /// address too.
    pub fn new(n: u8) -> Hosts {
        sweep_leftovers();
        let prefix = format!("p2pt{}", std::process::id());
        let mut hosts = Hosts {
            prefix: prefix.clone(),
            namespaces: Vec::new(),
            dir: tempfile::tempdir().expect("temporary directory"),
        };
        let switch = hosts.add_ns("sw");
        ip_ok(&["-n", &switch, "link", "add", "br0", "type", "bridge"]);
        ip_ok(&["-n", &switch, "link", "set", "br0", "up"]);
        for i in 1..=n {
            let ns = hosts.add_ns(&format!("h{i}"));
            let port = format!("p{i}");
            ip_ok(&[
                "link", "add", "eth0", "netns", &ns, "type", "veth", "peer", "name", &port,
                "netns", &switch,
            ]);
            ip_ok(&["-n", &switch, "link", "set", &port, "master", "br0", "up"]);
            ip_ok(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("10.77.0.{i}/24"),
                "dev",
                "eth0",
            ]);
            ip_ok(&["-n", &ns, "link", "set", "eth0", "up"]);
            ip_ok(&["-n", &ns, "link", "set", "lo", "up"]);
            // The host-local link: a veth pair inside the host, nobody behind it.
            ip_ok(&[
                "-n", &ns, "link", "add", "gw0", "type", "veth", "peer", "name", "gwpeer",
            ]);
            ip_ok(&["-n", &ns, "addr", "add", &local_ip(i, 16), "dev", "gw0"]);
            ip_ok(&["-n", &ns, "link", "set", "gw0", "up"]);
            ip_ok(&["-n", &ns, "link", "set", "gwpeer", "up"]);
            // Other hosts' host-local addresses resolve to a MAC nobody
            // answers for: a connection attempt waits, as one dropped does.
            for j in (1..=n).filter(|j| *j != i) {
                let other = format!("172.18.0.{}", 10 + j);
                ip_ok(&[
                    "-n",
                    &ns,
                    "neigh",
                    "add",
                    &other,
                    "lladdr",
                    "02:00:00:00:00:99",
                    "dev",
                    "gw0",
                    "nud",
                    "permanent",
                ]);
            }
        }
        hosts
    }

    fn add_ns(&mut self, part: &str) -> String {
        let name = format!("{}{part}", self.prefix);
        // Registered first: deleting an absent namespace is harmless.
        self.namespaces.push(name.clone());
        ip_ok(&["netns", "add", &name]);
        name
    }

    /// Host `i`'s namespace.
    pub fn ns(&self, i: u8) -> String {
        format!("{}h{i}", self.prefix)
    }

    /// The p2pnode binary run inside host `i`: a wrapper that execs
    /// `ip netns exec <ns> p2pnode ...`, so the test kit drives it as usual.
    pub fn binary(&self, i: u8, p2pnode: &Path) -> Binary {
        let path: PathBuf = self.dir.path().join(format!("p2pnode-h{i}"));
        let script = format!(
            "#!/bin/sh\nexec ip netns exec {} {} \"$@\"\n",
            self.ns(i),
            p2pnode.display()
        );
        std::fs::write(&path, script).expect("write the wrapper");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("make the wrapper executable");
        Binary::at(&path)
    }
}

/// Host `i`'s shared address, `10.77.0.<i>`.
pub fn shared_ip(i: u8) -> String {
    format!("10.77.0.{i}")
}

/// Host `i`'s host-local address with the prefix length.
fn local_ip(i: u8, len: u8) -> String {
    format!("172.18.0.{}/{len}", 10 + u16::from(i))
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for ns in self.namespaces.iter().rev() {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

/// Deletes namespaces of test runs whose process is gone.
fn sweep_leftovers() {
    let list = ip(&["netns", "list"]);
    for line in list.stdout.lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(rest) = name.strip_prefix("p2pt") else {
            continue;
        };
        let pid: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !pid.is_empty() && !Path::new(&format!("/proc/{pid}")).exists() {
            eprintln!("[hosts] removing leftover namespace {name}");
            let _ = ip(&["netns", "del", name]);
        }
    }
}
