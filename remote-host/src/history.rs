//! The history store: every run's per-host outcome and every collected or published sample, in SQLite on disk
//! (`.remote/history.sqlite` beside the inventory), so that `remote history`, the hub and the viewer still
//! see the past after a restart.
//!
//! Why SQLite (rusqlite, bundled): one file any tool can open (`sqlite3`, the viewer's `--history`), indexed
//! queries by time and host for `remote history`, and a write-ahead log so a viewer can read while the live
//! host writes. redb would do the storage as well, but a file only Rust can read makes a worse audit trail.
//!
//! Architecture invariant: the history never stops a run. A write that fails is reported once and dropped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use remote_core::Report;
use remote_core::stocks::{Sample, now_ms};
use rusqlite::{Connection, params};
use serde::Serialize;

/// Output kept per host and run: the last this many bytes of stdout, then of stderr.
const OUTPUT_KEPT: usize = 4096;
/// The size the history is kept under unless `--history-max-size` says otherwise.
pub const DEFAULT_MAX_SIZE: u64 = 1 << 30;
/// How often the writer looks at the file's size and the retention: every so long, or every so many writes,
/// whichever comes first (writes can come much faster than a clock tick: a fleet's samples, a benchmark).
const UPKEEP_EVERY: Duration = Duration::from_secs(10);
const UPKEEP_WRITES: usize = 256;
/// How long the writer spends on upkeep steps between two batches of writes, at most (and one step more).
const UPKEEP_SLICE: Duration = Duration::from_millis(25);
/// Rows deleted by one step of a prune: small enough that a step stays well under the 50 ms a writer may
/// wait.
const PRUNE_RUNS: usize = 100;
const PRUNE_SAMPLES: usize = 1000;
/// Free pages given back to the filesystem by one step (4 KiB each: 1 MiB).
const VACUUM_PAGES: usize = 256;
/// Once over its cap, the history is pruned down to this share of it, so that it is not pruned again at once.
const PRUNE_TO: f64 = 0.9;
/// Writes waiting for the writer at most; beyond, new ones are dropped and counted (a disk that stalls must
/// not grow the queue without bound).
const QUEUE: usize = 1024;
/// Writes applied in one transaction at most.
const BATCH: usize = 256;

const SCHEMA: &str = "
PRAGMA auto_vacuum = INCREMENTAL;
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
    /// The file is damaged and could not be set aside for a new one.
    #[error("the history {} is damaged ({problem}) and could not be set aside: {cause}", path.display())]
    SetAside { path: PathBuf, problem: String, cause: std::io::Error },
}

/// The history file of an inventory: `.remote/history.sqlite` beside it.
pub fn default_path(inventory: &Path) -> PathBuf {
    inventory.parent().unwrap_or(Path::new(".")).join(".remote").join("history.sqlite")
}

/// An open history, shared by the prompt, the jobs and the hub. Writes go to a thread of their own, which
/// also keeps the file within its limits a little at a time between them; reads have a connection of their
/// own (the write-ahead log lets them read while the writer writes).
pub struct History {
    path: PathBuf,
    /// Reads: the hub's recent samples, `remote history`.
    connection: Mutex<Connection>,
    /// The writer's queue; `None` for a reader.
    writer: Option<mpsc::SyncSender<Job>>,
    /// What the writer reports back.
    health: Arc<Health>,
}

/// How much a history may hold.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Rows older than this are deleted.
    pub keep: Option<Duration>,
    /// Past this many bytes, the oldest rows are deleted and their pages given back.
    pub max_size: Option<u64>,
}

/// What the writer thread is asked to do.
enum Job {
    Run {
        at_ms: i64,
        line: String,
        label: String,
        group: String,
        elapsed_ms: i64,
        outcomes: Vec<Outcome>,
    },
    Samples {
        stock: String,
        samples: Vec<Sample>,
    },
    /// Answered once everything queued before it is written.
    Flush(mpsc::Sender<()>),
}

/// One host's outcome as it is kept.
struct Outcome {
    host: String,
    ok: bool,
    exit: Option<i64>,
    error: Option<String>,
    elapsed_ms: i64,
    output: String,
}

