//! `remote live`: the prompt. Connections stay open from line to line; a line is a named pipeline
//! (`PIPELINE GROUP`), a pipeline expression, or a prompt command. Inside a workspace with `ops/`, the
//! pipelines come from a hot-reloaded build of `ops` (see `hot`), rebuilt when a file of it is saved.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once};
use std::time::Duration;

use crate::history::History;
use remote_config::Inventory;
use remote_core::{CancelCause, Library, Linked};
use rustyline::Editor;
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;

use crate::complete::{Names, PromptHelper};
use crate::jobs::{Scheduler, Table};
use crate::notices::Notices;
use crate::schedule::Schedule;

use crate::cli::{GlobalArgs, LiveArgs};
use crate::prompt::PromptCommand;
use crate::session::Session;
use crate::{EXIT_OK, EXIT_USAGE};

/// Prints why a line is refused: `error: ` and the message, which may quote what the user typed or pasted,
/// made safe for the terminal and cut to a screen's worth.
macro_rules! refusal {
    ($($arg:tt)*) => {
        eprintln!("error: {}", remote_core::pretty::bounded(&format!($($arg)*)))
    };
}

/// How long `quit` lets running job ticks finish before their remote commands are killed.
const JOBS_FINISH: Duration = Duration::from_secs(2);
/// How long it then waits for the killed ticks to end.
const JOBS_KILLED: Duration = Duration::from_secs(15);
/// How long SIGTERM or SIGHUP wait for the line running, once its commands are cancelled, before ending
/// anyway.
const LINE_GRACE: Duration = Duration::from_secs(30);

const HELP: &str = "\
PIPELINE GROUP        run a named pipeline from ops, e.g. `listing sandbox`
EXPR                  any pipeline expression, e.g. `ls(sandbox, \"/\", \"-la\") | pretty`
hosts [GROUP]         the inventory's groups, or the hosts of one
list                  the pipelines, operations, steps and predicates there are now
reload                rebuild ops (unless --no-build) and load it now; saving a file of ops/src does the same
refresh               read the inventory again, close connections whose settings changed, then reload
watch NAME SCHEDULE PIPELINE GROUP   run a pipeline (or any expression) on a schedule, on the newest ops;
                      SCHEDULE: every 5s | in 10m | daily 07:30 | weekdays 09:00 | on mon 06:00
jobs [NAME]           the jobs: schedule, next and last run, runs, skipped ticks, last error; or one job's last run
halt NAME | halt all  stop a job, or every job
wait DURATION         let jobs run for a while before the next line (for --script), e.g. `wait 5s`
stop                  halt every job and close every connection
go                    run the init file again (`--init FILE`, default .remote/init beside the inventory)
stream LINE           run LINE (a pipeline or an expression) with each host's output shown line by line as it comes
check LINE            a dry run of LINE: each host says what would change (files, packages, services), nothing changes
help                  this text
quit                  leave (also Ctrl-D)
Tab completes names, groups and hosts, and an open call shows its signature.
`failed` and `ok` are groups too: the hosts that failed and succeeded in the last line's run, e.g.
`exec(failed, \"systemctl restart app\")` or `listing failed` (a group of yours with that name wins).
";

/// What became of one line.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// It ran (hosts may still have failed: that is reported, not an error of the line).
    Accepted,
    /// It could not run: a syntax error, an unknown name, a bad inventory.
    Refused,
    /// `quit`.
    Quit,
}

struct Live {
    session: Arc<Session>,
    inventory: PathBuf,
    json: bool,
    ops: Ops,
    jobs: Scheduler,
    notices: Notices,
    /// Lines run at start and on `go`, when the file is there (the one `--init` gives, or `.remote/init`).
    init: PathBuf,
    /// Set while the init file runs, so that a `go` inside it cannot run it again and again.
    in_init: AtomicBool,
    /// Held while a line (or the init file) runs, so that an ending waits for it and no line starts after.
    busy: Mutex<()>,
    /// The end: jobs halted, ops unloaded, connections closed; once, by `quit` or by a signal.
    finished: Once,
}

/// Where the prompt's pipelines come from.
enum Ops {
    #[cfg(feature = "hot")]
    Hot(crate::hot::Hot),
    /// The `ops` linked into this binary; the text says why hot reload is off.
    Linked(String),
}

/// Opens the history beside the inventory; without it the prompt still runs and says why.
fn open_history(inventory: &Path, keep: std::time::Duration, max_size: usize) -> Option<Arc<History>> {
    let path = crate::history::default_path(inventory);
    let limits = crate::history::Limits { keep: Some(keep), max_size: Some(max_size as u64) };
    match History::open_with(&path, limits) {
        Ok(history) => Some(Arc::new(history)),
        Err(err) => {
            eprintln!("remote live: no history: {err}; runs and samples are not kept");
            None
        }
    }
}

