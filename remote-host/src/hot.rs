//! Hot reload of `ops` in `remote live`: the library loaded through hot-lib-reloader behind one stable
//! entry (catalog + invoke), its ABI stamp checked before use, and the loop that rebuilds it on save.
//!
//! Threads: hot-lib-reloader's watcher on the library file, a notify watcher on `ops/src`, and one
//! coordinator that owns every build and every reload, so builds never overlap and a reload happens in
//! one place. Calls into the library hold a read lock for their whole length; a reload takes the write
//! lock, so it waits for calls in flight and calls made meanwhile wait for it.
//!
//! Architecture invariant: no code of a library runs before its ABI stamp (read from the file, then from
//! its C-ABI entry point) matches the host's; a library that does not match is never loaded, and the
//! code loaded before it keeps serving.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use hot_lib_reloader::LibReloader;
use notify::{RecursiveMode, Watcher};
use remote_core::{Call, CallError, Export, Hosts, JobSpec, Kind, Library, Run};
use serde_json::Value;

pub use crate::notices::Notices;

/// How often the first build says how far it got.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// Quiet time after a save before building: editors write a file in several steps.
const SOURCE_DEBOUNCE: Duration = Duration::from_millis(25);
/// Quiet time after the library file changes before loading it: cargo replaces it in two steps.
const LIBRARY_DEBOUNCE: Duration = Duration::from_millis(25);
/// How long a successful build waits for the library watcher before reloading on its own.
const LIBRARY_WAIT: Duration = Duration::from_millis(1500);
/// How to build the library by hand (or under `cargo watch`), for `--no-build`.
const BUILD_HINT: &str = "cargo rustc -p ops --lib --crate-type cdylib";
/// The profile and target this host was built with (`build.rs`); `ops` is built the same way.
const PROFILE: &str = env!("REMOTE_BUILD_PROFILE");
const TARGET: &str = env!("REMOTE_BUILD_TARGET");

/// How `remote live` gets its `ops`.
pub enum Start {
    /// Hot reload is on.
    Hot(Hot),
    /// The `ops` linked into this binary, and why hot reload is off.
    Off(String),
}

/// A running hot reload: the library and the coordinator that rebuilds and reloads it.
pub struct Hot {
    /// The loaded library, as the session calls it.
    pub ops: Arc<HotOps>,
    events: Sender<Event>,
    library: PathBuf,
    build: bool,
    root: PathBuf,
}

impl Hot {
    /// What to say at start.
    pub fn describe(&self) -> String {
        if self.build {
            format!(
                "ops loaded from {}; rebuilding on save of {}",
                self.library.display(),
                self.root.join("ops").join("src").display()
            )
        } else {
            format!(
                "ops loaded from {}; reloading when it changes (--no-build: build it yourself, e.g. with `cargo watch -x 'rustc -p ops --lib --crate-type cdylib'`)",
                self.library.display()
            )
        }
    }

    /// Rebuilds (unless `--no-build`) and reloads now, waiting for the outcome; `false` when it did not build
    /// or load (the notice says why).
    pub fn reload(&self) -> bool {
        let (reply, outcome) = mpsc::channel();
        if self.events.send(Event::Reload(reply)).is_err() {
            return false;
        }
        outcome.recv().unwrap_or(false)
    }

    /// Stops the coordinator and removes this process's copies of the library.
    pub fn shutdown(&self) {
        let _ = self.events.send(Event::Quit);
        remove_copies(&self.library, |pid| pid == Some(std::process::id()));
    }
}

