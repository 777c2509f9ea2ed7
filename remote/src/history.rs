//! The history store: every run's per-host outcome and every collected or published sample, in SQLite on disk
//! (`.remote/history.sqlite` beside the inventory), so that `remote history`, the hub and the viewer still see
//! the past after a restart.
//!
//! Why SQLite (rusqlite, bundled): one file any tool can open (`sqlite3`, the viewer's `--history`), indexed
//! queries by time and host for `remote history`, and a write-ahead log so a viewer can read while the live
//! host writes. redb would do the storage as well, but a file only Rust can read makes a worse audit trail.
//!
//! Architecture invariant: the history never stops a run. A write that fails is reported once and dropped.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use remote_core::report::Report;
use remote_core::stocks::{Sample, now_ms};
use rusqlite::{Connection, params};
use serde::Serialize;

/// Output kept per host and run: the last this many bytes of stdout, then of stderr.
const OUTPUT_KEPT: usize = 4096;
/// How often old rows are deleted, at most.
const PRUNE_EVERY_MS: i64 = 60 * 60 * 1000;

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    line TEXT NOT NULL,
    label TEXT NOT NULL,
    grp TEXT NOT NULL,
    elapsed_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_at ON runs (at_ms);
CREATE TABLE IF NOT EXISTS outcomes (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    ok INTEGER NOT NULL,
    exit INTEGER,
    error TEXT,
    elapsed_ms INTEGER NOT NULL,
    output TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outcomes_run ON outcomes (run);
CREATE INDEX IF NOT EXISTS outcomes_host ON outcomes (host);
CREATE TABLE IF NOT EXISTS samples (
    at_ms INTEGER NOT NULL,
    stock TEXT NOT NULL,
    field TEXT NOT NULL,
    host TEXT NOT NULL,
    item TEXT NOT NULL,
    value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_at ON samples (at_ms);
";

/// Why the history could not be used.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The folder for the file could not be made.
    #[error("cannot create the folder of the history {}: {cause}", path.display())]
    Folder { path: PathBuf, cause: std::io::Error },
    /// SQLite could not open or set up the file.
    #[error("cannot open the history {}: {cause}", path.display())]
    Open { path: PathBuf, cause: rusqlite::Error },
    /// A query failed.
    #[error("cannot read the history {}: {cause}", path.display())]
    Query { path: PathBuf, cause: rusqlite::Error },
}

/// The history file of an inventory: `.remote/history.sqlite` beside it.
pub fn default_path(inventory: &Path) -> PathBuf {
    inventory.parent().unwrap_or(Path::new(".")).join(".remote").join("history.sqlite")
}

/// An open history, shared by the prompt, the jobs and the hub.
pub struct History {
    path: PathBuf,
    connection: Mutex<Connection>,
    /// How long rows are kept; `None` for a reader, which never deletes.
    keep: Option<Duration>,
    pruned_at: AtomicI64,
    /// Set after the first failed write, which is the one reported.
    failing: AtomicBool,
}

/// One past run, as `remote history` shows it.
#[derive(Debug, Serialize)]
pub struct PastRun {
    /// When it started, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The prompt line or pipeline that ran.
    pub line: String,
    /// What ran, as the summary calls it.
    pub label: String,
    /// The group.
    pub group: String,
    /// How long it took.
    pub elapsed_ms: i64,
    /// One per host.
    pub results: Vec<PastOutcome>,
}

/// One host's outcome in a past run.
#[derive(Debug, Serialize)]
pub struct PastOutcome {
    /// The host as the inventory wrote it.
    pub host: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// Its exit status, if the command ran to the end.
    pub exit: Option<i64>,
    /// Why it failed, in words.
    pub error: Option<String>,
    /// Time spent on it.
    pub elapsed_ms: i64,
    /// The end of its output (at most 4 KiB of stdout, then of stderr).
    pub output: String,
}

/// What `remote history` asks for.
#[derive(Debug, Default)]
pub struct Filter {
    /// Runs whose line mentions this pipeline (or any text).
    pub pipeline: Option<String>,
    /// Only this host's outcomes, and only runs that had it.
    pub host: Option<String>,
    /// Runs at or after this time.
    pub since_ms: Option<i64>,
}

impl History {
    /// Opens (or creates) the history at `path`, deleting rows older than `keep` when it is given.
    pub fn open(path: &Path, keep: Option<Duration>) -> Result<History, HistoryError> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let folder_error = |cause| HistoryError::Folder { path: path.to_path_buf(), cause };
        // The history holds every prompt line and the end of every host's output: for its owner's eyes only.
        if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty() && !f.exists()) {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(folder).map_err(folder_error)?;
        }
        std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path).map_err(folder_error)?;
        let open = |cause| HistoryError::Open { path: path.to_path_buf(), cause };
        let connection = Connection::open(path).map_err(open)?;
        // A reader (the viewer, `remote history`) and the live host may meet; wait for each other briefly.
        connection.busy_timeout(Duration::from_secs(5)).map_err(open)?;
        connection.execute_batch(SCHEMA).map_err(open)?;
        let history = History::over(path, connection, keep);
        history.prune_now();
        Ok(history)
    }

    fn over(path: &Path, connection: Connection, keep: Option<Duration>) -> History {
        History {
            path: path.to_path_buf(),
            connection: Mutex::new(connection),
            keep,
            pruned_at: AtomicI64::new(0),
            failing: AtomicBool::new(false),
        }
    }

    /// Keeps `report`, the outcome of `line`.
    pub fn record_run(&self, line: &str, report: &Report) {
        let at_ms = now_ms() - report.elapsed.as_millis() as i64;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO runs (at_ms, line, label, grp, elapsed_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![at_ms, line, report.label, report.group, report.elapsed.as_millis() as i64],
            )?;
            let run = tx.last_insert_rowid();
            let mut insert = tx.prepare_cached(
                "INSERT INTO outcomes (run, host, ok, exit, error, elapsed_ms, output) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for result in &report.results {
                let output = result.output().map(|o| format!("{}{}", tail(&o.stdout), tail(&o.stderr))).unwrap_or_default();
                let exit = result.output().and_then(|o| o.exit).map(i64::from);
                let elapsed = result.elapsed.as_millis() as i64;
                insert.execute(params![run, result.host, result.ok(), exit, result.error_text(), elapsed, output])?;
            }
            Ok(())
        });
    }

    /// Keeps `samples`, published to `stock` (empty for samples that were only collected).
    pub fn record_samples(&self, stock: &str, samples: &[Sample]) {
        if samples.is_empty() {
            return;
        }
        self.write(|tx| {
            let mut insert = tx
                .prepare_cached("INSERT INTO samples (at_ms, stock, field, host, item, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
            // SQLite stores NaN as NULL, which the column refuses: a value that is not a number is not kept.
            for s in samples.iter().filter(|s| s.value.is_finite()) {
                insert.execute(params![s.at_ms, stock, s.field, s.host, s.item, s.value])?;
            }
            Ok(())
        });
    }

    /// The samples published to stocks since `since_ms`, by stock, oldest first.
    pub fn published_since(&self, since_ms: i64) -> Result<Vec<(String, Sample)>, HistoryError> {
        let connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        let query = |cause| HistoryError::Query { path: self.path.clone(), cause };
        let mut statement = connection
            .prepare(
                "SELECT stock, field, host, item, at_ms, value FROM samples WHERE stock != '' AND at_ms >= ?1 ORDER BY at_ms, rowid",
            )
            .map_err(query)?;
        let rows = statement
            .query_map(params![since_ms], |row| {
                let sample =
                    Sample { field: row.get(1)?, host: row.get(2)?, item: row.get(3)?, at_ms: row.get(4)?, value: row.get(5)? };
                Ok((row.get::<_, String>(0)?, sample))
            })
            .map_err(query)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(query)
    }

    /// The runs `filter` asks for, oldest first.
    pub fn runs(&self, filter: &Filter) -> Result<Vec<PastRun>, HistoryError> {
        let connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        let query = |cause| HistoryError::Query { path: self.path.clone(), cause };
        let mut runs_query = connection
            .prepare(
                "SELECT id, at_ms, line, label, grp, elapsed_ms FROM runs
                 WHERE at_ms >= ?1 AND (?2 IS NULL OR instr(line, ?2) > 0 OR instr(label, ?2) > 0)
                 ORDER BY at_ms, id",
            )
            .map_err(query)?;
        let mut outcomes_query = connection
            .prepare(
                "SELECT host, ok, exit, error, elapsed_ms, output FROM outcomes
                 WHERE run = ?1 AND (?2 IS NULL OR host = ?2) ORDER BY rowid",
            )
            .map_err(query)?;
        let rows = runs_query
            .query_map(params![filter.since_ms.unwrap_or(0), filter.pipeline], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    PastRun {
                        at_ms: row.get(1)?,
                        line: row.get(2)?,
                        label: row.get(3)?,
                        group: row.get(4)?,
                        elapsed_ms: row.get(5)?,
                        results: Vec::new(),
                    },
                ))
            })
            .map_err(query)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(query)?;
        let mut runs = Vec::new();
        for (id, mut run) in rows {
            run.results = outcomes_query
                .query_map(params![id, filter.host], |row| {
                    Ok(PastOutcome {
                        host: row.get(0)?,
                        ok: row.get(1)?,
                        exit: row.get(2)?,
                        error: row.get(3)?,
                        elapsed_ms: row.get(4)?,
                        output: row.get(5)?,
                    })
                })
                .map_err(query)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(query)?;
            if filter.host.is_none() || !run.results.is_empty() {
                runs.push(run);
            }
        }
        Ok(runs)
    }

    /// Runs `work` in one transaction; a failure is said once on stderr and the rows are dropped.
    fn write(&self, work: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<()>) {
        let result = {
            let mut connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
            connection.transaction().and_then(|tx| {
                work(&tx)?;
                tx.commit()
            })
        };
        match result {
            Ok(()) => {
                self.failing.store(false, Ordering::Relaxed);
                if now_ms() - self.pruned_at.load(Ordering::Relaxed) > PRUNE_EVERY_MS {
                    self.prune_now();
                }
            }
            Err(err) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    eprintln!("remote: cannot write the history {}: {err}; runs go on without it", self.path.display());
                }
            }
        }
    }

    /// Deletes what is older than the retention.
    fn prune_now(&self) {
        let Some(keep) = self.keep else { return };
        let oldest = now_ms() - keep.as_millis() as i64;
        self.pruned_at.store(now_ms(), Ordering::Relaxed);
        let connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        let _ = connection.execute("DELETE FROM runs WHERE at_ms < ?1", params![oldest]);
        let _ = connection.execute("DELETE FROM samples WHERE at_ms < ?1", params![oldest]);
    }
}

/// The last `OUTPUT_KEPT` bytes of `bytes` as text.
fn tail(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(OUTPUT_KEPT);
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

impl History {
    /// Opens the history at `path` to read it only: no schema, no pruning, nothing written.
    pub fn open_to_read(path: &Path) -> Result<History, HistoryError> {
        let open = |cause| HistoryError::Open { path: path.to_path_buf(), cause };
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(open)?;
        connection.busy_timeout(Duration::from_secs(5)).map_err(open)?;
        Ok(History::over(path, connection, None))
    }
}
