//! Private networks' pre-shared keys, in the swarm.key format of go-libp2p
//! and IPFS (`/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits):
//! `p2pnode swarm-key generate` makes one from the operating system's
//! random source, written owner-only and never over an existing file.

use std::io::Write;
use std::path::Path;

use libp2p::pnet::PreSharedKey;

/// Why a key could not be written.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file exists: a key is never overwritten (peers may use it).
    #[error(
        "{0} exists; a swarm key is never overwritten (remove it first if you mean to replace it)"
    )]
    Exists(String),
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A new random key.
pub fn generate() -> PreSharedKey {
    PreSharedKey::new(rand::random())
}

/// Writes `key` to a new file at `path`, readable by its owner only.
pub fn write_new(path: &Path, key: PreSharedKey) -> Result<(), KeyFileError> {
    let shown = path.display().to_string();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => KeyFileError::Exists(shown.clone()),
        _ => KeyFileError::Io {
            path: shown.clone(),
            source,
        },
    })?;
    file.write_all(key.to_key_file().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|source| KeyFileError::Io {
            path: shown,
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_reads_back_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("swarm.key");
        let key = generate();
        write_new(&path, key).unwrap();
        let read = crate::network::transport::read_swarm_key(&path).unwrap();
        assert_eq!(
            read.fingerprint().to_string(),
            key.fingerprint().to_string()
        );
        assert_ne!(
            generate().fingerprint().to_string(),
            key.fingerprint().to_string()
        );
        let e = write_new(&path, generate()).unwrap_err();
        assert!(matches!(e, KeyFileError::Exists(_)), "{e}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