/// Starts hot reload when the current folder is inside a workspace with `ops/`; otherwise says why not.
pub fn start(no_build: bool, notices: Notices) -> Start {
    let Some(root) = std::env::current_dir().ok().and_then(|cwd| find_workspace(&cwd)) else {
        return Start::Off("no workspace with ops/ around the current folder".into());
    };
    let cargo = Cargo::new(&root);
    let library = if no_build {
        match cargo.library_path() {
            Ok(path) if path.is_file() => path,
            Ok(path) => {
                return Start::Off(format!(
                    "--no-build and no ops library at {} yet; build it with `{BUILD_HINT}`",
                    path.display()
                ));
            }
            Err(err) => return Start::Off(err),
        }
    } else {
        // The first build after a change elsewhere (a pull, a new toolchain) can take a while: say why we
        // wait.
        notices.say("remote live: building ops…");
        let started = Instant::now();
        let mut said = Instant::now();
        let outcome = cargo.build_with(&mut |compiled: usize, name: &str| {
            // A first build compiles the dependencies too: a word every few seconds says it is moving.
            if said.elapsed() >= PROGRESS_EVERY {
                said = Instant::now();
                notices.say(format!(
                    "remote live: building ops… {compiled} crates compiled in {} s (now {name})",
                    started.elapsed().as_secs()
                ));
            }
        });
        match (outcome.library.clone(), outcome.ok) {
            (Some(path), true) => path,
            (_, false) => {
                notices.say(outcome.render_failure());
                match cargo.library_path() {
                    // An earlier build still serves until the sources compile again.
                    Ok(path) if path.is_file() => path,
                    _ => return Start::Off("ops does not build and there is no earlier build of it".into()),
                }
            }
            (None, true) => return Start::Off("cargo built ops but named no library file".into()),
        }
    };
    let dir = library.parent().unwrap_or(Path::new(".")).to_path_buf();
    // Copies left by a `remote live` that did not exit cleanly.
    remove_copies(&library, |pid| {
        pid.is_none_or(|pid| pid == std::process::id() || !Path::new(&format!("/proc/{pid}")).exists())
    });
    match read_stamp(&library) {
        Ok(stamp) if stamp == remote_core::abi_stamp() => {}
        Ok(stamp) => {
            return Start::Off(format!(
                "{} was built from a different remote-core, compiler or profile than this remote (stamp {stamp}, this remote {}); \
                 rebuild and restart remote, e.g. `cargo run -p remote -- live`",
                library.display(),
                remote_core::abi_stamp()
            ));
        }
        Err(err) => return Start::Off(err),
    }
    let template = "{lib_name}-hot-{pid}-{load_counter}".to_string();
    // hot-lib-reloader wants the library's name, which cargo chose: `libNAME.so`.
    let name = library
        .file_stem()
        .map(|s| s.to_string_lossy().trim_start_matches("lib").to_string())
        .unwrap_or_default();
    let mut reloader = match LibReloader::new(&dir, &name, Some(LIBRARY_DEBOUNCE), Some(template)) {
        Ok(reloader) => reloader,
        Err(err) => return Start::Off(format!("cannot load {}: {err}", library.display())),
    };
    let changes = reloader.subscribe_to_file_changes();
    let ops = match HotOps::new(reloader, &library, LockAtStart::read(root.join("Cargo.lock"))) {
        Ok(ops) => Arc::new(ops),
        Err(err) => return Start::Off(err),
    };
    let (events, inbox) = mpsc::channel();
    forward(changes, events.clone());
    let sources =
        if no_build { None } else { watch_sources(&root.join("ops").join("src"), events.clone(), &notices) };
    let coordinator = Coordinator {
        ops: ops.clone(),
        cargo,
        library: library.clone(),
        notices,
        build: !no_build,
        _sources: sources,
    };
    std::thread::Builder::new()
        .name("ops-reload".into())
        .spawn(move || coordinator.run(inbox))
        .map(|_| Start::Hot(Hot { ops, events, library, build: !no_build, root }))
        .unwrap_or_else(|err| Start::Off(format!("cannot start the reload thread: {err}")))
}