/// Serves the stock hub on `address` (unless `None`: `--no-hub`) and sends the session's samples to it and to
/// the history. Without an address to serve on (the port is taken, say) the prompt still runs, the history
/// still keeps the samples, and it says that viewers cannot connect.
fn start_hub(session: &Session, address: Option<std::net::SocketAddr>, history: Option<Arc<History>>) {
    let hub = match history.map(crate::hub::Hub::with_history) {
        Some(Ok(hub)) => hub,
        Some(Err(err)) => {
            eprintln!("remote live: the hub starts empty: {err}");
            crate::hub::Hub::default()
        }
        None => crate::hub::Hub::default(),
    };
    if let Some(address) = address {
        match hub.serve(address, session.runtime()) {
            Ok(bound) => {
                if !bound.ip().is_loopback() {
                    eprintln!(
                        "remote live: warning: the stock hub listens on {bound}, beyond this machine: anyone who can \
                         reach it reads every stock, without authentication"
                    );
                }
                eprintln!(
                    "remote live: stock hub on http://{bound} (viewers: /stream, Prometheus: /metrics)"
                );
            }
            Err(err) => eprintln!(
                "remote live: no stock hub: cannot listen on {address}: {err}; `publish` reaches the history but no \
                 viewer (choose another address with --hub, or --no-hub)"
            ),
        }
    }
    session.use_hub(Arc::new(hub));
}

/// The hub's address when `--hub` is not given: `REMOTE_HUB` (which the viewer reads too), else the default.
fn hub_from_environment() -> Result<std::net::SocketAddr, String> {
    match std::env::var("REMOTE_HUB") {
        Ok(text) if !text.trim().is_empty() => text.trim().parse().map_err(|e| {
            format!(
                "REMOTE_HUB={} is not an address for the hub ({e}); give an IP and a port, as 127.0.0.1:8080",
                remote_core::pretty::bounded(&text)
            )
        }),
        _ => Ok(std::net::SocketAddr::from(([127, 0, 0, 1], 8080))),
    }
}

/// Runs the prompt on the terminal, or the lines of `--script`.
pub fn run(global: &GlobalArgs, args: &LiveArgs) -> Result<u8, Box<dyn std::error::Error>> {
    let inventory = global.inventory_path();
    // An explicit --init must exist; the default is used when it does.
    // The default is looked for each time it is to run, so that one written after the start is read by `go`.
    let init = match &args.init {
        Some(path) if !path.is_file() => {
            return Err(format!("init file {} does not exist", path.display()).into());
        }
        Some(path) => path.clone(),
        None => inventory.parent().unwrap_or(Path::new(".")).join(".remote").join("init"),
    };
    let hub = match (args.no_hub, args.hub) {
        (true, _) => None,
        (false, Some(address)) => Some(address),
        (false, None) => Some(hub_from_environment()?),
    };
    let mut session = Session::start(&args.session, &global.inventory_path(), global.json, None)?;
    let notices = Notices::default();
    let ops = start_ops(args.no_build, &notices);
    match &ops {
        #[cfg(feature = "hot")]
        Ops::Hot(hot) => {
            eprintln!("remote live: {}", hot.describe());
            session.use_library(hot.ops.clone());
        }
        Ops::Linked(why) => {
            eprintln!("remote live: hot reload is off ({why}); using the ops built into this binary");
            session.use_library(Arc::new(Linked) as Arc<dyn Library>);
        }
    }
    let history = open_history(&inventory, args.keep_history, args.history_max_size);
    if let Some(history) = &history {
        session.use_history(history.clone());
    }
    start_hub(&session, hub, history);
    let session = Arc::new(session);
    let runner: crate::jobs::Runner = {
        let (session, inventory) = (session.clone(), inventory.clone());
        Arc::new(move |line: &str| session.run_job(&inventory, line))
    };
    let tell: crate::jobs::Tell = {
        let notices = notices.clone();
        Arc::new(move |text: String| notices.say(text))
    };
    let jobs = Scheduler::start(runner, tell);
    let live = Arc::new(Live {
        session,
        inventory,
        json: global.json,
        ops,
        jobs,
        notices,
        init,
        in_init: Default::default(),
        busy: Mutex::new(()),
        finished: Once::new(),
    });
    end_on_signals(&live);
    // A `quit` in the init file leaves before the prompt.
    let init = {
        let _busy = live.busy();
        live.run_init()
    };
    let outcome = if init == Outcome::Quit {
        Ok(EXIT_OK)
    } else {
        match &args.script {
            Some(path) => script(&live, path),
            None if std::io::stdin().is_terminal() => interactive(&live),
            None => piped(&live),
        }
    };
    live.finish();
    match crate::interrupt::ending() {
        Some(cause) => Ok(ending_code(cause)),
        None => outcome,
    }
}

/// The exit code of a prompt ended by `cause`: 128 + the signal's number, as shells report it.
fn ending_code(cause: CancelCause) -> u8 {
    cause.exit_code().and_then(|code| u8::try_from(code).ok()).unwrap_or(1)
}

