//! A disk that fills up: a node whose data directory is on a small tmpfs
//! (mounted here, unmounted when the test ends, pass or fail) turns
//! unhealthy when its store's commits fail, keeps the records in memory,
//! and recovers by itself once there is room again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use p2pnode_testkit::harness::Prerequisite;
use p2pnode_testkit::{Ask, NodeProc, Opts, eventually};

use crate::common::{BIN, WAIT, copy_dir};

/// The permission to mount a tmpfs (root).
pub const MOUNT: Prerequisite = Prerequisite {
    what: "the permission to mount a tmpfs (root)",
    required_by: "P2PNODE_REQUIRE_OPS",
    check: || {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mount = Tmpfs::mount(dir.path(), "64k")?;
        drop(mount);
        Ok(())
    },
};

/// A mounted tmpfs, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Result<Tmpfs, String> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "p2pnode-test"])
            .arg(at)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: also when a process of the test still holds a file there.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system holding `path` until it refuses more.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).expect("the filler file");
    let chunk = vec![0x5a_u8; 16 * 1024];
    while f.write_all(&chunk).and_then(|()| f.sync_data()).is_ok() {}
}

fn health(node: &mut NodeProc) -> serde_json::Value {
    node.cmd("health")
}

pub fn full_disk() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let _mounted = Tmpfs::mount(dir.path(), "8m").expect("mount a tmpfs");
    let data = dir.path().join("node");
    // Declared after the mount: the node stops before the unmount.
    let mut node = BIN.start(Opts::default().data_dir(&data));
    assert_eq!(health(&mut node)["ok"], true);
    let filler = dir.path().join("filler");
    fill(&filler);
    // Writes until one cannot reach the disk (redb may have room left in
    // pages it allocated before).
    let value = "v".repeat(60_000);
    let failed = (0..64).find_map(|i| {
        let v = node.cmd(&format!("put key{i} {value}"));
        (v["ok"] == false).then_some(v)
    });
    let failed = failed.expect("a put whose commit failed on the full disk");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(error.contains("cannot write"), "{failed}");
    let sick = eventually(WAIT, || {
        let v = health(&mut node);
        if v["ok"] == false {
            Ok(v)
        } else {
            Err(v.to_string())
        }
    });
    assert_eq!(sick["checks"]["store"]["ok"], false, "{sick}");
    assert_eq!(sick["checks"]["peers"]["ok"], true, "{sick}");
    assert!(
        sick["error"].as_str().is_some_and(|e| e.contains("store:")),
        "{sick}"
    );
    // The records are still served from memory.
    let got = node.cmd("get key0");
    assert_eq!(got["ok"], true, "{got}");

    std::fs::remove_file(&filler).expect("remove the filler");
    eventually(WAIT, || {
        let v = health(&mut node);
        if v["ok"] == true {
            Ok(())
        } else {
            Err(v.to_string())
        }
    });
    node.wait_flushed();
    let stats = node.cmd("stats");
    assert!(
        stats["store_write_errors"].as_u64().is_some_and(|n| n >= 1),
        "{stats}"
    );
    assert!(stats["store_failing"].is_null(), "{stats}");
}

/// Guards "your own puts are on disk before put answers" on a disk that
/// fills up (issue 12 item 10): 80 puts of 60 KB into a 3 MB tmpfs.
/// Every put answered ok is in the store after a SIGKILL (restarted on a
/// copy of the data directory on a disk with room, as redb repairs the
/// file when it opens it); a put that could not be committed answers
/// ok:false with one line naming the store file.
pub fn own_puts_on_a_failing_disk() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let _mounted = Tmpfs::mount(dir.path(), "3m").expect("mount a tmpfs");
    let data = dir.path().join("node");
    let mut node = BIN.start(Opts::default().data_dir(&data));
    let db = data.join(p2pnode::store::DB_FILE).display().to_string();
    let value = "v".repeat(60_000);
    let (mut ok, mut failed) = (Vec::new(), 0);
    for i in 0..80 {
        let put = node.cmd(&format!("put key{i} {value}"));
        if put["ok"] == true {
            ok.push(i);
            continue;
        }
        failed += 1;
        let error = put["error"].as_str().unwrap_or_default();
        assert!(error.contains(&db) && !error.contains('\n'), "{put}");
    }
    assert!(failed > 0, "3 MB cannot hold 80 values of 60 KB");
    assert!(!ok.is_empty(), "no put succeeded");
    node.kill();
    let keep = tempfile::tempdir().expect("a temporary directory");
    let copy = keep.path().join("node");
    copy_dir(&data, &copy);
    let mut node = BIN.start(Opts::default().data_dir(&copy));
    for i in &ok {
        let got = node.cmd(&format!("get key{i}"));
        assert_eq!(got["ok"], true, "key{i} was answered ok but is lost: {got}");
        assert_eq!(got["from"], "local", "{got}");
        assert_eq!(got["value"].as_str().map(str::len), Some(60_000));
    }
    eprintln!(
        "DISK {} puts ok and kept after SIGKILL, {failed} refused",
        ok.len()
    );
}
