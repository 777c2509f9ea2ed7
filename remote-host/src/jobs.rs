//! Scheduled jobs in the live host: a table of named jobs with their schedules, one scheduler thread that
//! starts each job's line when it is due, and the records `jobs` shows.
//!
//! A job is a prompt line (`listing sandbox`, `uptime(sandbox) | pretty`) run on its own thread through the
//! session, so every tick runs the `ops` loaded at that moment. Runs of one job never overlap: a tick that
//! falls while the job still runs is skipped and counted. The table is plain data with a clock passed in
//! ([`Table::due`], [`Table::finish`]), so its rules are tested without threads or hosts.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use jiff::ZonedDateTime;

use crate::schedule::Schedule;

/// What one run of a job's line gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Hosts that succeeded.
    pub ok: usize,
    /// Hosts that failed.
    pub failed: usize,
    /// Why the line could not run at all (an unknown pipeline after a reload, a bad inventory), or why every
    /// host failed together (a panic in ops).
    pub error: Option<String>,
    /// The first failing host and why (`web-1: exited with status 3`), when hosts failed.
    pub first_failure: Option<String>,
    /// The run summary as `pretty` renders it, for `jobs NAME`.
    pub summary: String,
}

impl Outcome {
    /// Whether the run went wrong anywhere.
    pub fn failing(&self) -> bool {
        self.failed > 0 || self.error.is_some()
    }

    /// What went wrong, in a few words: the error, or the first failing host.
    pub fn problem(&self) -> Option<String> {
        self.error.clone().or_else(|| self.first_failure.clone())
    }
}

/// The last run of a job.
#[derive(Clone, Debug)]
pub struct LastRun {
    /// When it started.
    pub started: ZonedDateTime,
    /// How long it took.
    pub took: Duration,
    /// What it gave.
    pub outcome: Outcome,
}

/// One scheduled job.
#[derive(Clone, Debug)]
pub struct Job {
    /// Its name, unique in the table.
    pub name: String,
    /// When it runs.
    pub schedule: Schedule,
    /// The prompt line it runs.
    pub line: String,
    /// When it is due next; `None` once a one-off (`in`) job has run.
    pub next: Option<ZonedDateTime>,
    /// Whether a run is going on now.
    pub running: bool,
    /// Runs started.
    pub runs: u64,
    /// Ticks that fell while a run was still going on.
    pub skipped: u64,
    /// The last finished run.
    pub last: Option<LastRun>,
    /// Tells this job's runs from those of a job it replaced under the same name.
    id: u64,
}

/// A run to start: which job (by id, so a replaced job's run is not counted for its successor) and its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Start {
    pub id: u64,
    pub name: String,
    pub line: String,
}

/// What changed when a run finished, for the one-line notices: only changes of outcome and errors are told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Nothing worth a line.
    Quiet,
    /// It was fine (or had not run) and now fails.
    Failing(String),
    /// It failed before and now is fine.
    Recovered,
}

/// The jobs, as data.
#[derive(Default)]
pub struct Table {
    jobs: BTreeMap<String, Job>,
    next_id: u64,
}

impl Table {
    /// Adds a job; `Some(old)` when it replaced one of the same name.
    pub fn watch(&mut self, name: &str, schedule: Schedule, line: &str, now: &ZonedDateTime) -> Option<Job> {
        self.next_id += 1;
        let job = Job {
            name: name.to_string(),
            next: Some(schedule.first(now)),
            schedule,
            line: line.to_string(),
            running: false,
            runs: 0,
            skipped: 0,
            last: None,
            id: self.next_id,
        };
        self.jobs.insert(name.to_string(), job)
    }

    /// Removes a job; `false` when there is none of that name.
    pub fn halt(&mut self, name: &str) -> bool {
        self.jobs.remove(name).is_some()
    }

    /// Removes every job; how many there were.
    pub fn halt_all(&mut self) -> usize {
        let count = self.jobs.len();
        self.jobs.clear();
        count
    }