/// SIGTERM, SIGHUP or a closed stdout end the prompt as `quit` does, wherever the prompt is: the line running
/// is cancelled (its commands killed on the hosts and verified), then the jobs are halted and the connections
/// closed. This thread does it, because the prompt may be blocked reading a terminal that will never answer.
fn end_on_signals(live: &Arc<Live>) {
    let live = live.clone();
    let spawned = std::thread::Builder::new().name("ending".into()).spawn(move || {
        let cause = crate::interrupt::wait_ending();
        // The line running now was cancelled with the same cause; once it has ended, no other starts. A line
        // that does not end (a rebuild of ops that takes long) is not waited for beyond LINE_GRACE.
        let waited = std::time::Instant::now();
        let busy = loop {
            match live.busy.try_lock() {
                Ok(guard) => break Some(guard),
                Err(std::sync::TryLockError::Poisoned(poisoned)) => break Some(poisoned.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) if waited.elapsed() < LINE_GRACE => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(std::sync::TryLockError::WouldBlock) => {
                    eprintln!("remote live: the line running did not end within {LINE_GRACE:?} of {cause}; ending anyway");
                    break None;
                }
            }
        };
        live.finish();
        drop(busy);
        crate::terminal::restore();
        std::process::exit(i32::from(ending_code(cause)));
    });
    if let Err(err) = spawned {
        eprintln!("remote live: SIGTERM and SIGHUP will end the prompt without stopping its commands: {err}");
    }
}

#[cfg(feature = "hot")]
fn start_ops(no_build: bool, notices: &Notices) -> Ops {
    match crate::hot::start(no_build, notices.clone()) {
        crate::hot::Start::Hot(hot) => Ops::Hot(hot),
        crate::hot::Start::Off(why) => Ops::Linked(why),
    }
}

#[cfg(not(feature = "hot"))]
fn start_ops(_no_build: bool, _notices: &Notices) -> Ops {
    Ops::Linked("this build has no hot reload, like the static CI binary".into())
}

/// Runs a script's lines in order and stops at the first line that is not accepted, so that later
/// lines never run out of the context the script meant for them.
fn script(live: &Live, path: &Path) -> Result<u8, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read script {}: {e}", path.display()))?;
    for (index, line) in file_lines(&bytes).enumerate() {
        let outcome = match line {
            Ok(line) => live.top_line(line),
            Err(err) => {
                refusal!("{}:{}: {}", path.display(), index + 1, not_utf8(&err));
                Outcome::Refused
            }
        };
        match outcome {
            Outcome::Accepted => {}
            Outcome::Quit => break,
            Outcome::Refused => {
                eprintln!(
                    "remote live: stopped at {}:{}: that line was not accepted",
                    path.display(),
                    index + 1
                );
                return Ok(EXIT_USAGE);
            }
        }
    }
    Ok(EXIT_OK)
}

/// The lines of a file, each checked on its own: one bad byte refuses its line, not the file. A UTF-8
/// byte-order mark (some editors start a file with one) is not part of the first line.
fn file_lines(bytes: &[u8]) -> impl Iterator<Item = Result<&str, std::str::Utf8Error>> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let empty = bytes.is_empty();
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes
        .split(|b| *b == b'\n')
        .filter(move |_| !empty)
        .map(|line| std::str::from_utf8(line.strip_suffix(b"\r").unwrap_or(line)))
}

/// Why a line is not text, and what to do.
fn not_utf8(err: &std::str::Utf8Error) -> String {
    format!(
        "the line is not valid UTF-8 (a bad byte at column {}); it was not run: save the file as UTF-8",
        err.valid_up_to() + 1
    )
}

