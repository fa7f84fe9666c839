//! Content-addressed storage of uploaded components, named by the SHA-256 of the bytes, in one of
//! two places:
//!
//! - **files** (the embedded default): `data_dir/components/ab/abcdef….wasm`. A file is written to
//!   a temporary name, synced and renamed, so a crash never leaves a half-written component under
//!   its real name.
//! - **the database** ([`ComponentBlobs`], PostgreSQL): every node of a service spread over
//!   several hosts reads the components every other node stored; each node compiles them into its
//!   own cache.
//!
//! The same component uploaded twice is stored once; reading checks the digest, so a damaged
//! component is refused, never tested.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sandkasse_sandbox::inspect::digest;

use crate::store::{BoxFuture, StoreError};

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
    #[error("the component {0} is not stored")]
    Missing(String),
    #[error("{0:?} is not a SHA-256 digest")]
    BadDigest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the component store's thread failed: {0}")]
    Thread(String),
}

/// Components kept in the database, by digest.
pub trait ComponentBlobs: Send + Sync {
    /// Stores `bytes` under `sha256` unless a component is stored under it; a damaged one is
    /// replaced.
    fn put_component<'a>(
        &'a self,
        sha256: &'a str,
        bytes: &'a [u8],
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// The bytes stored under `sha256`, unchecked.
    fn component<'a>(
        &'a self,
        sha256: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>>;
}

/// Where the components are.
#[derive(Clone)]
pub enum ComponentStore {
    /// Files under one directory.
    Files(PathBuf),
    /// The database.
    Database(Arc<dyn ComponentBlobs>),
}

impl std::fmt::Debug for ComponentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ComponentStore::Files(dir) => f.debug_tuple("Files").field(dir).finish(),
            ComponentStore::Database(_) => f.write_str("Database"),
        }
    }
}

impl ComponentStore {
    /// Files under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> ComponentStore {
        ComponentStore::Files(dir.into())
    }

    /// Stores `bytes` (if not already there) and returns their SHA-256.
    pub async fn put(&self, bytes: Vec<u8>) -> Result<String, ComponentError> {
        match self {
            ComponentStore::Files(dir) => {
                let dir = dir.clone();
                blocking(move || put_file(&dir, &bytes)).await
            }
            ComponentStore::Database(blobs) => {
                let sha = digest(&bytes);
                if self.get(&sha).await.is_err() {
                    blobs.put_component(&sha, &bytes).await?;
                }
                Ok(sha)
            }
        }
    }

    /// The component's bytes, checked against its digest.
    pub async fn get(&self, sha256: &str) -> Result<Vec<u8>, ComponentError> {
        checked_digest(sha256)?;
        let bytes = match self {
            ComponentStore::Files(dir) => {
                let path = file_path(dir, sha256)?;
                blocking(move || {
                    std::fs::read(&path).map_err(|source| ComponentError::Io { path, source })
                })
                .await?
            }
            ComponentStore::Database(blobs) => blobs
                .component(sha256)
                .await?
                .ok_or_else(|| ComponentError::Missing(sha256.into()))?,
        };
        if digest(&bytes) != sha256 {
            return Err(ComponentError::Damaged(sha256.into()));
        }
        Ok(bytes)
    }
}

/// Runs file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ComponentError> + Send + 'static,
) -> Result<T, ComponentError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ComponentError::Thread(e.to_string()))?
}

/// `sha256` if it is a SHA-256 digest in lower-case hex (never a path).
fn checked_digest(sha256: &str) -> Result<&str, ComponentError> {
    if sha256.len() != 64
        || !sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(ComponentError::BadDigest(sha256.into()));
    }
    Ok(sha256)
}

/// Where the file of the component with `sha256` lives under `dir`.
fn file_path(dir: &Path, sha256: &str) -> Result<PathBuf, ComponentError> {
    let sha256 = checked_digest(sha256)?;
    Ok(dir.join(&sha256[..2]).join(format!("{sha256}.wasm")))
}

fn put_file(dir: &Path, bytes: &[u8]) -> Result<String, ComponentError> {
    let sha = digest(bytes);
    let path = file_path(dir, &sha)?;
    if std::fs::read(&path).is_ok_and(|stored| digest(&stored) == sha) {
        return Ok(sha);
    }
    let parent = path.parent().unwrap_or(dir);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_once_by_content_and_refuses_damage() {
        let dir = tempfile::tempdir().unwrap();
        let store = ComponentStore::new(dir.path());
        let component = b"\0asm component".to_vec();
        let sha = store.put(component.clone()).await.unwrap();
        assert_eq!(store.put(component.clone()).await.unwrap(), sha);
        assert_eq!(store.get(&sha).await.unwrap(), component);
        let path = file_path(dir.path(), &sha).unwrap();
        assert!(path.starts_with(dir.path().join(&sha[..2])));
        std::fs::write(&path, b"\0asm changed").unwrap();
        assert!(matches!(
            store.get(&sha).await,
            Err(ComponentError::Damaged(_))
        ));
        store.put(component.clone()).await.unwrap();
        assert_eq!(
            store.get(&sha).await.unwrap(),
            component,
            "a damaged file is replaced by a new upload"
        );
        assert!(matches!(
            store.get("../../etc/passwd").await,
            Err(ComponentError::BadDigest(_))
        ));
    }
}