/// The nearest folder at or above `from` with a `Cargo.toml` and an `ops/` crate.
fn find_workspace(from: &Path) -> Option<PathBuf> {
    from.ancestors()
        .find(|dir| dir.join("Cargo.toml").is_file() && dir.join("ops").join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
}

/// Removes the copies `libNAME-hot-PID-N.so` of `library` in its folder whose PID `stale` says are stale
/// (`None`: no PID in the name).
fn remove_copies(library: &Path, stale: impl Fn(Option<u32>) -> bool) {
    let Some(stem) = library.file_stem().map(|s| s.to_string_lossy().into_owned()) else { return };
    let prefix = format!("{stem}-hot-");
    for entry in std::fs::read_dir(library.parent().unwrap_or(Path::new("."))).into_iter().flatten().flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix).and_then(|rest| rest.strip_suffix(".so")) else {
            continue;
        };
        let pid = rest.split_once('-').and_then(|(pid, _)| pid.parse::<u32>().ok());
        if stale(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The library as the session calls it.
pub struct HotOps {
    state: RwLock<State>,
    /// What the loaded library exports, copied out under its own lock: the prompt reads it for every line,
    /// and must not wait behind a reload that waits for a long job's call (std's `RwLock` holds new readers
    /// back while a writer waits).
    listing: Mutex<Listing>,
    /// The workspace's Cargo.lock as it was when this host started: the host was built against it.
    lock: LockAtStart,
}

/// A Cargo.lock and its bytes at start (none when there was no file).
struct LockAtStart {
    path: PathBuf,
    bytes: Option<Vec<u8>>,
}

impl LockAtStart {
    fn read(path: PathBuf) -> Self {
        let bytes = std::fs::read(&path).ok();
        LockAtStart { path, bytes }
    }

    /// Why a library built now may not fit this host: the dependencies changed since it started.
    fn changed(&self) -> Option<String> {
        (std::fs::read(&self.path).ok() != self.bytes).then(|| {
            format!(
                "{} changed since this `remote live` started (a dependency was updated, added or removed), so ops \
                 is now built against other versions of its dependencies than this host: restart `remote live` to \
                 pick up this change (in a fleet repository, it builds its host again first); the ops loaded before \
                 keeps serving",
                self.path.display()
            )
        })
    }
}

#[derive(Default)]
struct Listing {
    catalog: Vec<Export>,
    removed: BTreeSet<String>,
}

struct State {
    reloader: LibReloader,
    /// Why calls are refused, when a reload left no usable library.
    broken: Option<String>,
    /// The library file as it was when loaded, to tell whether a build changed it.
    loaded: Option<Fingerprint>,
}

/// What identifies one version of the library file without reading it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Fingerprint {
    inode: u64,
    len: u64,
    modified_ns: i64,
}

fn fingerprint(path: &Path) -> Option<Fingerprint> {
    let meta = std::fs::metadata(path).ok()?;
    Some(Fingerprint {
        inode: meta.ino(),
        len: meta.len(),
        modified_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
    })
}

/// What a reload did.
enum Reloaded {
    /// `contents` says what the library has now, e.g. "5 pipelines, 3 steps".
    Loaded {
        added: Vec<String>,
        removed: Vec<String>,
        contents: String,
    },
    Unchanged,
    Refused(String),
}

type InvokeFn = fn(Call) -> Result<Run, CallError>;
type JobsFn = fn(&str, Hosts) -> Result<Vec<JobSpec>, CallError>;
type CatalogFn = fn() -> Vec<Export>;
type AbiFn = extern "C" fn() -> *const std::ffi::c_char;

impl HotOps {
    fn new(reloader: LibReloader, library: &Path, lock: LockAtStart) -> Result<Self, String> {
        let state = State { reloader, broken: None, loaded: fingerprint(library) };
        let listing = Listing { catalog: state.entry_catalog()?, removed: BTreeSet::new() };
        Ok(HotOps { state: RwLock::new(state), listing: Mutex::new(listing), lock })
    }

    /// Loads the library file anew when it changed, unless its stamp differs from the host's or the workspace's
    /// dependencies changed since the host started (the stamp covers remote-core's sources, not the versions
    /// cargo resolves for the workspace the library is built in).
    fn reload(&self, library: &Path) -> Reloaded {
        if let Some(why) = self.lock.changed() {
            return Reloaded::Refused(why);
        }
        match read_stamp(library) {
            Ok(stamp) if stamp == remote_core::abi_stamp() => {}
            Ok(stamp) => {
                return Reloaded::Refused(format!(
                    "ops was rebuilt against a changed remote-core, compiler or profile (stamp {stamp}, this host {}): \
                     restart `remote live` to pick up this change; the ops loaded before keeps serving",
                    remote_core::abi_stamp()
                ));
            }
            Err(err) => return Reloaded::Refused(format!("{err}; the ops loaded before keeps serving")),
        }
        // Waits for calls in flight; calls made from now on wait for the new library.
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let before = fingerprint(library);
        match state.reloader.update() {
            Ok(true) => {}
            Ok(false) => return Reloaded::Unchanged,
            Err(err) => {
                let why = format!("the new ops library could not be loaded ({err}); fix ops and save again");
                state.broken = Some(why.clone());
                return Reloaded::Refused(why);
            }
        }
        state.loaded = before;
        let catalog = match state.entry_catalog() {
            Ok(catalog) => catalog,
            Err(why) => {
                state.broken = Some(why.clone());
                return Reloaded::Refused(why);
            }
        };
        state.broken = None;
        let mut listing = self.listing.lock().unwrap_or_else(PoisonError::into_inner);
        let old: BTreeSet<String> = listing.catalog.iter().map(|e| e.name.clone()).collect();
        let new: BTreeSet<String> = catalog.iter().map(|e| e.name.clone()).collect();
        let added = new.difference(&old).cloned().collect();
        let removed: Vec<String> = old.difference(&new).cloned().collect();
        listing.removed.extend(removed.iter().cloned());
        listing.removed.retain(|name| !new.contains(name));
        let contents = contents(&catalog);
        listing.catalog = catalog;
        Reloaded::Loaded { added, removed, contents }
    }

    /// Whether the library file differs from the one loaded.
    fn changed(&self, library: &Path) -> bool {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        fingerprint(library) != state.loaded
    }

    fn contents(&self) -> String {
        contents(&self.listing.lock().unwrap_or_else(PoisonError::into_inner).catalog)
    }
}

/// "5 pipelines, 3 steps" (and job sets when there are any).
fn contents(catalog: &[Export]) -> String {
    let count = |kind| catalog.iter().filter(|e| e.kind == kind).count();
    let (pipelines, steps, sets) = (count(Kind::Pipeline), count(Kind::Step), count(Kind::JobSet));
    let mut text = format!("{pipelines} pipeline{}, {steps} step{}", plural(pipelines), plural(steps));
    if sets > 0 {
        text.push_str(&format!(", {sets} job set{}", plural(sets)));
    }
    text
}

impl State {
    /// Checks the loaded library's stamp through its C entry point, then reads its catalog.
    fn entry_catalog(&self) -> Result<Vec<Export>, String> {
        // SAFETY: `remote_ops_abi` has a C signature, safe to call in any library that exports it.
        let abi = unsafe { self.reloader.get_symbol::<AbiFn>(b"remote_ops_abi\0") }.map_err(|err| {
            format!("the library is not an ops library of remote (no remote_ops_abi: {err})")
        })?;
        // SAFETY: the function returns a pointer to a NUL-terminated static string.
        let stamp = unsafe { std::ffi::CStr::from_ptr(abi()) }.to_string_lossy().into_owned();
        if stamp != remote_core::ABI.trim_end_matches('\0') {
            return Err(format!(
                "the loaded library's stamp changed while it was being loaded ({stamp}); restart `remote live` to pick up this change"
            ));
        }
        // SAFETY: the stamps match, so the library was built by the same compiler and profile from the same
        // remote-core and Cargo.lock: `Export` has the same layout on both sides.
        let read = unsafe { self.reloader.get_symbol::<CatalogFn>(b"remote_ops_catalog\0") }
            .map_err(|err| format!("the library has no remote_ops_catalog: {err}"))?;
        Ok(read())
    }
}

impl Library for HotOps {
    fn catalog(&self) -> Vec<Export> {
        self.listing.lock().unwrap_or_else(PoisonError::into_inner).catalog.clone()
    }

    fn invoke(&self, call: Call) -> Result<Run, CallError> {
        // Held for the whole call: a reload waits until the code it would unload has returned.
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(why) = &state.broken {
            return Err(CallError::Unavailable { why: why.clone() });
        }
        // A line checked against the library before a reload, and called after it: the name may be gone.
        {
            let listing = self.listing.lock().unwrap_or_else(PoisonError::into_inner);
            if listing.removed.contains(call.name()) && listing.catalog.iter().all(|e| e.name != call.name())
            {
                return Err(CallError::Removed { name: call.name().to_string() });
            }
        }
        // SAFETY: the stamp was checked when this library was loaded (see `entry_catalog`).
        let invoke =
            unsafe { state.reloader.get_symbol::<InvokeFn>(b"remote_ops_invoke\0") }.map_err(|err| {
                CallError::Unavailable {
                    why: format!("the loaded ops library has no remote_ops_invoke: {err}"),
                }
            })?;
        invoke(call)
    }

    fn jobs(&self, name: &str, hosts: Hosts) -> Result<Vec<JobSpec>, CallError> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(why) = &state.broken {
            return Err(CallError::Unavailable { why: why.clone() });
        }
        // SAFETY: the stamp was checked when this library was loaded (see `entry_catalog`).
        let jobs = unsafe { state.reloader.get_symbol::<JobsFn>(b"remote_ops_jobs\0") }.map_err(|err| {
            CallError::Unavailable { why: format!("the loaded ops library has no remote_ops_jobs: {err}") }
        })?;
        jobs(name, hosts)
    }

    fn removed(&self) -> Vec<String> {
        self.listing.lock().unwrap_or_else(PoisonError::into_inner).removed.iter().cloned().collect()
    }
}

