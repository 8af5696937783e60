//! The Docker engine and the image: `docker` commands with a time bound,
//! and `p2pnode:latest` built offline when it is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use p2pnode_testkit::{Finished, Wait, run_bounded};

/// How long one `docker` command may run (image builds aside).
const DOCKER_TIMEOUT: Duration = Duration::from_secs(120);
/// How long building the image may take (a release build on 2 cores).
const BUILD_TIMEOUT: Duration = Duration::from_secs(45 * 60);
/// The image's size limit (issue 3: under 30 MB).
const MAX_IMAGE_BYTES: u64 = 30_000_000;

/// The image under test: `$P2PNODE_IMAGE`, default `p2pnode:latest`.
pub fn image() -> String {
    std::env::var("P2PNODE_IMAGE").unwrap_or_else(|_| "p2pnode:latest".into())
}

/// The repository (for its docker/ scripts).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `program args`, killing it after `timeout`.
pub fn run(program: &str, args: &[&str], timeout: Duration) -> Finished {
    let mut cmd = Command::new(program);
    cmd.args(args);
    run_bounded(cmd, timeout)
}

/// Runs `docker args`.
pub fn docker(args: &[&str]) -> Finished {
    run("docker", args, DOCKER_TIMEOUT)
}

/// Runs a docker command that must succeed; its trimmed stdout.
pub fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    assert!(out.ok(), "docker {} failed: {out}", args.join(" "));
    out.stdout.trim().to_string()
}

/// Whether a Docker engine answers: its version, or why not.
pub fn engine() -> Result<String, String> {
    let out = run(
        "docker",
        &["info", "--format", "{{.ServerVersion}}"],
        Duration::from_secs(20),
    );
    if out.ok() && !out.stdout.trim().is_empty() {
        Ok(out.stdout.trim().to_string())
    } else {
        Err(format!("no Docker engine answers ({})", out.stderr.trim()))
    }
}

fn image_present() -> bool {
    docker(&["image", "inspect", "--format", "{{.Id}}", &image()]).ok()
}

static IMAGE_READY: AtomicBool = AtomicBool::new(false);

/// Builds the image with docker/build-offline.sh when it is missing. Test
/// processes run in parallel: a lock directory lets one build while the
/// others wait (a lock whose owner died is taken over).
pub fn ensure_image() {
    if IMAGE_READY.load(Ordering::SeqCst) {
        return;
    }
    let rebuild = std::env::var("P2PNODE_REBUILD_IMAGE").is_ok_and(|v| v == "1");
    let lock = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("p2pnode-image.lock");
    // Another test process may be building: wait for its lock to go.
    let done = Wait::new(BUILD_TIMEOUT)
        .pace(Duration::from_secs(1))
        .until(|| {
            if image_present() && !rebuild {
                return Some(());
            }
            if std::fs::create_dir(&lock).is_ok() {
                let _ = std::fs::write(lock.join("pid"), std::process::id().to_string());
                let built = (rebuild || !image_present()).then(build_image);
                let _ = std::fs::remove_dir_all(&lock);
                if let Some(Err(e)) = built {
                    panic!("{e}");
                }
                return Some(());
            }
            let owner = std::fs::read_to_string(lock.join("pid")).unwrap_or_default();
            let alive = owner
                .trim()
                .parse::<u32>()
                .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if !alive && !owner.is_empty() {
                let _ = std::fs::remove_dir_all(&lock);
            }
            None
        });
    assert!(
        done.is_some(),
        "waited {BUILD_TIMEOUT:?} for another test to build the image"
    );
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
    if !out.ok() {
        return Err(format!("docker/build-offline.sh failed: {out}"));
    }
    eprintln!("[containers] image built in {:?}", started.elapsed());
    Ok(())
}
