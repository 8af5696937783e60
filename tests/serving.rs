//! What stdin means for a node started without a terminal, and `ctl`'s exit
//! codes: a node whose stdin is /dev/null (`docker run -d`, compose,
//! services) keeps serving and answers `p2pnode ctl`; `P2PNODE_NO_REPL=false`
//! reads even that; `ctl --json` reports a failed command (exit 1) and a
//! missing node (exit 2) as one JSON object.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use p2pnode_testkit::Binary;
use serde_json::Value;

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

/// How long a node may take to start, or to stop once asked.
const BOUND: Duration = Duration::from_secs(20);

/// A node process with stdin /dev/null, its stdout read line by line.
struct Detached {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Detached {
    fn start(data_dir: &Path, env: &[(&str, &str)]) -> Detached {
        let mut child = BIN
            .command()
            .args(["--listen", "/ip4/127.0.0.1/tcp/0", "--data-dir"])
            .arg(data_dir)
            .env_remove("P2P_REMOTE_HOST")
            .env_remove("P2PNODE_NO_REPL")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn p2pnode");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Detached { child, lines }
    }

    /// Waits for a stdout line containing `text`; panics after [`BOUND`].
    fn wait_line(&self, text: &str) -> String {
        let deadline = Instant::now() + BOUND;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(e) => panic!("no stdout line with {text:?} ({e})"),
            }
        }
    }

    /// Waits for the process to exit; panics after [`BOUND`].
    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "the node did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ctl(data_dir: &Path, args: &[&str]) -> Output {
    BIN.command()
        .arg("ctl")
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run p2pnode ctl")
}

fn json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 1, "one JSON line: {text:?}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
}

#[test]
fn a_node_with_stdin_dev_null_keeps_serving_and_answers_ctl() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("node");
    let mut node = Detached::start(&data, &[]);
    // The banner says how to reach a node that reads no commands.
    let hint = node.wait_line("not reading commands from stdin");
    assert!(hint.contains("p2pnode ctl --data-dir"), "{hint}");

    let put = ctl(&data, &["--json", "put", "detached", "still here"]);
    assert_eq!(put.status.code(), Some(0), "{put:?}");
    assert_eq!(json(&put)["ok"], true);
    let got = ctl(&data, &["--json", "get", "detached"]);
    assert_eq!(json(&got)["value"], "still here");
    // A command that fails: exit 1, and the JSON object says why.
    let missing = ctl(&data, &["--json", "get", "nothing-here"]);
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    let v = json(&missing);
    assert_eq!(
        (v["cmd"].as_str(), v["ok"].as_bool()),
        (Some("get"), Some(false))
    );
    assert_eq!(v["error"], "not found");
    assert!(
        node.child.try_wait().expect("try_wait").is_none(),
        "the node stopped at the end of /dev/null"
    );

    assert_eq!(ctl(&data, &["quit"]).status.code(), Some(0));
    assert!(node.wait_exit().success());
}

#[test]
fn p2pnode_no_repl_false_reads_stdin_whatever_it_is() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut node = Detached::start(&tmp.path().join("node"), &[("P2PNODE_NO_REPL", "false")]);
    node.wait_line("type 'help' for commands");
    // /dev/null is read, and its end shuts the node down.
    assert!(node.wait_exit().success());
}

#[test]
fn ctl_json_without_a_node_prints_one_object_and_exits_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = ctl(&tmp.path().join("nobody"), &["--json", "id"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let v = json(&out);
    assert_eq!(
        (v["cmd"].as_str(), v["ok"].as_bool()),
        (Some("ctl"), Some(false))
    );
    let error = v["error"].as_str().expect("error");
    assert!(error.contains("no running node"), "{error}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}
