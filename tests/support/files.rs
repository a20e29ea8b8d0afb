//! Temporary SQLite database files.

use std::path::{Path, PathBuf};

use super::servers::short_hash;

/// A SQLite database file in the temp dir, removed (with its WAL, shared-memory and journal
/// files) when dropped.
pub struct TempDb(pub PathBuf);

impl TempDb {
    /// A fresh file name in the temp dir, `name` in it.
    pub fn new(name: &str) -> TempDb {
        let unique = short_hash(&format!(
            "{name}{:?}{}",
            std::time::SystemTime::now(),
            std::process::id()
        ));
        TempDb(std::env::temp_dir().join(format!("authgate-{name}-{}.db", &unique.as_str()[..12])))
    }

    /// A pool on this file, creating it.
    pub async fn pool(&self) -> sqlx::SqlitePool {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&self.0)
            .create_if_missing(true);
        sqlx::SqlitePool::connect_with(options)
            .await
            .expect("a SQLite pool")
    }

    /// Every byte SQLite wrote for the database at `path`.
    pub fn bytes(path: &Path) -> Vec<u8> {
        let mut bytes = Vec::new();
        for suffix in ["", "-wal", "-journal"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            bytes.extend(std::fs::read(&file).unwrap_or_default());
        }
        bytes
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut file = self.0.as_os_str().to_owned();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}