    /// The jobs, by name.
    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.jobs.values()
    }

    /// The job called `name`.
    pub fn get(&self, name: &str) -> Option<&Job> {
        self.jobs.get(name)
    }

    /// The runs due at `now`; a job still running skips its tick (counted). Every due job moves on to its
    /// next time after `now`, so a long pause (a suspended laptop) counts its missed ticks as skipped instead
    /// of running them all at once.
    pub fn due(&mut self, now: &ZonedDateTime) -> Vec<Start> {
        let mut starts = Vec::new();
        for job in self.jobs.values_mut() {
            let Some(due) = job.next.clone() else { continue };
            if due > *now {
                continue;
            }
            if job.running {
                job.skipped += 1;
            } else {
                job.running = true;
                job.runs += 1;
                starts.push(Start { id: job.id, name: job.name.clone(), line: job.line.clone() });
            }
            let mut next = job.schedule.after(&due);
            while let Some(later) = next.clone().filter(|n| n <= now) {
                job.skipped += 1;
                next = job.schedule.after(&later);
            }
            job.next = next;
        }
        starts
    }

    /// Records the end of run `id`; what changed, or `None` when its job was halted or replaced meanwhile.
    pub fn finish(
        &mut self,
        id: u64,
        started: ZonedDateTime,
        took: Duration,
        outcome: Outcome,
    ) -> Option<Change> {
        let job = self.jobs.values_mut().find(|job| job.id == id)?;
        job.running = false;
        let was_failing = job.last.as_ref().map(|last| last.outcome.failing());
        let previous_error = job.last.as_ref().and_then(|last| last.outcome.error.clone());
        let change = match (was_failing, outcome.failing()) {
            (Some(true), false) => Change::Recovered,
            // An error is told once, until it changes; failing hosts once, until they recover.
            (Some(true), true) if outcome.error.is_none() || outcome.error == previous_error => Change::Quiet,
            (_, true) => Change::Failing(describe_failure(&outcome)),
            (_, false) => Change::Quiet,
        };
        job.last = Some(LastRun { started, took, outcome });
        Some(change)
    }

    /// The earliest time any job is due.
    pub fn next_due(&self) -> Option<ZonedDateTime> {
        self.jobs.values().filter_map(|job| job.next.clone()).min()
    }
}

fn describe_failure(outcome: &Outcome) -> String {
    match &outcome.error {
        Some(error) => error.clone(),
        None => {
            let first = outcome.first_failure.as_ref().map(|f| format!(" ({f})")).unwrap_or_default();
            format!("{} of {} hosts failed{first}", outcome.failed, outcome.ok + outcome.failed)
        }
    }
}

/// The longest the scheduler sleeps before looking at the wall clock again.
const LONGEST_SLEEP: Duration = Duration::from_secs(30);

/// Runs a job's line and says how it went; blocks until the run is over.
pub type Runner = Arc<dyn Fn(&str) -> Outcome + Send + Sync>;

/// Tells the prompt something in one line.
pub type Tell = Arc<dyn Fn(String) + Send + Sync>;

/// The live host's jobs: the table and the scheduler thread that runs it on the wall clock.
#[derive(Clone)]
pub struct Scheduler {
    shared: Arc<Shared>,
}

struct Shared {
    // The table, and the condition that wakes the scheduler (waiting on the table) when jobs change.
    table: Mutex<Table>,
    wake: Condvar,
    // Runs going on and whether the host is leaving, and the condition `shutdown` waits on for runs to end.
    state: Mutex<State>,
    ended: Condvar,
    runner: Runner,
    tell: Tell,
}

#[derive(Default)]
struct State {
    stopping: bool,
    running: usize,
}

/// The local time now.
pub fn now() -> ZonedDateTime {
    ZonedDateTime::now()
}

impl Scheduler {
    /// Starts the scheduler thread; `runner` runs lines, `tell` prints notices.
    pub fn start(runner: Runner, tell: Tell) -> Self {
        let shared = Arc::new(Shared {
            table: Mutex::default(),
            wake: Condvar::new(),
            state: Mutex::default(),
            ended: Condvar::new(),
            runner,
            tell,
        });
        let looping = shared.clone();
        std::thread::Builder::new()
            .name("jobs".into())
            .spawn(move || looping.run())
            .expect("start the scheduler thread");
        Scheduler { shared }
    }

