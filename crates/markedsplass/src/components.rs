//! Content-addressed storage of uploaded components: `data_dir/components/ab/abcdef….wasm`, named by
//! the SHA-256 of the bytes. The same component uploaded twice is stored once; a file is written to
//! a temporary name, synced and renamed, so a crash never leaves a half-written component under
//! its real name; reading checks the digest, so a damaged file is refused, never tested.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sandkasse_sandbox::inspect::digest;

/// Why a component could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum ComponentError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the stored component {0} is damaged: its content no longer matches its digest")]
    Damaged(String),
    #[error("{0:?} is not a SHA-256 digest")]
    BadDigest(String),
}

/// The component files under one directory.
#[derive(Debug, Clone)]
pub struct ComponentStore {
    dir: PathBuf,
}

impl ComponentStore {
    pub fn new(dir: impl Into<PathBuf>) -> ComponentStore {
        ComponentStore { dir: dir.into() }
    }

    /// Where the component with `sha256` lives.
    pub fn path(&self, sha256: &str) -> Result<PathBuf, ComponentError> {
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(ComponentError::BadDigest(sha256.into()));
        }
        Ok(self.dir.join(&sha256[..2]).join(format!("{sha256}.wasm")))
    }

    /// Stores `bytes` (if not already there) and returns their SHA-256.
    pub fn put(&self, bytes: &[u8]) -> Result<String, ComponentError> {
        let sha = digest(bytes);
        let path = self.path(&sha)?;
        if self.get(&sha).is_ok() {
            return Ok(sha);
        }
        let parent = path.parent().unwrap_or(&self.dir);
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| ComponentError::Io { path, source }
        };
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(io(parent))?;
        tmp.write_all(bytes).map_err(io(tmp.path()))?;
        tmp.as_file().sync_all().map_err(io(tmp.path()))?;
        tmp.persist(&path).map_err(|e| ComponentError::Io {
            path: path.clone(),
            source: e.error,
        })?;
        Ok(sha)
    }

    /// The component's bytes, checked against its digest.
    pub fn get(&self, sha256: &str) -> Result<Vec<u8>, ComponentError> {
        let path = self.path(sha256)?;
        let bytes = std::fs::read(&path).map_err(|source| ComponentError::Io { path, source })?;
        if digest(&bytes) != sha256 {
            return Err(ComponentError::Damaged(sha256.into()));
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_once_by_content_and_refuses_damage() {
        let dir = tempfile::tempdir().unwrap();
        let store = ComponentStore::new(dir.path());
        let sha = store.put(b"\0asm component").unwrap();
        assert_eq!(store.put(b"\0asm component").unwrap(), sha);
        assert_eq!(store.get(&sha).unwrap(), b"\0asm component");
        let path = store.path(&sha).unwrap();
        assert!(path.starts_with(dir.path().join(&sha[..2])));
        std::fs::write(&path, b"\0asm changed").unwrap();
        assert!(matches!(store.get(&sha), Err(ComponentError::Damaged(_))));
        store.put(b"\0asm component").unwrap();
        assert_eq!(
            store.get(&sha).unwrap(),
            b"\0asm component",
            "a damaged file is replaced by a new upload"
        );
        assert!(matches!(
            store.path("../../etc/passwd"),
            Err(ComponentError::BadDigest(_))
        ));
    }
}