/// The writer's state, as the rest of the process may want to know it.
#[derive(Default)]
struct Health {
    /// Set after a write failed, until one succeeds again.
    failing: AtomicBool,
    /// Writes dropped since the history failed (or its queue was full).
    dropped: AtomicU64,
    /// The longest a prune or vacuum step held the writer, in microseconds.
    longest_step_us: AtomicU64,
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
    /// Opens (or creates) the history at `path`, deleting rows older than `keep` when it is given, and
    /// keeping it under [`DEFAULT_MAX_SIZE`].
    pub fn open(path: &Path, keep: Option<Duration>) -> Result<History, HistoryError> {
        Self::open_with(path, Limits { keep, max_size: Some(DEFAULT_MAX_SIZE) })
    }

    /// Opens (or creates) the history at `path` kept within `limits`. A damaged file (`PRAGMA quick_check`)
    /// is set aside as `PATH.damaged-DATE`, said on stderr, and a new one started.
    pub fn open_with(path: &Path, limits: Limits) -> Result<History, HistoryError> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let folder_error = |cause| HistoryError::Folder { path: path.to_path_buf(), cause };
        // The history holds every prompt line and the end of every host's output: for its owner's eyes only.
        if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty() && !f.exists()) {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(folder).map_err(folder_error)?;
        }
        if let Some(problem) = damage(path) {
            let aside = set_aside(path).map_err(|cause| HistoryError::SetAside {
                path: path.to_path_buf(),
                problem: problem.clone(),
                cause,
            })?;
            eprintln!(
                "remote: the history {} is damaged ({problem}); it was set aside as {} and a new one started",
                path.display(),
                aside.display()
            );
        }
        std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path).map_err(folder_error)?;
        let open = |cause| HistoryError::Open { path: path.to_path_buf(), cause };
        let writer = Connection::open(path).map_err(open)?;
        // A reader (the viewer, `remote history`) and the live host may meet; wait for each other briefly.
        writer.busy_timeout(Duration::from_secs(5)).map_err(open)?;
        writer.execute_batch(SCHEMA).map_err(open)?;
        // A file made before the cap had no incremental vacuum: switching needs one full VACUUM, once.
        let mode: i64 = writer.query_row("PRAGMA auto_vacuum", [], |row| row.get(0)).map_err(open)?;
        if mode != 2 {
            writer.execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;").map_err(open)?;
        }
        // The write-ahead log counts against the cap too: checkpointed (and cut back) at an eighth of it, or
        // at SQLite's usual 1000 pages for a big cap.
        if let Some(cap) = limits.max_size {
            let pages = (cap / 8 / 4096).clamp(16, 1000);
            writer
                .execute_batch(&format!(
                    "PRAGMA wal_autocheckpoint = {pages}; PRAGMA journal_size_limit = {};",
                    pages * 4096
                ))
                .map_err(open)?;
        }
        let reader = Connection::open(path).map_err(open)?;
        reader.busy_timeout(Duration::from_secs(5)).map_err(open)?;
        let health = Arc::new(Health::default());
        let (sender, jobs) = mpsc::sync_channel(QUEUE);
        let mut store = Writer {
            path: path.to_path_buf(),
            connection: writer,
            limits,
            health: health.clone(),
            upkept: None,
            shrinking: false,
            written: 0,
        };
        std::thread::Builder::new()
            .name("history".into())
            .spawn(move || store.run(jobs))
            .map_err(|cause| HistoryError::Folder { path: path.to_path_buf(), cause })?;
        Ok(History { path: path.to_path_buf(), connection: Mutex::new(reader), writer: Some(sender), health })
    }

    fn over(path: &Path, connection: Connection) -> History {
        History {
            path: path.to_path_buf(),
            connection: Mutex::new(connection),
            writer: None,
            health: Arc::default(),
        }
    }

    /// Keeps `report`, the outcome of `line`: per host what a person reads back (whether it worked, why not,
    /// the end of a command's own output, the one line that says a probe's data), not the raw output of
    /// probes.
    pub fn record_run(&self, line: &str, report: &Report) {
        let outcomes = report
            .results
            .iter()
            .map(|result| {
                let output = match result.output() {
                    // A probe's raw output is its data's source, read back as the data's one line.
                    Some(_) if result.ok() && result.any_data().is_some() => {
                        remote_core::pretty::host_line(result)
                    }
                    Some(o) => format!("{}{}", tail(&o.stdout), tail(&o.stderr)),
                    None => String::new(),
                };
                Outcome {
                    host: result.host.clone(),
                    ok: result.ok(),
                    exit: result.output().and_then(|o| o.exit).map(i64::from),
                    error: result.error_text(),
                    elapsed_ms: result.elapsed.as_millis() as i64,
                    output,
                }
            })
            .collect();
        self.send(Job::Run {
            at_ms: now_ms() - report.elapsed.as_millis() as i64,
            line: line.to_string(),
            label: report.label.clone(),
            group: report.group.clone(),
            elapsed_ms: report.elapsed.as_millis() as i64,
            outcomes,
        });
    }

    /// Keeps `samples`, published to `stock` (empty for samples that were only collected).
    pub fn record_samples(&self, stock: &str, samples: &[Sample]) {
        if !samples.is_empty() {
            self.send(Job::Samples { stock: stock.to_string(), samples: samples.to_vec() });
        }
    }

    /// Hands `job` to the writer; a full queue (a disk that stalls) drops it and counts it, never blocks a
    /// run.
    fn send(&self, job: Job) {
        let Some(writer) = &self.writer else { return };
        if writer.try_send(job).is_err() {
            self.health.dropped.fetch_add(1, Ordering::Relaxed);
            if !self.health.failing.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "remote: the history {} cannot keep up; runs go on without it",
                    self.path.display()
                );
            }
        }
    }

    /// Waits (at most `limit`) until everything recorded so far is written: before the process ends.
    pub fn flush(&self, limit: Duration) -> bool {
        let Some(writer) = &self.writer else { return true };
        let deadline = Instant::now() + limit;
        let (done, written) = mpsc::channel();
        // A full queue (a writer stalled on a locked or slow disk) is waited for no longer than `limit`
        // either.
        let mut job = Job::Flush(done);
        loop {
            match writer.try_send(job) {
                Ok(()) => break,
                Err(mpsc::TrySendError::Full(back)) if Instant::now() < deadline => {
                    job = back;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(_) => return false,
            }
        }
        written.recv_timeout(deadline.saturating_duration_since(Instant::now())).is_ok()
    }

    /// The longest a prune or vacuum step has held the writer so far.
    pub fn longest_upkeep_step(&self) -> Duration {
        Duration::from_micros(self.health.longest_step_us.load(Ordering::Relaxed))
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
                let sample = Sample {
                    field: row.get(1)?,
                    host: row.get(2)?,
                    item: row.get(3)?,
                    at_ms: row.get(4)?,
                    value: row.get(5)?,
                };
                Ok((row.get::<_, String>(0)?, sample))
            })
            .map_err(query)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(query)
    }

    /// The newest run (a prompt line's or a job's), with its outcomes; `None` when there is none yet.
    pub fn last_run(&self) -> Result<Option<PastRun>, HistoryError> {
        let newest: Option<i64> = {
            let connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
            connection
                .query_row("SELECT max(at_ms) FROM runs", [], |row| row.get(0))
                .map_err(|cause| HistoryError::Query { path: self.path.clone(), cause })?
        };
        let Some(at_ms) = newest else { return Ok(None) };
        let filter = Filter { since_ms: Some(at_ms), ..Filter::default() };
        Ok(self.runs(&filter)?.pop())
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

    /// What the history holds: its size on disk, its rows, and its oldest record.
    pub fn stats(&self) -> Result<Stats, HistoryError> {
        let connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        let query = |cause| HistoryError::Query { path: self.path.clone(), cause };
        let count = |table: &str| {
            connection.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| row.get::<_, i64>(0))
        };
        let oldest = connection
            .query_row(
                "SELECT min(at) FROM (SELECT min(at_ms) AS at FROM runs UNION ALL SELECT min(at_ms) FROM samples)",
                [],
                |row| row.get::<_, Option<i64>>(0),
            )
            .map_err(query)?;
        let file = |suffix: &str| {
            std::fs::metadata(format!("{}{suffix}", self.path.display())).map_or(0, |m| m.len())
        };
        Ok(Stats {
            path: self.path.clone(),
            bytes: file("") + file("-wal"),
            runs: count("runs").map_err(query)?,
            outcomes: count("outcomes").map_err(query)?,
            samples: count("samples").map_err(query)?,
            oldest_ms: oldest,
        })
    }
}