    /// The table, to read or change; the scheduler wakes afterwards to see what changed.
    pub fn with<T>(&self, change: impl FnOnce(&mut Table) -> T) -> T {
        let result = change(&mut self.shared.table.lock().unwrap_or_else(PoisonError::into_inner));
        self.shared.wake.notify_all();
        result
    }

    /// Halts every job and waits up to `patience` for running ticks to end; how many were still running.
    /// The scheduler stays, for jobs watched later (`go`).
    pub fn drain(&self, patience: Duration) -> usize {
        self.with(Table::halt_all);
        self.wait_for_runs(patience)
    }

    /// Halts every job and the scheduler, and waits up to `patience` for running ticks to end; how many were
    /// still running.
    pub fn shutdown(&self, patience: Duration) -> usize {
        self.with(Table::halt_all);
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner).stopping = true;
        self.shared.wake.notify_all();
        self.wait_for_runs(patience)
    }

    fn wait_for_runs(&self, patience: Duration) -> usize {
        let deadline = std::time::Instant::now() + patience;
        let mut state = self.shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        while state.running > 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            state = self.shared.ended.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        state.running
    }
}

impl Shared {
    fn run(self: Arc<Self>) {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if self.state.lock().unwrap_or_else(PoisonError::into_inner).stopping {
                return;
            }
            let now = now();
            for start in table.due(&now) {
                self.spawn(&mut table, start, now.clone());
            }
            // Sleep until the next job is due, or until something changes; at most a while, because the timer
            // is monotonic and stops while the machine is suspended, while due times are on the wall clock.
            let wait = table
                .next_due()
                .map(|due| Duration::try_from(now.duration_until(&due)).unwrap_or(Duration::ZERO))
                .unwrap_or(LONGEST_SLEEP)
                .min(LONGEST_SLEEP);
            table = self
                .wake
                .wait_timeout(table, wait.max(Duration::from_millis(1)))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn spawn(self: &Arc<Self>, table: &mut Table, start: Start, started: ZonedDateTime) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).running += 1;
        let shared = self.clone();
        let (id, name) = (start.id, start.name.clone());
        let failed_start = started.clone();
        let spawned = std::thread::Builder::new().name(format!("job {name}")).spawn(move || {
            let clock = std::time::Instant::now();
            // A panic outside ops (which guards its own) must not leave the job marked running for good.
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (shared.runner)(&start.line)))
                    .unwrap_or_else(|panic| {
                        let message = remote_core::panic_message(panic.as_ref());
                        Outcome { error: Some(format!("the run panicked: {message}")), ..Outcome::default() }
                    });
            let took = clock.elapsed();
            let change = shared
                .table
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .finish(start.id, started, took, outcome);
            match change {
                Some(Change::Failing(why)) => (shared.tell)(format!("job {}: failing: {why}", start.name)),
                Some(Change::Recovered) => (shared.tell)(format!("job {}: ok again", start.name)),
                Some(Change::Quiet) | None => {}
            }
            shared.state.lock().unwrap_or_else(PoisonError::into_inner).running -= 1;
            shared.ended.notify_all();
        });
        if let Err(err) = spawned {
            self.state.lock().unwrap_or_else(PoisonError::into_inner).running -= 1;
            let outcome = Outcome {
                error: Some(format!("could not start a thread for this tick: {err}")),
                ..Outcome::default()
            };
            if let Some(Change::Failing(why)) = table.finish(id, failed_start, Duration::ZERO, outcome) {
                (self.tell)(format!("job {name}: failing: {why}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use super::*;

    fn at(seconds: f64) -> ZonedDateTime {
        let base: jiff::civil::DateTime = "2026-11-26T10:00:00".parse().unwrap();
        base.to_zoned_datetime(TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap())
            .unwrap()
            .saturating_add(Duration::from_secs_f64(seconds))
    }

    fn every(text: &str) -> Schedule {
        Schedule::parse(&["every", text]).unwrap().0
    }

    fn ok() -> Outcome {
        Outcome { ok: 2, ..Outcome::default() }
    }

    fn failed(error: Option<&str>) -> Outcome {
        Outcome {
            ok: 1,
            failed: 1,
            error: error.map(str::to_string),
            first_failure: Some("web-2: exited with status 3".into()),
            ..Outcome::default()
        }
    }

    #[test]
    fn a_tick_during_a_run_is_skipped_and_counted() {
        let mut table = Table::default();
        table.watch("slow", every("1s"), "slow sandbox", &at(0.0));
        assert!(table.due(&at(0.5)).is_empty());
        let first = table.due(&at(1.0));
        assert_eq!(first.len(), 1);
        // The run takes 2.5 s: the ticks at 2 s and 3 s fall inside it.
        assert!(table.due(&at(2.0)).is_empty());
        assert!(table.due(&at(3.0)).is_empty());
        assert_eq!(
            table.finish(first[0].id, at(1.0), Duration::from_millis(2500), ok()),
            Some(Change::Quiet)
        );
        assert_eq!(table.due(&at(4.0)).len(), 1);
        let job = table.get("slow").unwrap();
        assert_eq!((job.runs, job.skipped), (2, 2));
        assert_eq!(job.next, Some(at(5.0)));
    }

    #[test]
    fn missed_ticks_after_a_pause_are_skipped_not_run_at_once() {
        let mut table = Table::default();
        table.watch("tick", every("1s"), "uptime(sandbox)", &at(0.0));
        assert_eq!(table.due(&at(10.2)).len(), 1);
        let job = table.get("tick").unwrap();
        assert_eq!(job.skipped, 9);
        assert_eq!(job.next, Some(at(11.0)));
    }

    #[test]
    fn the_same_name_replaces_and_the_old_run_is_not_counted_for_the_new_job() {
        let mut table = Table::default();
        assert!(table.watch("cpu", every("1s"), "uptime(sandbox)", &at(0.0)).is_none());
        let old = table.due(&at(1.0));
        let replaced = table.watch("cpu", every("5s"), "listing sandbox", &at(1.5)).unwrap();
        assert_eq!(replaced.line, "uptime(sandbox)");
        assert_eq!(table.jobs().count(), 1);
        assert_eq!(table.finish(old[0].id, at(1.0), Duration::from_millis(10), failed(None)), None);
        let job = table.get("cpu").unwrap();
        assert_eq!((job.runs, job.line.as_str(), job.next.clone()), (0, "listing sandbox", Some(at(6.5))));
    }

    #[test]
    fn halt_and_halt_all() {
        let mut table = Table::default();
        table.watch("a", every("1s"), "x", &at(0.0));
        table.watch("b", every("1s"), "y", &at(0.0));
        assert!(table.halt("a"));
        assert!(!table.halt("a"));
        table.watch("c", every("1s"), "z", &at(0.0));
        assert_eq!(table.halt_all(), 2);
        assert!(table.due(&at(5.0)).is_empty());
        assert_eq!(table.next_due(), None);
    }

    #[test]
    fn a_one_off_job_runs_once() {
        let mut table = Table::default();
        table.watch("once", Schedule::parse(&["in", "2s"]).unwrap().0, "x", &at(0.0));
        assert_eq!(table.due(&at(2.0)).len(), 1);
        assert!(table.due(&at(100.0)).is_empty());
        assert_eq!(table.get("once").unwrap().next, None);
    }

    #[test]
    fn only_changes_of_outcome_and_new_errors_are_told() {
        let mut table = Table::default();
        table.watch("j", every("1s"), "x", &at(0.0));
        let mut step = |n: f64, outcome: Outcome| {
            let start = table.due(&at(n));
            table.finish(start[0].id, at(n), Duration::ZERO, outcome).unwrap()
        };
        assert_eq!(step(1.0, ok()), Change::Quiet);
        assert_eq!(
            step(2.0, failed(None)),
            Change::Failing("1 of 2 hosts failed (web-2: exited with status 3)".into())
        );
        assert_eq!(step(3.0, failed(None)), Change::Quiet);
        assert_eq!(
            step(4.0, failed(Some("`x` was removed from ops by a reload"))),
            Change::Failing("`x` was removed from ops by a reload".into())
        );
        assert_eq!(step(5.0, failed(Some("`x` was removed from ops by a reload"))), Change::Quiet);
        assert_eq!(step(6.0, ok()), Change::Recovered);
        assert_eq!(step(7.0, ok()), Change::Quiet);
    }
}