/// Reads the ABI stamp out of a library file without loading it, a chunk at a time (the file is tens of
/// MiB in a debug build, and a buffer that size would stay in the allocator's heap).
fn read_stamp(library: &Path) -> Result<String, String> {
    const MARKER: &[u8] = b"REMOTE_ABI_STAMP:";
    // The marker, 16 hex digits and the NUL must fit in the part of a chunk carried over to the next.
    const CARRY: usize = MARKER.len() + 17;
    let unreadable = |err: std::io::Error| format!("cannot read {}: {err}", library.display());
    let mut file = std::fs::File::open(library).map_err(unreadable)?;
    let mut window = vec![0; 1 << 20];
    let mut kept = 0;
    loop {
        let read = file.read(&mut window[kept..]).map_err(unreadable)?;
        let filled = kept + read;
        let data = &window[..filled];
        let found = memchr::memmem::find_iter(data, MARKER).find_map(|at| {
            let digits = data.get(at + MARKER.len()..at + MARKER.len() + 16)?;
            let terminated = data.get(at + MARKER.len() + 16) == Some(&0);
            (terminated && digits.iter().all(u8::is_ascii_hexdigit))
                .then(|| String::from_utf8_lossy(digits).into_owned())
        });
        if let Some(stamp) = found {
            return Ok(stamp);
        }
        if read == 0 {
            return Err(format!(
                "{} carries no ABI stamp: it is not an ops library built by this version of remote",
                library.display()
            ));
        }
        kept = CARRY.min(filled);
        window.copy_within(filled - kept..filled, 0);
    }
}