/// What `remote history --stats` says.
#[derive(Debug, Serialize)]
pub struct Stats {
    /// The file.
    pub path: PathBuf,
    /// Its size on disk, write-ahead log included.
    pub bytes: u64,
    /// Runs kept.
    pub runs: i64,
    /// Per-host outcomes of those runs.
    pub outcomes: i64,
    /// Samples kept.
    pub samples: i64,
    /// The oldest run or sample, in milliseconds since the Unix epoch.
    pub oldest_ms: Option<i64>,
}

/// The writer thread: applies the jobs in order, in transactions of up to [`BATCH`], and between them keeps
/// the file within its limits one bounded step at a time.
struct Writer {
    path: PathBuf,
    connection: Connection,
    limits: Limits,
    health: Arc<Health>,
    /// When the size and the retention were last looked at; `None` before the first look.
    upkept: Option<Instant>,
    /// Set when the file grew past its cap, until it is back under [`PRUNE_TO`] of it.
    shrinking: bool,
    /// Writes since the last look.
    written: usize,
}

impl Writer {
    fn run(&mut self, jobs: mpsc::Receiver<Job>) {
        let mut pruning = false;
        loop {
            // While a prune is under way its steps go on between writes; otherwise the writer waits for work.
            let wait = if pruning { Duration::ZERO } else { UPKEEP_EVERY };
            let first = match jobs.recv_timeout(wait) {
                Ok(job) => Some(job),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            };
            let mut batch: Vec<Job> = first.into_iter().collect();
            while batch.len() < BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let mut flushes = Vec::new();
            let writes: Vec<Job> = batch
                .into_iter()
                .filter_map(|job| match job {
                    Job::Flush(done) => {
                        flushes.push(done);
                        None
                    }
                    write => Some(write),
                })
                .collect();
            let writing = Instant::now();
            if !writes.is_empty() {
                self.written += writes.len();
                self.write(&writes);
            }
            let wrote = writing.elapsed();
            for done in flushes {
                let _ = done.send(());
            }
            if pruning
                || self.written >= UPKEEP_WRITES
                || self.upkept.is_none_or(|at| at.elapsed() >= UPKEEP_EVERY)
            {
                // Steps, each bounded, between two batches of writes: for UPKEEP_SLICE, or longer than the
                // batch took to write, so that deleting outpaces writing however fast the fleet writes.
                let slice = Instant::now();
                let budget = UPKEEP_SLICE.max(wrote * 3 / 2);
                pruning = self.upkeep_step();
                while pruning && slice.elapsed() < budget {
                    pruning = self.upkeep_step();
                }
            }
        }
    }