/// The prompt on a terminal, with editing, completion and a history file.
fn interactive(live: &Live) -> Result<u8, Box<dyn std::error::Error>> {
    // The prompt and the echo go to the terminal, not to stdout, which may carry `--json` output.
    let config = rustyline::Config::builder().behavior(rustyline::config::Behavior::PreferTerm).build();
    let mut editor: Editor<PromptHelper, DefaultHistory> = Editor::with_config(config)?;
    let helper = PromptHelper::default();
    let names = helper.names.clone();
    editor.set_helper(Some(helper));
    // Notices of rebuilds, reloads and jobs are printed above the line being typed, not through it.
    if let Ok(mut printer) = editor.create_external_printer() {
        live.notices.set_printer(Box::new(move |text: String| {
            let _ = rustyline::ExternalPrinter::print(&mut printer, format!("{text}\n"));
        }));
    }
    let history = live.inventory.parent().unwrap_or(Path::new(".")).join(".remote").join("history");
    // No history yet is the normal first run.
    let _ = editor.load_history(&history);
    if let Some(folder) = history.parent() {
        let _ = std::fs::create_dir_all(folder);
    }
    // A signal may end the prompt while the line editor has the terminal in raw mode; it is put back then.
    crate::terminal::save();
    eprintln!("remote live: inventory {}; `help` for commands, Ctrl-D to leave", live.inventory.display());
    // A line cancelled by SIGTERM or SIGHUP ends the prompt, rather than showing it again.
    while crate::interrupt::ending().is_none() {
        // Names change with the inventory (read again for every line) and, with hot reload, with ops.
        let inventory = Inventory::load(&live.inventory).ok();
        *names.lock().unwrap_or_else(|e| e.into_inner()) =
            Names::new(&live.session.registry(), inventory.as_ref());
        match editor.readline("remote> ") {
            Ok(typed) => {
                if !typed.trim().is_empty() {
                    let _ = editor.add_history_entry(typed.as_str());
                    // Appended line by line, so a session that is killed keeps what was typed, and two
                    // sessions add to the file instead of overwriting each other.
                    if let Err(err) = editor.append_history(&history) {
                        eprintln!("remote live: could not save history to {}: {err}", history.display());
                    }
                }
                // A paste of several lines comes as one; each runs, in order, as if typed one by one.
                for line in typed.lines() {
                    if live.top_line(line) == Outcome::Quit {
                        return Ok(EXIT_OK);
                    }
                }
            }
            // Ctrl-C abandons the line being typed, as in a shell.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            // A byte that is not UTF-8 (a terminal set to another encoding, binary pasted): that line is
            // lost, the prompt is not.
            Err(ReadlineError::Io(err)) if err.kind() == std::io::ErrorKind::InvalidData => {
                refusal!("the line typed is not valid UTF-8; it was not run: set the terminal to UTF-8");
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(EXIT_OK)
}

/// The prompt's lines from a pipe or a file on stdin (`remote live < lines`): each runs in order; a line that
/// is not UTF-8 is refused, named by its number, and the next goes on.
fn piped(live: &Live) -> Result<u8, Box<dyn std::error::Error>> {
    // The same greeting as on a terminal: whatever drives the prompt through a pipe waits for it.
    eprintln!("remote live: inventory {}; `help` for commands, Ctrl-D to leave", live.inventory.display());
    let mut stdin = std::io::stdin().lock();
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        if stdin.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let outcome = match std::str::from_utf8(text.strip_suffix(b"\r").unwrap_or(text)) {
            Ok(text) => live.top_line(text),
            Err(err) => {
                refusal!("stdin line {number}: {}", not_utf8(&err).replace(": save the file as UTF-8", ""));
                Outcome::Refused
            }
        };
        if outcome == Outcome::Quit {
            break;
        }
    }
    Ok(EXIT_OK)
}

impl Live {
    /// Waits for the line running now, and holds off the next, for as long as the guard lives.
    fn busy(&self) -> MutexGuard<'_, ()> {
        self.busy.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs one line the user gave (typed, piped or from `--script`), unless the prompt is ending.
    fn top_line(&self, line: &str) -> Outcome {
        let _busy = self.busy();
        self.line(line)
    }

    /// The end, once: running job ticks may finish, then their remote commands are killed; ops is unloaded
    /// and the connections are closed.
    fn finish(&self) {
        self.finished.call_once(|| {
            self.halt_jobs();
            #[cfg(feature = "hot")]
            if let Ops::Hot(hot) = &self.ops {
                hot.shutdown();
            }
            self.session.close_all();
            self.session.flush_history();
            if let Some(cause) = crate::interrupt::ending() {
                eprintln!("remote live: ended ({cause}) as `quit` would: jobs halted, connections closed");
            }
        });
    }

    fn line(&self, line: &str) -> Outcome {
        // SIGTERM, SIGHUP or a closed stdout: no line starts any more, as after `quit`.
        if crate::interrupt::ending().is_some() {
            return Outcome::Quit;
        }
        self.session.rearm();
        let command = match crate::prompt::parse(line) {
            Ok(command) => command,
            Err(message) => {
                refusal!("{message}");
                return Outcome::Refused;
            }
        };
        match command {
            PromptCommand::Nothing => Outcome::Accepted,
            PromptCommand::Quit => Outcome::Quit,
            PromptCommand::Help => {
                // Under --json, standard output carries only JSON.
                if self.json {
                    eprint!("{HELP}")
                } else {
                    out!("{HELP}")
                }
                Outcome::Accepted
            }
            PromptCommand::List => {
                crate::pipelines::print_list(&self.session.registry(), self.json);
                Outcome::Accepted
            }
            PromptCommand::Reload => self.reload(),
            PromptCommand::Refresh => match self.inventory() {
                Some(_) => self.reload(),
                None => Outcome::Refused,
            },
            PromptCommand::Hosts(group) => self.hosts(group),
            PromptCommand::Watch { name, words, line } => self.watch(line, name, &words),
            PromptCommand::Jobs(None) => self.list_jobs(),
            PromptCommand::Jobs(Some(name)) => self.show_job(name),
            PromptCommand::HaltAll => {
                let halted = self.jobs.with(Table::halt_all);
                eprintln!("remote live: halted {halted} job{}", if halted == 1 { "" } else { "s" });
                Outcome::Accepted
            }
            PromptCommand::Halt(name) => {
                if self.jobs.with(|table| table.halt(name)) {
                    eprintln!("remote live: halted job {name}");
                    Outcome::Accepted
                } else {
                    refusal!("there is no job `{name}`; `jobs` lists them");
                    Outcome::Refused
                }
            }
            PromptCommand::Wait(duration) => {
                eprintln!(
                    "remote live: waiting {} (jobs go on; Ctrl-C ends the wait)",
                    humantime::format_duration(duration)
                );
                // In steps, so that Ctrl-C ends the wait as it ends a running line.
                let until = std::time::Instant::now() + duration;
                while std::time::Instant::now() < until {
                    if self.session.interrupted() {
                        eprintln!("remote live: wait interrupted");
                        break;
                    }
                    std::thread::sleep(
                        until
                            .saturating_duration_since(std::time::Instant::now())
                            .min(Duration::from_millis(50)),
                    );
                }
                Outcome::Accepted
            }
            PromptCommand::Stop => self.stop(),
            PromptCommand::Go => self.go(),
            PromptCommand::Stream(line) => self.stream(line),
            PromptCommand::Check(line) => self.check(line),
            PromptCommand::Named { name, group } => {
                if self.session.registry().find(name).is_some_and(|e| e.kind == remote_core::Kind::JobSet) {
                    return self.schedule_set(name, group);
                }
                let Some(inventory) = self.inventory() else { return Outcome::Refused };
                self.run(&inventory, line.trim())
            }
            PromptCommand::Word(word) => {
                refusal!("{}", self.lone_word(word));
                Outcome::Refused
            }
            PromptCommand::Expression(line) => {
                let Some(inventory) = self.inventory() else { return Outcome::Refused };
                self.run(&inventory, line)
            }
        }
    }

    /// What is wrong with a line of one name that is no prompt command.
    fn lone_word(&self, word: &str) -> String {
        use remote_core::Kind;
        match self.session.registry().find(word).map(|entry| entry.kind) {
            Some(kind @ (Kind::Pipeline | Kind::JobSet)) => {
                format!(
                    "`{word}` is a {kind}: give it a group, e.g. `{word} sandbox` (`hosts` lists the groups)"
                )
            }
            Some(Kind::Operation) => format!(
                "`{word}` is an operation: give it a group, e.g. `{word}(sandbox) | pretty` (`list` shows its \
                 parameters)"
            ),
            Some(kind) => format!(
                "`{word}` is a {kind}: it works on a run, e.g. `ls(sandbox, \"/\") | {word}` (`list` shows how)"
            ),
            None => {
                let registry = self.session.registry();
                let names = registry.entries().iter().map(|entry| entry.name.as_str());
                let guess =
                    remote_core::did_you_mean(word, crate::prompt::PROMPT_WORDS.into_iter().chain(names))
                        .map(|guess| format!(" (did you mean `{guess}`?)"))
                        .unwrap_or_default();
                format!(
                    "unknown command `{word}`{guess}: `help` lists the prompt's commands, `list` the pipelines, \
                     operations and steps"
                )
            }
        }
    }

    /// Runs `line`, a named pipeline (`PIPELINE GROUP`) or an expression, and prints what it has not shown
    /// yet.
    fn run(&self, inventory: &Inventory, line: &str) -> Outcome {
        let run = match crate::session::named_call(line) {
            Some((pipeline, group)) => {
                self.session.run_named(inventory, pipeline, group).map_err(|message| {
                    refusal!("{}", message);
                })
            }
            None => self.session.eval(inventory, line).map_err(|err| {
                eprint!("{}", err.render(line));
            }),
        };
        match run {
            Ok(run) => {
                self.session.report(&run, self.json);
                Outcome::Accepted
            }
            Err(()) => Outcome::Refused,
        }
    }

    /// `stream LINE`: runs `LINE` with every host's output printed line by line as it arrives.
    fn stream(&self, line: &str) -> Outcome {
        if line.is_empty() {
            eprintln!(
                "error: `stream` runs a line with its output shown as it comes, e.g. `stream exec(web, \"apt-get update\")`"
            );
            return Outcome::Refused;
        }
        let Some(inventory) = self.inventory() else { return Outcome::Refused };
        let group = match crate::session::named_call(line) {
            Some((_, group)) => Some(group.to_string()),
            None => crate::session::expression_group(line).map(|(name, _)| name),
        };
        let hosts: Vec<String> = group
            .and_then(|name| {
                inventory.group(&name).ok().map(|g| g.hosts.iter().map(|h| h.name.clone()).collect())
            })
            .unwrap_or_default();
        let streamer = crate::stream::Streamer::new(hosts.iter().map(String::as_str), self.json);
        self.session.stream_to(Some(streamer.sink()));
        let outcome = self.run(&inventory, line);
        self.session.stream_to(None);
        streamer.flush();
        outcome
    }

    /// `check LINE`: a dry run of `LINE` (also `check stream LINE`): operations that change hosts say what
    /// they would change, and change nothing.
    fn check(&self, line: &str) -> Outcome {
        if line.is_empty() {
            refusal!(
                "`check` runs a line as a dry run, e.g. `check sync(web, \"site\", \"/var/www\", \"--delete\")`"
            );
            return Outcome::Refused;
        }
        self.session.set_check(true);
        let outcome = match line.strip_prefix("stream ") {
            Some(rest) => self.stream(rest.trim()),
            None => match self.inventory() {
                Some(inventory) => self.run(&inventory, line),
                None => Outcome::Refused,
            },
        };
        self.session.set_check(false);
        if outcome == Outcome::Accepted {
            eprintln!("remote live: dry run: nothing was changed; each host says what would change");
        }
        outcome
    }

    /// The inventory as it is now: it is read again for every line, so edits take effect at once.
    fn inventory(&self) -> Option<Inventory> {
        let inventory = Inventory::load(&self.inventory).map_err(|err| refusal!("{}", err)).ok()?;
        self.session.forget_stale(&inventory);
        Some(inventory)
    }

    /// Rebuilds and reloads `ops`, waiting for the outcome (the notices say what happened).
    fn reload(&self) -> Outcome {
        match &self.ops {
            #[cfg(feature = "hot")]
            Ops::Hot(hot) => {
                if hot.reload() {
                    Outcome::Accepted
                } else {
                    Outcome::Refused
                }
            }
            Ops::Linked(why) => {
                refusal!(
                    "hot reload is off ({why}); restart `remote live` inside the workspace to load a new ops"
                );
                Outcome::Refused
            }
        }
    }

    fn hosts(&self, group: Option<&str>) -> Outcome {
        let Some(inventory) = self.inventory() else { return Outcome::Refused };
        match crate::hosts_cli::print(&inventory, group, self.json) {
            Ok(()) => Outcome::Accepted,
            Err(err) => {
                refusal!("{}", err);
                Outcome::Refused
            }
        }
    }
}

/// The scheduler's commands.
impl Live {
    /// `watch NAME SCHEDULE PIPELINE GROUP` (or an expression in place of `PIPELINE GROUP`).
    fn watch(&self, line: &str, name: &str, words: &[&str]) -> Outcome {
        if let Some(why) = bad_job_name(name) {
            refusal!("{}", why);
            return Outcome::Refused;
        }
        let (schedule, used) = match Schedule::parse(words) {
            Ok(parsed) => parsed,
            Err(err) => {
                refusal!("{}", err);
                return Outcome::Refused;
            }
        };
        let job_line = after_words(line, 2 + used).trim();
        if job_line.is_empty() {
            eprintln!(
                "error: `watch {name} {schedule}` needs what to run: a pipeline and a group (`watch {name} {schedule} listing sandbox`) or an expression"
            );
            return Outcome::Refused;
        }
        let Some(inventory) = self.inventory() else { return Outcome::Refused };
        if let Err(message) = self.check_job_line(&inventory, job_line) {
            eprint!("{message}");
            return Outcome::Refused;
        }
        let (replaced, next) = self.schedule(name, &schedule, job_line);
        match replaced {
            Some(old) => eprintln!(
                "remote live: job {name} replaced (it was `{}` {}); next run {next}",
                old.line, old.schedule
            ),
            None => eprintln!("remote live: job {name} {schedule}: `{job_line}`; next run {next}"),
        }
        Outcome::Accepted
    }

    /// Checks a job's line now, so that a typo is told at once rather than at the first tick; the message
    /// ends with a newline.
    fn check_job_line(&self, inventory: &Inventory, line: &str) -> Result<(), String> {
        match crate::session::named_call(line) {
            Some((pipeline, group)) => self
                .session
                .check_named(inventory, pipeline, group)
                .map(|_| ())
                .map_err(|m| format!("error: {m}\n")),
            None => self.session.check_expression(inventory, line).map_err(|err| err.render(line)),
        }
    }

    /// Puts the job in the table: the job it replaced, and when it runs next (for people).
    fn schedule(&self, name: &str, schedule: &Schedule, line: &str) -> (Option<crate::jobs::Job>, String) {
        let now = crate::jobs::now();
        let (replaced, next) = self.jobs.with(|table| {
            let replaced = table.watch(name, schedule.clone(), line, &now);
            (replaced, table.get(name).and_then(|job| job.next.clone()))
        });
        (replaced, next.map(|at| when(&at, &now)).unwrap_or_else(|| "—".into()))
    }

    /// `SET GROUP` for a job set of `ops`: every job it gives, checked and scheduled (same names replaced).
    fn schedule_set(&self, set: &str, group: &str) -> Outcome {
        let Some(inventory) = self.inventory() else { return Outcome::Refused };
        let specs = match self.session.job_set(&inventory, set, group) {
            Ok(specs) => specs,
            Err(message) => {
                refusal!("job set {set}: {message}");
                return Outcome::Refused;
            }
        };
        let mut checked = Vec::new();
        for (index, spec) in specs.iter().enumerate() {
            if let Some(why) = bad_job_name(&spec.name) {
                refusal!("job set {set}: {why}");
                return Outcome::Refused;
            }
            if specs[..index].iter().any(|earlier| earlier.name == spec.name) {
                refusal!("job set {set} has two jobs named `{}`; give each its own name", spec.name);
                return Outcome::Refused;
            }
            let words: Vec<&str> = spec.schedule.split_whitespace().collect();
            let schedule = match Schedule::parse(&words) {
                Ok((schedule, used)) if used == words.len() => schedule,
                Ok(_) => {
                    refusal!(
                        "job set {set}, job {}: `{}` has words after the schedule",
                        spec.name,
                        spec.schedule
                    );
                    return Outcome::Refused;
                }
                Err(err) => {
                    refusal!("job set {set}, job {}: {err}", spec.name);
                    return Outcome::Refused;
                }
            };
            if let Err(message) = self.check_job_line(&inventory, &spec.line) {
                eprint!("error: job set {set}, job {}:\n{message}", spec.name);
                return Outcome::Refused;
            }
            checked.push((spec, schedule));
        }
        // All or none: a set is scheduled only when every one of its jobs is right.
        let mut said = Vec::new();
        for (spec, schedule) in checked {
            let (replaced, next) = self.schedule(&spec.name, &schedule, &spec.line);
            said.push(format!(
                "{} {schedule} (next {next}{})",
                spec.name,
                if replaced.is_some() { ", replaced" } else { "" }
            ));
        }
        eprintln!(
            "remote live: job set {set} on {group}: {}",
            if said.is_empty() { "no jobs".into() } else { said.join("; ") }
        );
        Outcome::Accepted
    }

    /// `jobs`: one line per job.
    fn list_jobs(&self) -> Outcome {
        let now = crate::jobs::now();
        let jobs: Vec<crate::jobs::Job> = self.jobs.with(|table| table.jobs().cloned().collect());
        if self.json {
            let rows: Vec<serde_json::Value> = jobs.iter().map(|job| job_json(job, false)).collect();
            outln!("{}", serde_json::Value::Array(rows));
            return Outcome::Accepted;
        }
        if jobs.is_empty() {
            outln!("no jobs; `watch NAME SCHEDULE PIPELINE GROUP` starts one");
            return Outcome::Accepted;
        }
        let mut rows = vec![
            ["NAME", "SCHEDULE", "NEXT", "LAST RUN", "RUNS", "SKIPPED", "LAST ERROR"]
                .map(String::from)
                .to_vec(),
        ];
        for job in &jobs {
            let last = match (&job.last, job.running) {
                (_, true) => "running now".to_string(),
                (Some(last), false) => format!(
                    "{} {:.2}s {} ok {} failed",
                    when(&last.started, &now),
                    last.took.as_secs_f64(),
                    last.outcome.ok,
                    last.outcome.failed
                ),
                (None, false) => "—".to_string(),
            };
            let error = job.last.as_ref().and_then(|l| l.outcome.problem()).unwrap_or_else(|| "—".into());
            rows.push(vec![
                job.name.clone(),
                job.schedule.to_string(),
                job.next.as_ref().map(|at| when(at, &now)).unwrap_or_else(|| "done".into()),
                last,
                job.runs.to_string(),
                job.skipped.to_string(),
                error,
            ]);
        }
        let widths: Vec<usize> =
            (0..7).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
        for row in rows {
            let cells: Vec<String> =
                row.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
            outln!("{}", cells.join("  ").trim_end());
        }
        Outcome::Accepted
    }

    /// `jobs NAME`: the last run's summary.
    fn show_job(&self, name: &str) -> Outcome {
        let Some(job) = self.jobs.with(|table| table.get(name).cloned()) else {
            refusal!("there is no job `{name}`; `jobs` lists them");
            return Outcome::Refused;
        };
        if self.json {
            outln!("{}", job_json(&job, true));
            return Outcome::Accepted;
        }
        match &job.last {
            Some(last) => {
                outln!(
                    "job {name} ({}: `{}`), last run at {}:",
                    job.schedule,
                    job.line,
                    when(&last.started, &crate::jobs::now())
                );
                if let Some(error) = &last.outcome.error {
                    outln!("error: {error}");
                }
                out!("{}", last.outcome.summary);
            }
            None => outln!("job {name} ({}: `{}`) has not run yet", job.schedule, job.line),
        }
        Outcome::Accepted
    }

    /// Runs the init file's lines, stopping at the first that is not accepted (the rest of the file is
    /// skipped, the prompt goes on).
    fn run_init(&self) -> Outcome {
        let path = &self.init;
        if !path.is_file() {
            return Outcome::Accepted;
        }
        if self.in_init.load(Ordering::SeqCst) {
            refusal!(
                "`go` inside the init file would run it again and again; take it out of {}",
                path.display()
            );
            return Outcome::Refused;
        }
        self.in_init.store(true, Ordering::SeqCst);
        let outcome = self.run_init_lines(path);
        self.in_init.store(false, Ordering::SeqCst);
        outcome
    }

    fn run_init_lines(&self, path: &Path) -> Outcome {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) => {
                refusal!("cannot read init file {}: {err}", path.display());
                return Outcome::Refused;
            }
        };
        eprintln!("remote live: running {}", path.display());
        for (index, line) in file_lines(&bytes).enumerate() {
            let outcome = match line {
                Ok(line) => self.line(line),
                Err(err) => {
                    refusal!("{}:{}: {}", path.display(), index + 1, not_utf8(&err));
                    Outcome::Refused
                }
            };
            match outcome {
                Outcome::Accepted => {}
                Outcome::Quit => return Outcome::Quit,
                Outcome::Refused => {
                    eprintln!(
                        "remote live: stopped at {}:{}: that line was not accepted; the rest of the file was skipped",
                        path.display(),
                        index + 1
                    );
                    return Outcome::Refused;
                }
            }
        }
        Outcome::Accepted
    }

    /// `stop`: every job halted (a tick still running is killed), every connection closed.
    fn stop(&self) -> Outcome {
        let halted = self.drain_jobs(Scheduler::drain);
        let closed = self.session.close_all();
        eprintln!(
            "remote live: stopped: halted {halted} job{}, closed {closed} connection{}; `go` starts the init file again",
            if halted == 1 { "" } else { "s" },
            if closed == 1 { "" } else { "s" }
        );
        Outcome::Accepted
    }

    /// `go`: the init file again; connections open as its lines need them.
    fn go(&self) -> Outcome {
        if self.init.is_file() {
            return self.run_init();
        }
        refusal!(
            "there is no init file to run: write {} (it is read on each `go`), or give one with `remote live --init FILE`",
            self.init.display()
        );
        Outcome::Refused
    }

    /// Halts every job with `halt` (drain or shutdown): running ticks may finish, then their remote commands
    /// are killed. How many jobs there were.
    fn drain_jobs(&self, halt: fn(&Scheduler, Duration) -> usize) -> usize {
        let halted = self.jobs.with(Table::halt_all);
        if halt(&self.jobs, JOBS_FINISH) > 0 {
            self.session
                .cancel_jobs(crate::interrupt::ending().unwrap_or(remote_core::CancelCause::JobsHalted));
            let left = halt(&self.jobs, JOBS_KILLED);
            if left > 0 {
                eprintln!(
                    "remote live: {left} job run(s) did not end after their commands were cancelled; going on anyway"
                );
            }
        }
        self.session.rearm_jobs();
        halted
    }

    /// At the end: no new ticks; running ones may finish, then their remote commands are killed.
    fn halt_jobs(&self) {
        let halted = self.drain_jobs(Scheduler::shutdown);
        if halted > 0 {
            eprintln!("remote live: halted {halted} job{}", if halted == 1 { "" } else { "s" });
        }
    }
}

