//! Cleaning up: every Docker object and interface a test makes is
//! registered in a [`Resources`] guard that removes it when the test ends,
//! also when it fails; a run first sweeps what crashed runs left behind.

use std::path::Path;
use std::time::Duration;

use crate::LABEL;
use crate::engine::{docker, run};

/// Everything one test made; removed on drop, also when the test panics.
#[derive(Default)]
pub struct Resources {
    pub containers: Vec<String>,
    pub volumes: Vec<String>,
    pub networks: Vec<String>,
    pub interfaces: Vec<String>,
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
pub fn sweep_leftovers() {
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
