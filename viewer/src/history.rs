//! `viewer --history PATH`: the published samples of a history file (`.remote/history.sqlite`, written by
//! `remote live`), read without the live host, read-only, so a running host keeps writing it meanwhile.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use remote_core::stocks::Sample;
use rusqlite::{Connection, OpenFlags};

use crate::wire::Batch;

/// Why a history file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// There is no file there.
    #[error("there is no history at {}: `remote live` writes it as .remote/history.sqlite beside the inventory", path.display())]
    Missing { path: PathBuf },
    /// SQLite could not open it.
    #[error("cannot open the history {}: {cause}", path.display())]
    Open { path: PathBuf, cause: rusqlite::Error },
    /// It is not a history of `remote` (no samples table) or it is damaged.
    #[error("cannot read samples from {} (is it a history written by `remote live`?): {cause}", path.display())]
    Read { path: PathBuf, cause: rusqlite::Error },
}

/// The published samples in the file at `path` from `since_ms` (milliseconds since the epoch) on, one batch
/// per stock, oldest first. Collected samples (`collect` without `publish`) belong to no chart and are left
/// out.
pub fn load(path: &Path, since_ms: i64) -> Result<Vec<Batch>, HistoryError> {
    if !path.exists() {
        return Err(HistoryError::Missing { path: path.to_path_buf() });
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let db = Connection::open_with_flags(path, flags)
        .map_err(|cause| HistoryError::Open { path: path.to_path_buf(), cause })?;
    // The live host may be writing: wait for it briefly rather than fail.
    db.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|cause| HistoryError::Open { path: path.to_path_buf(), cause })?;
    let read = |cause| HistoryError::Read { path: path.to_path_buf(), cause };
    let mut query = db
        .prepare("SELECT stock, field, host, item, at_ms, value FROM samples WHERE stock != '' AND at_ms >= ?1 ORDER BY at_ms")
        .map_err(read)?;
    let rows = query
        .query_map([since_ms], |row| {
            let sample = Sample {
                field: row.get(1)?,
                host: row.get(2)?,
                item: row.get(3)?,
                at_ms: row.get(4)?,
                value: row.get(5)?,
            };
            Ok((row.get::<_, String>(0)?, sample))
        })
        .map_err(read)?;
    let mut stocks: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
    let mut order = Vec::new();
    for row in rows {
        let (stock, sample) = row.map_err(read)?;
        if !stocks.contains_key(&stock) {
            order.push(stock.clone());
        }
        stocks.entry(stock).or_default().push(sample);
    }
    Ok(order
        .into_iter()
        .map(|stock| Batch { samples: stocks.remove(&stock).unwrap_or_default(), stock })
        .collect())
}