/// A job under `--json`: what `jobs` shows, and with `summary` the last run's summary as `jobs NAME` shows
/// it.
fn job_json(job: &crate::jobs::Job, summary: bool) -> serde_json::Value {
    let last = job.last.as_ref().map(|l| {
        let mut last = serde_json::json!({
            "started": l.started.timestamp().to_string(), "elapsed_ms": l.took.as_millis() as u64,
            "ok": l.outcome.ok, "failed": l.outcome.failed, "error": l.outcome.error,
            "first_failure": l.outcome.first_failure,
        });
        if summary {
            last["summary"] = l.outcome.summary.clone().into();
        }
        last
    });
    serde_json::json!({
        "name": job.name, "schedule": job.schedule.to_string(), "line": job.line,
        "next": job.next.as_ref().map(|n| n.timestamp().to_string()), "running": job.running,
        "runs": job.runs, "skipped": job.skipped, "last": last,
    })
}

/// Why `name` cannot name a job, if it cannot: `halt NAME` and `jobs NAME` must be able to reach it.
fn bad_job_name(name: &str) -> Option<String> {
    let fine = !name.is_empty()
        && name != "all"
        && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    (!fine)
        .then(|| format!("`{name}` cannot name a job; use letters, digits, `_` and `-` (and not `all`, which `halt all` means)"))
}

