//! Puts the git commit the binary is built from into `P2PNODE_COMMIT` (for
//! `--version` and `p2pnode_build_info`): the variable itself when set (a
//! build without `.git`, e.g. in a container: `P2PNODE_COMMIT=$(git
//! rev-parse --short=12 HEAD)`), else `git rev-parse`, else `unknown`.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=P2PNODE_COMMIT");
    let given = std::env::var("P2PNODE_COMMIT")
        .ok()
        .filter(|c| !c.is_empty());
    let commit = given.or_else(|| {
        // Build again when HEAD moves: HEAD itself, the branch it names, and
        // packed-refs (where a branch may live instead).
        let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
        watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
        for name in watched {
            if let Some(path) = git(&["rev-parse", "--git-path", &name])
                && std::path::Path::new(&path).exists()
            {
                println!("cargo:rerun-if-changed={path}");
            }
        }
        git(&["rev-parse", "--short=12", "HEAD"])
    });
    let commit = commit.unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=P2PNODE_COMMIT={commit}");
}