    /// Writes `jobs` in one transaction. A failure is said once and the rows are dropped; the first success
    /// after failures says that writing resumed and how much was lost. A damaged file is set aside for a new
    /// one.
    fn write(&mut self, jobs: &[Job]) {
        let result = self.connection.transaction().and_then(|tx| {
            for job in jobs {
                apply(&tx, job)?;
            }
            tx.commit()
        });
        match result {
            Ok(()) => {
                if self.health.failing.swap(false, Ordering::Relaxed) {
                    let dropped = self.health.dropped.swap(0, Ordering::Relaxed);
                    eprintln!(
                        "remote: the history {} is written again; {dropped} write(s) were lost while it could not be",
                        self.path.display()
                    );
                }
            }
            Err(err) => {
                self.health.dropped.fetch_add(jobs.len() as u64, Ordering::Relaxed);
                if is_damage(&err) {
                    self.start_again(&err.to_string());
                } else if !self.health.failing.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "remote: cannot write the history {}: {err}; runs go on without it",
                        self.path.display()
                    );
                }
            }
        }
    }

    /// The file turned out damaged while in use: set aside, said, and a new one in its place.
    fn start_again(&mut self, problem: &str) {
        // Closed before the file is moved: SQLite removes its -wal and -shm by name on close, which after the
        // move would be the new file's.
        match Connection::open_in_memory() {
            Ok(placeholder) => drop(std::mem::replace(&mut self.connection, placeholder)),
            Err(_) => return,
        }
        let fresh = set_aside(&self.path).and_then(|aside| {
            let connection = Connection::open(&self.path).map_err(std::io::Error::other)?;
            connection.busy_timeout(Duration::from_secs(5)).map_err(std::io::Error::other)?;
            connection.execute_batch(SCHEMA).map_err(std::io::Error::other)?;
            Ok((aside, connection))
        });
        match fresh {
            Ok((aside, connection)) => {
                self.connection = connection;
                eprintln!(
                    "remote: the history {} is damaged ({problem}); it was set aside as {} and a new one started",
                    self.path.display(),
                    aside.display()
                );
            }
            Err(err) => {
                if !self.health.failing.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "remote: the history {} is damaged ({problem}) and could not be replaced ({err}); runs go on without it",
                        self.path.display()
                    );
                }
            }
        }
    }

    /// One bounded step of keeping the file within its limits: deletes one batch of the oldest rows past the
    /// retention or over the size cap, or gives back free pages. Whether there is more to do.
    fn upkeep_step(&mut self) -> bool {
        let started = Instant::now();
        if self.written >= UPKEEP_WRITES || self.upkept.is_none_or(|at| at.elapsed() >= UPKEEP_EVERY) {
            self.upkept = Some(started);
            self.written = 0;
        }
        let more = self.prune_step().unwrap_or(false);
        let took = started.elapsed().as_micros() as u64;
        self.health.longest_step_us.fetch_max(took, Ordering::Relaxed);
        more
    }

    fn prune_step(&mut self) -> rusqlite::Result<bool> {
        let c = &self.connection;
        if let Some(keep) = self.limits.keep {
            let oldest = now_ms() - keep.as_millis() as i64;
            let runs = c.execute(
                "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE at_ms < ?1 ORDER BY at_ms LIMIT ?2)",
                params![oldest, PRUNE_RUNS],
            )?;
            let samples = c.execute(
                "DELETE FROM samples WHERE rowid IN (SELECT rowid FROM samples WHERE at_ms < ?1 ORDER BY at_ms LIMIT ?2)",
                params![oldest, PRUNE_SAMPLES],
            )?;
            if runs > 0 || samples > 0 {
                return Ok(true);
            }
        }
        let page_size: i64 = c.query_row("PRAGMA page_size", [], |row| row.get(0))?;
        let pages: i64 = c.query_row("PRAGMA page_count", [], |row| row.get(0))?;
        let free: i64 = c.query_row("PRAGMA freelist_count", [], |row| row.get(0))?;
        let used = ((pages - free) * page_size) as u64;
        let cap = self.limits.max_size.unwrap_or(u64::MAX);
        if used > cap {
            self.shrinking = true;
        }
        if self.shrinking && used as f64 <= cap as f64 * PRUNE_TO {
            self.shrinking = false;
        }
        if self.shrinking {
            // Over the cap: the oldest go first, whichever table holds them.
            let oldest = |table: &str| {
                c.query_row(&format!("SELECT min(at_ms) FROM {table}"), [], |row| {
                    row.get::<_, Option<i64>>(0)
                })
            };
            let deleted = match (oldest("runs")?, oldest("samples")?) {
                (Some(runs), Some(samples)) if runs <= samples => self.delete_oldest_runs()?,
                (Some(_), None) => self.delete_oldest_runs()?,
                (_, Some(_)) => c.execute(
                    "DELETE FROM samples WHERE rowid IN (SELECT rowid FROM samples ORDER BY at_ms, rowid LIMIT ?1)",
                    params![PRUNE_SAMPLES],
                )?,
                (None, None) => 0,
            };
            if deleted > 0 {
                return Ok(true);
            }
            self.shrinking = false;
        }
        if free > 0 {
            // Pages freed by deletes go back to the filesystem a slice at a time. The pragma frees one page
            // per step of its statement, so it is stepped to the end.
            let mut vacuum = c.prepare(&format!("PRAGMA incremental_vacuum({VACUUM_PAGES})"))?;
            let mut steps = vacuum.query([])?;
            while steps.next()?.is_some() {}
            return Ok(free > VACUUM_PAGES as i64);
        }
        Ok(false)
    }

    fn delete_oldest_runs(&self) -> rusqlite::Result<usize> {
        self.connection.execute(
            "DELETE FROM runs WHERE id IN (SELECT id FROM runs ORDER BY at_ms, id LIMIT ?1)",
            params![PRUNE_RUNS],
        )
    }
}