/// What follows the first `n` words of `line`, as typed (strings keep their spaces).
fn after_words(line: &str, n: usize) -> &str {
    let mut rest = line.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest
}

/// A time for the jobs table: the time of day today, with the day otherwise, and the year when it is not this
/// one (`every 1y` runs next year, which the day alone would place in this one).
fn when(at: &jiff::ZonedDateTime, now: &jiff::ZonedDateTime) -> String {
    let format = if at.date() == now.date() {
        "%H:%M:%S"
    } else if at.year() == now.year() {
        "%a %d %b %H:%M"
    } else {
        "%a %d %b %Y %H:%M"
    };
    at.strftime(format).to_string()
}

#[cfg(test)]
mod tests {
    /// A file's lines, each checked on its own: a bad byte refuses its line and says where it is.
    #[test]
    fn file_lines_keep_good_lines_beside_a_bad_one() {
        let check = |bytes: &[u8], expected: &[Result<&str, usize>]| {
            let lines: Vec<Result<&str, usize>> =
                super::file_lines(bytes).map(|line| line.map_err(|e| e.valid_up_to() + 1)).collect();
            assert_eq!(lines, expected, "{bytes:?}");
        };
        check(b"", &[]);
        check(b"\n", &[Ok("")]);
        check(b"a\nb", &[Ok("a"), Ok("b")]);
        check(b"a\nb\n", &[Ok("a"), Ok("b")]);
        check(b"a\r\nb\r\n", &[Ok("a"), Ok("b")]);
        check(b"\xef\xbb\xbfhosts\n", &[Ok("hosts")]);
        check(b"hosts\nho\xffsts\nlist\n", &[Ok("hosts"), Err(3), Ok("list")]);
        check(b"\xfe", &[Err(1)]);
    }

    /// The jobs table's times: as short as they can be without being read as another day or year.
    #[test]
    fn when_says_the_day_and_year_when_they_differ() {
        let zoned = |text: &str| format!("{text}[UTC]").parse::<jiff::ZonedDateTime>().expect("a time");
        let now = zoned("2026-12-07T15:00:00");
        let check = |at: &str, expected: &str| assert_eq!(super::when(&zoned(at), &now), expected, "{at}");
        check("2026-12-07T15:00:05", "15:00:05");
        check("2026-12-08T09:00:00", "Tue 08 Dec 09:00");
        check("2027-12-07T15:00:00", "Tue 07 Dec 2027 15:00");
        check("2025-12-07T15:00:00", "Sun 07 Dec 2025 15:00");
    }
}
