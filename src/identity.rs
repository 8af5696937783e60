//! The node's identity: an ed25519 key kept in the data directory, so a
//! restarted node keeps its peer ID (peers' routing tables and the records
//! it published stay valid).
//!
//! A key file that exists but cannot be read or decoded is an error naming
//! the file. Silently making a new identity would hide the loss.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use libp2p::identity::Keypair;

use crate::error::StartError;

/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "identity.key";

/// Creates the data directory (owner-only) when it does not exist.
pub fn ensure_data_dir(dir: &Path) -> Result<(), StartError> {
    let err = |reason: String| StartError::DataDir {
        path: dir.to_path_buf(),
        reason,
    };
    if !dir.exists() {
        fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        set_mode(dir, 0o700).map_err(|e| err(e.to_string()))?;
    } else if !dir.is_dir() {
        return Err(err("exists but is not a directory".into()));
    }
    Ok(())
}

/// Loads the key from `dir`, or creates and saves a new one on first start.
pub fn load_or_create(dir: &Path) -> Result<Keypair, StartError> {
    ensure_data_dir(dir)?;
    let path = dir.join(KEY_FILE);
    let err = |reason: String| StartError::Identity {
        path: path.clone(),
        reason,
    };
    match fs::read(&path) {
        Ok(bytes) => Keypair::from_protobuf_encoding(&bytes).map_err(|e| {
            err(format!(
                "corrupt key ({e}); move it away to start with a new identity"
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = Keypair::generate_ed25519();
            let bytes = key.to_protobuf_encoding().map_err(|e| err(e.to_string()))?;
            write_private(&path, &bytes).map_err(|e| err(e.to_string()))?;
            tracing::info!(target: crate::logging::STARTUP, path = %path.display(), peer = %key.public().to_peer_id(), "created a new identity");
            Ok(key)
        }
        Err(e) => Err(err(e.to_string())),
    }
}

/// Writes `bytes` to a new owner-only file, atomically (temp file + rename).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp: PathBuf = path.with_extension("tmp");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_persists_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create(dir.path()).unwrap();
        let b = load_or_create(dir.path()).unwrap();
        assert_eq!(a.public().to_peer_id(), b.public().to_peer_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn corrupt_key_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(KEY_FILE), b"garbage").unwrap();
        let e = load_or_create(dir.path()).unwrap_err().to_string();
        assert!(e.contains(KEY_FILE), "{e}");
        assert!(e.contains("corrupt"), "{e}");
    }
}
