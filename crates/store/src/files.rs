//! The file-system [`FileStore`]: uploaded files (project icons) under a
//! directory of the data dir, by generated name.

use std::path::PathBuf;

use async_trait::async_trait;
use patchbay_app::ports::FileStore;

/// Files in one directory. Names must be plain file names (no separators,
/// no `..`): anything else is refused, so a name can never escape `dir`.
#[derive(Debug, Clone)]
pub struct DiskFileStore {
    dir: PathBuf,
}

impl DiskFileStore {
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path(&self, name: &str) -> Result<PathBuf, String> {
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            && !name.starts_with('.');
        if plain {
            Ok(self.dir.join(name))
        } else {
            Err(format!("refusing file name {name:?}"))
        }
    }
}

#[async_trait]
impl FileStore for DiskFileStore {
    async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<(), String> {
        let path = self.path(name)?;
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let tmp = self.dir.join(format!(".{name}.partial"));
        tokio::fs::write(&tmp, bytes)
            .await
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| format!("cannot move {} into place: {e}", path.display()))
    }

    async fn get(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        let Ok(path) = self.path(name) else {
            return Ok(None);
        };
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    async fn delete(&self, name: &str) -> Result<(), String> {
        let path = self.path(name)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("cannot remove {}: {e}", path.display())),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_reads_and_deletes_and_refuses_paths() {
        let dir = std::env::temp_dir().join(format!("patchbay-files-{}", uuid::Uuid::now_v7()));
        let store = DiskFileStore::new(&dir);
        store.put("a.png", b"x".to_vec()).await.unwrap();
        assert_eq!(store.get("a.png").await.unwrap(), Some(b"x".to_vec()));
        store.delete("a.png").await.unwrap();
        assert_eq!(store.get("a.png").await.unwrap(), None);
        store.delete("a.png").await.unwrap();
        for bad in ["../a.png", "a/b.png", "..", ".hidden", "", "a\0.png"] {
            assert!(store.put(bad, vec![]).await.is_err(), "{bad:?}");
            assert_eq!(store.get(bad).await.unwrap(), None);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
