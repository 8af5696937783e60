//! What the operations tests share: the binary, `ctl`, logs in a file.

use std::path::Path;
use std::time::Duration;

use p2pnode_testkit::{Binary, run_bounded};
use serde_json::Value;

pub const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));
/// How long a condition may take to show.
pub const WAIT: Duration = Duration::from_secs(30);

/// `p2pnode ctl --json` with `args` on the node of `data_dir`: exit code
/// and the JSON answer (`null` when none).
pub fn ctl(data_dir: &Path, timeout: &str, args: &[&str]) -> (Option<i32>, Value) {
    let mut cmd = BIN.command();
    cmd.arg("ctl")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--json", "--timeout", timeout])
        .args(args);
    let out = run_bounded(cmd, Duration::from_secs(30));
    let v = serde_json::from_str(out.stdout.trim()).unwrap_or(Value::Null);
    (out.code(), v)
}

/// Copies the regular files of `from` (a data directory, a fixture) into
/// the new directory `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("the copy's directory");
    for entry in std::fs::read_dir(from).expect("the directory to copy") {
        let entry = entry.expect("an entry");
        if entry.file_type().expect("its type").is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy a file");
        }
    }
}

/// The log file's text so far.
pub fn log_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// One HTTP GET of `/metrics` (Prometheus text format): the body.
pub fn scrape(addr: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("the metrics address answers");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    write!(s, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_string()
}

/// The value of the sample named exactly `name` (with its labels).
pub fn sample(body: &str, name: &str) -> Option<f64> {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}