/// Writes one job into `tx`.
fn apply(tx: &rusqlite::Transaction, job: &Job) -> rusqlite::Result<()> {
    match job {
        Job::Run { at_ms, line, label, group, elapsed_ms, outcomes } => {
            tx.prepare_cached(
                "INSERT INTO runs (at_ms, line, label, grp, elapsed_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![at_ms, line, label, group, elapsed_ms])?;
            let run = tx.last_insert_rowid();
            let mut insert = tx.prepare_cached(
                "INSERT INTO outcomes (run, host, ok, exit, error, elapsed_ms, output) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for o in outcomes {
                insert.execute(params![run, o.host, o.ok, o.exit, o.error, o.elapsed_ms, o.output])?;
            }
        }
        Job::Samples { stock, samples } => {
            let mut insert = tx
                .prepare_cached("INSERT INTO samples (at_ms, stock, field, host, item, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
            // SQLite stores NaN as NULL, which the column refuses: a value that is not a number is not kept.
            for s in samples.iter().filter(|s| s.value.is_finite()) {
                insert.execute(params![s.at_ms, stock, s.field, s.host, s.item, s.value])?;
            }
        }
        Job::Flush(_) => {}
    }
    Ok(())
}

/// Whether `err` says the file is damaged (not merely busy, full or read-only).
fn is_damage(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// What is wrong with the history at `path`, if it is damaged: `PRAGMA quick_check`'s first complaint, or why
/// SQLite cannot read it at all. A file that is not there, or empty, is not damaged.
fn damage(path: &Path) -> Option<String> {
    if std::fs::metadata(path).map_or(true, |m| m.len() == 0) {
        return None;
    }
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = match Connection::open_with_flags(path, flags) {
        Ok(connection) => connection,
        Err(err) if is_damage(&err) => return Some(err.to_string()),
        Err(_) => return None,
    };
    let _ = connection.busy_timeout(Duration::from_secs(5));
    match connection.query_row("PRAGMA quick_check(1)", [], |row| row.get::<_, String>(0)) {
        Ok(verdict) if verdict == "ok" => None,
        Ok(verdict) => Some(verdict),
        Err(err) if is_damage(&err) => Some(err.to_string()),
        // Busy or locked: another process has it open; that is no damage.
        Err(_) => None,
    }
}

/// Moves the history at `path` (and its write-ahead log) to `PATH.damaged-DATE`; where it went.
fn set_aside(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::system())
        .strftime("%Y%m%d-%H%M%S")
        .to_string();
    let aside = PathBuf::from(format!("{}.damaged-{stamp}", path.display()));
    std::fs::rename(path, &aside)?;
    for suffix in ["-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        if from.exists() {
            let _ = std::fs::rename(&from, format!("{}{suffix}", aside.display()));
        }
    }
    Ok(aside)
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
        Ok(History::over(path, connection))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use remote_core::data::{Data, Load};
    use remote_core::{HostResult, Output};

    use super::*;

    fn report(label: &str, results: Vec<HostResult>) -> Report {
        Report { label: label.into(), group: "web".into(), results, elapsed: Duration::from_millis(5) }
    }

    fn host(name: &str, output: Output) -> HostResult {
        HostResult { host: name.into(), outcome: Ok(output), elapsed: Duration::from_millis(3) }
    }

    fn sample(host: &str, at_ms: i64) -> Sample {
        Sample { field: "idle".into(), host: host.into(), item: String::new(), at_ms, value: 50.0 }
    }

    fn flushed(history: &History) {
        assert!(history.flush(Duration::from_secs(30)), "the history wrote what it was given");
    }

    /// What a person reads back is kept: a command's own output; for a probe, the one line of its data, not
    /// the raw text it was read from.
    #[test]
    fn a_probes_raw_output_is_kept_as_its_one_line() {
        let folder = tempfile::tempdir().unwrap();
        let history = History::open(&folder.path().join("history.sqlite"), None).unwrap();
        let load = Load { load1: 0.5, load5: 0.25, load15: 0.125, cores: 2, running: 1, ..Load::default() };
        let dump = "0.50 0.25 0.12 1/123 4567\n".repeat(200);
        let probe = Output {
            exit: Some(0),
            stdout: dump.into_bytes(),
            data: Some(Data::Load(load)),
            ..Output::default()
        };
        let command = Output { exit: Some(0), stdout: b"deployed v2\n".to_vec(), ..Output::default() };
        history.record_run("load(web)", &report("load", vec![host("a", probe)]));
        history.record_run("exec(web, \"deploy\")", &report("deploy", vec![host("a", command)]));
        flushed(&history);
        let runs = history.runs(&Filter::default()).unwrap();
        let outputs: Vec<&str> = runs.iter().map(|r| r.results[0].output.as_str()).collect();
        assert_eq!(outputs.len(), 2);
        assert!(outputs[0].len() < 200 && outputs[0].contains("0.50"), "{:?}", outputs[0]);
        assert_eq!(outputs[1], "deployed v2\n");
    }

    /// Past its cap the history drops the oldest first and gives the pages back: the file stays near the cap
    /// however much is written, and the newest rows are there.
    #[test]
    fn the_history_stays_under_its_cap_dropping_the_oldest() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("history.sqlite");
        let cap = 2 << 20;
        let history = History::open_with(&path, Limits { keep: None, max_size: Some(cap) }).unwrap();
        let output = Output { exit: Some(0), stdout: vec![b'x'; 3000], ..Output::default() };
        // Runs are stamped now; the samples of the simulated ticks end now too, so the two interleave in
        // time.
        let start = now_ms() - 2600 * 5000;
        for tick in 0..2000i64 {
            let samples: Vec<Sample> =
                (0..50).map(|h| sample(&format!("web-{h}"), start + tick * 5000)).collect();
            history.record_samples("Idle CPU", &samples);
            if tick % 10 == 0 {
                history
                    .record_run(&format!("tick {tick}"), &report("deploy", vec![host("a", output.clone())]));
            }
            if tick % 200 == 0 {
                flushed(&history);
            }
        }
        flushed(&history);
        // A few more writes let the last upkeep steps run.
        for tick in 2000..2600i64 {
            history.record_samples("Idle CPU", &[sample("web-0", start + tick * 5000)]);
        }
        flushed(&history);
        let stats = history.stats().unwrap();
        assert!(stats.bytes < cap + (cap / 2), "{} bytes on disk for a cap of {cap}", stats.bytes);
        assert!(stats.samples < 50_000, "the oldest samples were dropped: {} left", stats.samples);
        assert!(stats.oldest_ms.unwrap() > start, "{stats:?}");
        assert_eq!(stats.runs, 200, "the runs, all newer than the samples, are kept");

        // Runs alone past the cap: the oldest go, the newest stay.
        for run in 0..1500 {
            history.record_run(&format!("run {run}"), &report("deploy", vec![host("a", output.clone())]));
            // Faster than any prompt: the queue, which drops rather than stall a run, is let drain now and
            // then.
            if run % 100 == 0 {
                flushed(&history);
            }
        }
        flushed(&history);
        let stats = history.stats().unwrap();
        assert!(stats.bytes < cap + (cap / 2), "{} bytes on disk for a cap of {cap}", stats.bytes);
        let runs = history.runs(&Filter::default()).unwrap();
        assert_eq!(runs.last().map(|r| r.line.as_str()), Some("run 1499"), "the newest run is kept");
        assert!(
            runs.len() < 1500 && runs[0].line.starts_with("run "),
            "the oldest runs went first: {} left",
            runs.len()
        );
        assert!(history.longest_upkeep_step() > Duration::ZERO);
    }

    /// A file damaged mid-way is found at open, set aside under a name that says so, and a new one is
    /// started.
    #[test]
    fn a_damaged_history_is_set_aside_and_a_new_one_started() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("history.sqlite");
        {
            let history = History::open(&path, None).unwrap();
            for i in 0..300 {
                history.record_run(
                    &format!("line {i}"),
                    &report("x", vec![host("a", Output { exit: Some(0), ..Output::default() })]),
                );
            }
            flushed(&history);
        }
        // Give the writer thread time to close its connection, which checkpoints the log into the file.
        std::thread::sleep(Duration::from_millis(300));
        let mut bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 16 << 10, "{} bytes", bytes.len());
        let middle = bytes.len() / 2;
        bytes[middle..middle + 8192].fill(0xa5);
        std::fs::write(&path, &bytes).unwrap();
        let _ = std::fs::remove_file(format!("{}-wal", path.display()));

        let history = History::open(&path, None).unwrap();
        let aside: Vec<String> = std::fs::read_dir(folder.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("history.sqlite.damaged-"))
            .collect();
        assert_eq!(aside.len(), 1, "{aside:?}");
        history.record_run("after", &report("x", vec![]));
        flushed(&history);
        let runs = history.runs(&Filter::default()).unwrap();
        assert_eq!(runs.iter().map(|r| r.line.as_str()).collect::<Vec<_>>(), ["after"]);
    }
}
