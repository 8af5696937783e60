//! What this binary is: its version, the git commit it was built from and
//! the record store's schema, for `--version`, the `config` command and the
//! `p2pnode_build_info` metric. The commit comes from the build script
//! (`build.rs`), `unknown` when it was built without git.

use std::sync::OnceLock;

/// The crate's version (Cargo.toml).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit this binary was built from (12 hex digits), or `unknown`.
pub const COMMIT: &str = env!("P2PNODE_COMMIT");

/// `0.1.0 (commit 0123456789ab, store schema 1)`: what `--version` prints
/// after the program's name.
pub fn long() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        format!(
            "{VERSION} (commit {COMMIT}, store schema {})",
            crate::store::SCHEMA
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_long_version_names_commit_and_schema() {
        let text = super::long();
        assert!(text.starts_with(super::VERSION), "{text}");
        assert!(text.contains("commit "), "{text}");
        assert!(
            text.ends_with(&format!("store schema {})", crate::store::SCHEMA)),
            "{text}"
        );
        assert!(!super::COMMIT.is_empty());
    }
}