/// Something for the coordinator to do.
enum Event {
    /// A file under `ops/src` was saved at this time.
    Source(Instant),
    /// hot-lib-reloader saw the library file change.
    Library(Instant),
    /// `reload` at the prompt: rebuild and reload now, then answer.
    Reload(Sender<bool>),
    Quit,
}

/// Forwards hot-lib-reloader's change notices into the coordinator's inbox.
fn forward(changes: Receiver<()>, events: Sender<Event>) {
    let _ = std::thread::Builder::new().name("ops-library-watch".into()).spawn(move || {
        while changes.recv().is_ok() {
            if events.send(Event::Library(Instant::now())).is_err() {
                break;
            }
        }
    });
}

/// Watches `src` for saved `.rs` files; the returned debouncer must be kept alive.
fn watch_sources(src: &Path, events: Sender<Event>, notices: &Notices) -> Option<Box<dyn Send>> {
    let handler = move |result: notify_debouncer_full::DebounceEventResult| {
        let Ok(batch) = result else { return };
        let saved = batch
            .iter()
            .filter(|e| e.event.kind.is_create() || e.event.kind.is_modify() || e.event.kind.is_remove())
            .filter(|e| e.event.paths.iter().any(|p| p.extension().is_some_and(|x| x == "rs")))
            .map(|e| e.time)
            .min();
        if let Some(at) = saved {
            let _ = events.send(Event::Source(at));
        }
    };
    let watching =
        notify_debouncer_full::new_debouncer(SOURCE_DEBOUNCE, None, handler).and_then(|mut debouncer| {
            debouncer.watcher().watch(src, RecursiveMode::Recursive)?;
            debouncer.cache().add_root(src, RecursiveMode::Recursive);
            Ok(debouncer)
        });
    match watching {
        Ok(debouncer) => Some(Box::new(debouncer)),
        Err(err) => {
            notices.say(format!(
                "remote live: cannot watch {} ({err}); use `reload` after saving",
                src.display()
            ));
            None
        }
    }
}

/// Takes in an event that arrived during a build: a save or a `reload` joins the build (`true` for a save),
/// a library change is noted, `Quit` is kept for the main loop.
fn absorb(
    event: Event,
    since: &mut Instant,
    replies: &mut Vec<Sender<bool>>,
    library_changed: &mut bool,
    queued: &mut Vec<Event>,
) -> bool {
    match event {
        Event::Source(at) => {
            *since = (*since).min(at);
            true
        }
        Event::Reload(reply) => {
            replies.push(reply);
            false
        }
        Event::Library(_) => {
            *library_changed = true;
            false
        }
        Event::Quit => {
            queued.push(Event::Quit);
            false
        }
    }
}

/// Where the time from a save to the new code went, for the log and the benchmark.
struct Timings {
    /// From the save to the start of the build (the source watcher's debounce).
    watch: Duration,
    /// cargo and rustc, link included.
    cargo: Duration,
    /// From the end of the build until hot-lib-reloader reported the new file (its debounce).
    library_wait: Duration,
}

/// Owns builds and reloads, one at a time.
struct Coordinator {
    ops: Arc<HotOps>,
    cargo: Cargo,
    library: PathBuf,
    notices: Notices,
    build: bool,
    _sources: Option<Box<dyn Send>>,
}

impl Coordinator {
    fn run(self, inbox: Receiver<Event>) {
        let mut queued: Vec<Event> = Vec::new();
        loop {
            let event = match queued.pop() {
                Some(event) => event,
                None => match inbox.recv() {
                    Ok(event) => event,
                    Err(_) => return,
                },
            };
            match event {
                Event::Quit => return,
                Event::Library(at) => {
                    self.reload(at, true, None);
                }
                Event::Source(at) if self.build => {
                    self.build_and_reload(at, Vec::new(), &inbox, &mut queued);
                }
                // Under --no-build, saves are the other builder's business.
                Event::Source(_) => {}
                Event::Reload(reply) if self.build => {
                    self.build_and_reload(Instant::now(), vec![reply], &inbox, &mut queued);
                }
                Event::Reload(reply) => {
                    let ok = if self.ops.changed(&self.library) {
                        self.reload(Instant::now(), true, None)
                    } else {
                        self.up_to_date()
                    };
                    let _ = reply.send(ok);
                }
            }
        }
    }

    /// Builds until no save arrived during the build (saves meanwhile coalesce into one more build), then
    /// reloads if the library changed. Events that are not saves wait in `queued`.
    fn build_and_reload(
        &self,
        mut since: Instant,
        mut replies: Vec<Sender<bool>>,
        inbox: &Receiver<Event>,
        queued: &mut Vec<Event>,
    ) {
        let mut library_changed = false;
        let mut first_build: Option<Instant> = None;
        let mut cargo = Duration::ZERO;
        let outcome = loop {
            while let Ok(event) = inbox.try_recv() {
                absorb(event, &mut since, &mut replies, &mut library_changed, queued);
            }
            self.notices.say("rebuilding ops…");
            first_build.get_or_insert_with(Instant::now);
            let outcome = self.cargo.build();
            cargo += outcome.elapsed;
            let mut saved_meanwhile = false;
            while let Ok(event) = inbox.try_recv() {
                saved_meanwhile |= absorb(event, &mut since, &mut replies, &mut library_changed, queued);
            }
            if !saved_meanwhile || queued.iter().any(|e| matches!(e, Event::Quit)) {
                break outcome;
            }
        };
        let ok = if !outcome.ok {
            self.notices.say(outcome.render_failure());
            false
        } else if !library_changed && !self.ops.changed(&self.library) {
            tracing::info!(
                cargo_ms = outcome.elapsed.as_secs_f64() * 1e3,
                "ops build left the library as it was"
            );
            self.up_to_date()
        } else {
            let built = Instant::now();
            // hot-lib-reloader notices the new file after its debounce; wait for that, then load.
            let deadline = Instant::now() + LIBRARY_WAIT;
            while !library_changed {
                match inbox.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(Event::Library(_)) => library_changed = true,
                    Ok(other) => queued.insert(0, other),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            let timings = Timings {
                watch: first_build.unwrap_or(built).saturating_duration_since(since),
                cargo,
                library_wait: built.elapsed(),
            };
            self.reload(since, false, Some(timings))
        };
        for reply in replies {
            let _ = reply.send(ok);
        }
    }

    /// Reloads and says how it went; `since` is when the change began (the save, or the new library file).
    fn reload(&self, since: Instant, quiet_if_unchanged: bool, timings: Option<Timings>) -> bool {
        let started = Instant::now();
        let reloaded = self.ops.reload(&self.library);
        let load = started.elapsed();
        match reloaded {
            Reloaded::Loaded { added, removed, contents } => {
                let ms = |d: Duration| d.as_secs_f64() * 1e3;
                let total_ms = ms(since.elapsed());
                match timings {
                    Some(t) => tracing::info!(
                        watch_ms = ms(t.watch),
                        cargo_ms = ms(t.cargo),
                        library_wait_ms = ms(t.library_wait),
                        load_ms = ms(load),
                        total_ms,
                        "ops live"
                    ),
                    None => tracing::info!(load_ms = ms(load), total_ms, "ops live"),
                }
                let changes: Vec<String> = added
                    .iter()
                    .map(|name| format!("+{name}"))
                    .chain(removed.iter().map(|name| format!("−{name}")))
                    .collect();
                let changes =
                    if changes.is_empty() { String::new() } else { format!(" ({})", changes.join(", ")) };
                self.notices.say(format!(
                    "ops reloaded in {:.2} s: {contents}{changes}",
                    since.elapsed().as_secs_f64()
                ));
                true
            }
            Reloaded::Unchanged if quiet_if_unchanged => true,
            Reloaded::Unchanged => self.up_to_date(),
            Reloaded::Refused(why) => {
                self.notices.say(format!("ops not reloaded: {why}"));
                false
            }
        }
    }

    fn up_to_date(&self) -> bool {
        self.notices.say(format!("ops is up to date: {}", self.ops.contents()));
        true
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// Runs cargo on `ops` the way this host was built.
struct Cargo {
    program: std::ffi::OsString,
    manifest: PathBuf,
    /// `ops/Cargo.toml`: artifacts and targets are recognised by it, not by a name we would assume.
    ops_manifest: PathBuf,
}

/// What one build of `ops` gave.
struct BuildOutcome {
    ok: bool,
    /// The compiler's errors as cargo renders them.
    errors: Vec<String>,
    warnings: usize,
    /// The library file cargo wrote.
    library: Option<PathBuf>,
    /// Cargo's own complaints (a broken manifest, a missing toolchain), when no compiler message says more.
    stderr: String,
    elapsed: Duration,
}

impl Cargo {
    fn new(root: &Path) -> Self {
        // `cargo run` sets CARGO to the cargo that built us; otherwise the one on PATH.
        let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        Cargo {
            program,
            manifest: root.join("Cargo.toml"),
            ops_manifest: root.join("ops").join("Cargo.toml"),
        }
    }

    fn command(&self, subcommand: &str) -> Command {
        let mut command = Command::new(&self.program);
        command.arg(subcommand).arg("--manifest-path").arg(&self.manifest);
        command
    }

    /// Builds `ops` with this host's profile and target as a `cdylib` (`cargo rustc --crate-type cdylib`; the
    /// crate itself is an rlib), reading cargo's JSON messages. The host needs only the entry points:
    /// compared with a Rust `dylib` beside the rlib, this halves the build after a one-line edit (0.40 s →
    /// 0.19 s here) and the library (15 MiB → 7.5 MiB).
    fn build(&self) -> BuildOutcome {
        self.build_with(&mut |_, _| {})
    }

    /// [`Cargo::build`], calling `progress` with the count of crates compiled and the last one's name as each
    /// is done.
    fn build_with(&self, progress: &mut dyn FnMut(usize, &str)) -> BuildOutcome {
        let started = Instant::now();
        let mut compiled = 0;
        let format = if console::Term::stderr().features().colors_supported() {
            "json-diagnostic-rendered-ansi"
        } else {
            "json"
        };
        let mut command = self.command("rustc");
        command.args([
            "-p",
            "ops",
            "--lib",
            "--crate-type",
            "cdylib",
            "--profile",
            PROFILE,
            "--message-format",
            format,
        ]);
        if !TARGET.is_empty() {
            command.args(["--target", TARGET]);
        }
        let mut outcome = BuildOutcome {
            ok: false,
            errors: Vec::new(),
            warnings: 0,
            library: None,
            stderr: String::new(),
            elapsed: Duration::ZERO,
        };
        let child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(err) => {
                outcome.stderr = format!("cannot run {}: {err}", self.program.to_string_lossy());
                return outcome;
            }
        };
        let stderr = child.stderr.take().map(|mut pipe| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        });
        for line in
            child.stdout.take().map(BufReader::new).into_iter().flat_map(|r| r.lines()).map_while(Result::ok)
        {
            let Ok(message) = serde_json::from_str::<Value>(&line) else { continue };
            match message["reason"].as_str() {
                Some("compiler-message") => match message["message"]["level"].as_str() {
                    Some("error") => outcome
                        .errors
                        .push(message["message"]["rendered"].as_str().unwrap_or_default().to_string()),
                    Some("warning") => outcome.warnings += 1,
                    _ => {}
                },
                Some("compiler-artifact")
                    if message["manifest_path"].as_str().map(Path::new) == Some(&self.ops_manifest) =>
                {
                    let dylib = message["filenames"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .find(|f| f.ends_with(".so"));
                    outcome.library = dylib.map(PathBuf::from);
                }
                Some("build-finished") => outcome.ok = message["success"].as_bool().unwrap_or(false),
                Some("compiler-artifact") if message["fresh"] == false => {
                    compiled += 1;
                    progress(compiled, message["target"]["name"].as_str().unwrap_or("?"));
                }
                _ => {}
            }
        }
        let status = child.wait();
        outcome.ok &= status.is_ok_and(|s| s.success());
        outcome.stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
        outcome.elapsed = started.elapsed();
        outcome
    }

    /// Where cargo puts the `ops` library, from cargo's own idea of the target folder.
    fn library_path(&self) -> Result<PathBuf, String> {
        let output = self
            .command("metadata")
            .args(["--format-version", "1", "--no-deps"])
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|err| format!("cannot run {}: {err}", self.program.to_string_lossy()))?;
        if !output.status.success() {
            return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
        }
        let metadata: Value =
            serde_json::from_slice(&output.stdout).map_err(|err| format!("cargo metadata: {err}"))?;
        let target =
            metadata["target_directory"].as_str().ok_or("cargo metadata names no target directory")?;
        let name = metadata["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["manifest_path"].as_str().map(Path::new) == Some(&self.ops_manifest))
            .flat_map(|p| p["targets"].as_array().into_iter().flatten())
            .find(|t| {
                t["kind"].as_array().is_some_and(|kinds| {
                    kinds.iter().any(|k| matches!(k.as_str(), Some("lib" | "rlib" | "dylib" | "cdylib")))
                })
            })
            .and_then(|t| t["name"].as_str())
            .ok_or("cargo metadata shows no library target in ops/Cargo.toml")?
            .replace('-', "_");
        let profile_dir = if PROFILE == "dev" { "debug" } else { PROFILE };
        let mut path = PathBuf::from(target);
        if !TARGET.is_empty() {
            path.push(TARGET);
        }
        Ok(path.join(profile_dir).join(format!("lib{name}.so")))
    }
}

impl BuildOutcome {
    /// The compiler's errors, the first in full and the others by their headline, or cargo's own message.
    fn render_failure(&self) -> String {
        let mut text = String::from("ops did not build; the ops loaded before keeps serving\n");
        match self.errors.split_first() {
            Some((first, rest)) => {
                text.push_str(first.trim_end());
                text.push('\n');
                for error in rest.iter().filter(|e| !is_summary(e)) {
                    // The headline and the `-->` line that says where.
                    for line in error.lines().take(2) {
                        text.push_str(line);
                        text.push('\n');
                    }
                }
                let count = self.errors.iter().filter(|e| !is_summary(e)).count();
                text.push_str(&format!(
                    "{count} error{}{}",
                    plural(count),
                    if self.warnings > 0 {
                        format!(", {} warning{}", self.warnings, plural(self.warnings))
                    } else {
                        String::new()
                    }
                ));
            }
            None => {
                let tail: Vec<&str> =
                    self.stderr.lines().filter(|l| !l.trim_start().starts_with("Compiling")).collect();
                text.push_str(tail[tail.len().saturating_sub(20)..].join("\n").trim_end());
            }
        }
        text
    }
}

/// rustc's closing "aborting due to N previous errors" message, which cargo reports as an error too.
fn is_summary(rendered: &str) -> bool {
    let plain = console::strip_ansi_codes(rendered);
    plain.starts_with("error: aborting due to") || plain.starts_with("error: could not compile")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_named_by_process_and_only_stale_ones_go() {
        let dir = tempfile::tempdir().unwrap();
        let ours = std::process::id();
        let names = [
            format!("libops-hot-{ours}-3.so"),
            "libops-hot-4194999-1.so".into(),
            "libops-hot-2.so".into(),
            "libops.so".into(),
            "libother-hot-4194999-1.so".into(),
        ];
        for name in &names {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        remove_copies(&dir.path().join("libops.so"), |pid| {
            pid.is_none_or(|pid| !Path::new(&format!("/proc/{pid}")).exists())
        });
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                format!("libops-hot-{ours}-3.so"),
                "libops.so".to_string(),
                "libother-hot-4194999-1.so".to_string()
            ]
        );
    }

    #[test]
    fn the_stamp_is_read_from_the_file_and_a_file_without_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let check = |bytes: &[u8], expected: Result<&str, &str>| {
            let path = dir.path().join("lib.so");
            std::fs::write(&path, bytes).unwrap();
            match (read_stamp(&path), expected) {
                (Ok(stamp), Ok(want)) => assert_eq!(stamp, want),
                (Err(err), Err(want)) => assert!(err.contains(want), "{err}"),
                (got, want) => panic!("{got:?} for {want:?}"),
            }
        };
        check(b"\x7fELF..REMOTE_ABI_STAMP:0123456789abcdef\0..", Ok("0123456789abcdef"));
        // A marker without a full stamp after it (e.g. in other data) is skipped.
        check(b"REMOTE_ABI_STAMP:xyz REMOTE_ABI_STAMP:fedcba9876543210\0", Ok("fedcba9876543210"));
        check(b"\x7fELF no stamp here", Err("carries no ABI stamp"));
        // Across the boundary of the chunks it is read in, and after a chunk's leftover bytes.
        for offset in [(1 << 20) - 20, (1 << 20) - 5, (1 << 20) + 3] {
            let mut big = vec![b'x'; offset];
            big.extend_from_slice(b"REMOTE_ABI_STAMP:00112233445566ff\0tail");
            check(&big, Ok("00112233445566ff"));
        }
        let mut cut = vec![b'x'; (1 << 20) - 10];
        cut.extend_from_slice(b"REMOTE_ABI_STAMP:0011");
        check(&cut, Err("carries no ABI stamp"));
    }

    #[test]
    fn a_failed_build_shows_the_first_error_in_full_and_the_others_by_headline() {
        let outcome = BuildOutcome {
            ok: false,
            errors: vec![
                "error[E0308]: mismatched types\n --> ops/src/lib.rs:3:5\n  |\n3 |     1\n  |     ^ expected `Run`\n".into(),
                "error[E0425]: cannot find value `x`\n --> ops/src/lib.rs:9:1\n  |\n9 | x\n".into(),
                "error: aborting due to 2 previous errors\n".into(),
            ],
            warnings: 1,
            library: None,
            stderr: String::new(),
            elapsed: Duration::ZERO,
        };
        let text = outcome.render_failure();
        assert!(text.contains("3 |     1\n  |     ^ expected `Run`"), "{text}");
        assert!(text.contains("error[E0425]: cannot find value `x`\n --> ops/src/lib.rs:9:1\n"), "{text}");
        assert!(!text.contains("9 | x"), "{text}");
        assert!(text.ends_with("2 errors, 1 warning"), "{text}");
    }
}
