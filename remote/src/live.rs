//! `remote live`: the prompt. Connections stay open from line to line; a line is a named pipeline
//! (`PIPELINE GROUP`), a pipeline expression, or a prompt command. Inside a workspace with `ops/`, the
//! pipelines come from a hot-reloaded build of `ops` (see `hot`), rebuilt when a file of it is saved.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use remote_core::Inventory;
use remote_core::catalog::{Library, Linked};
use rustyline::Editor;
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;

use crate::complete::{Names, PromptHelper};

use crate::cli::{GlobalArgs, LiveArgs};
use crate::pipelines::Session;
use crate::{EXIT_OK, EXIT_USAGE};

/// Prompt commands of DESIGN.md that arrive with the scheduler; named so that typing one
/// says so instead of "unknown operation".
const LATER: &[&str] = &["watch", "jobs", "halt", "stop", "go"];

const HELP: &str = "\
PIPELINE GROUP        run a named pipeline from ops, e.g. `listing sandbox`
EXPR                  any pipeline expression, e.g. `ls(sandbox, \"/\", \"-la\") | pretty`
hosts [GROUP]         the inventory's groups, or the hosts of one
list                  the pipelines, operations, steps and predicates there are now
reload                rebuild ops (unless --no-build) and load it now; saving a file of ops/src does the same
refresh               read the inventory again, close connections whose settings changed, then reload
help                  this text
quit                  leave (also Ctrl-D)
Tab completes names, groups and hosts, and an open call shows its signature.
Not yet here: watch, jobs, halt, stop, go (the scheduler).
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
    session: Session,
    inventory: PathBuf,
    json: bool,
    ops: Ops,
}

/// Where the prompt's pipelines come from.
enum Ops {
    #[cfg(feature = "hot")]
    Hot(crate::hot::Hot, crate::hot::Notices),
    /// The `ops` linked into this binary; the text says why hot reload is off.
    Linked(String),
}

/// Runs the prompt on the terminal, or the lines of `--script`.
pub fn run(global: &GlobalArgs, args: &LiveArgs) -> Result<u8, Box<dyn std::error::Error>> {
    let mut session = Session::start(&args.session, global.json)?;
    let ops = start_ops(args.no_build);
    match &ops {
        #[cfg(feature = "hot")]
        Ops::Hot(hot, _) => {
            eprintln!("remote live: {}", hot.describe());
            session.use_library(hot.ops.clone());
        }
        Ops::Linked(why) => {
            eprintln!("remote live: hot reload is off ({why}); using the ops built into this binary");
            session.use_library(Arc::new(Linked) as Arc<dyn Library>);
        }
    }
    let live = Live { session, inventory: global.inventory_path(), json: global.json, ops };
    let outcome = match &args.script {
        Some(path) => script(&live, path),
        None => interactive(&live),
    };
    #[cfg(feature = "hot")]
    if let Ops::Hot(hot, _) = &live.ops {
        hot.shutdown();
    }
    outcome
}

#[cfg(feature = "hot")]
fn start_ops(no_build: bool) -> Ops {
    let notices = crate::hot::Notices::default();
    match crate::hot::start(no_build, notices.clone()) {
        crate::hot::Start::Hot(hot) => Ops::Hot(hot, notices),
        crate::hot::Start::Off(why) => Ops::Linked(why),
    }
}

#[cfg(not(feature = "hot"))]
fn start_ops(_no_build: bool) -> Ops {
    Ops::Linked("this build has no hot reload, like the static CI binary".into())
}

/// Runs a script's lines in order and stops at the first line that is not accepted, so that later
/// lines never run out of the context the script meant for them.
fn script(live: &Live, path: &Path) -> Result<u8, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read script {}: {e}", path.display()))?;
    // Editors on some systems start a UTF-8 file with a byte-order mark; it is not part of the first line.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    for (index, line) in text.lines().enumerate() {
        match live.line(line) {
            Outcome::Accepted => {}
            Outcome::Quit => break,
            Outcome::Refused => {
                eprintln!("remote live: stopped at {}:{}: that line was not accepted", path.display(), index + 1);
                return Ok(EXIT_USAGE);
            }
        }
    }
    Ok(EXIT_OK)
}

fn interactive(live: &Live) -> Result<u8, Box<dyn std::error::Error>> {
    // The prompt and the echo go to the terminal, not to stdout, which may carry `--json` output.
    let config = rustyline::Config::builder().behavior(rustyline::config::Behavior::PreferTerm).build();
    let mut editor: Editor<PromptHelper, DefaultHistory> = Editor::with_config(config)?;
    let helper = PromptHelper::default();
    let names = helper.names.clone();
    editor.set_helper(Some(helper));
    // Notices of rebuilds and reloads are printed above the line being typed, not through it.
    #[cfg(feature = "hot")]
    if let Ops::Hot(_, notices) = &live.ops
        && let Ok(mut printer) = editor.create_external_printer()
    {
        notices.set_printer(Box::new(move |text: String| {
            let _ = rustyline::ExternalPrinter::print(&mut printer, format!("{text}\n"));
        }));
    }
    let history = live.inventory.parent().unwrap_or(Path::new(".")).join(".remote").join("history");
    // No history yet is the normal first run.
    let _ = editor.load_history(&history);
    if let Some(folder) = history.parent() {
        let _ = std::fs::create_dir_all(folder);
    }
    eprintln!("remote live: inventory {}; `help` for commands, Ctrl-D to leave", live.inventory.display());
    loop {
        // Names change with the inventory (read again for every line) and, with hot reload, with ops.
        let inventory = Inventory::load(&live.inventory).ok();
        *names.lock().unwrap_or_else(|e| e.into_inner()) = Names::new(&live.session.registry(), inventory.as_ref());
        match editor.readline("remote> ") {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                    // Appended line by line, so a session that is killed keeps what was typed, and two
                    // sessions add to the file instead of overwriting each other.
                    if let Err(err) = editor.append_history(&history) {
                        eprintln!("remote live: could not save history to {}: {err}", history.display());
                    }
                }
                if live.line(&line) == Outcome::Quit {
                    break;
                }
            }
            // Ctrl-C abandons the line being typed, as in a shell.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(err) => return Err(err.into()),
        }
    }
    Ok(EXIT_OK)
}

impl Live {
    fn line(&self, line: &str) -> Outcome {
        self.session.rearm();
        let line = line.trim();
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => Outcome::Accepted,
            [first, ..] if first.starts_with('#') => Outcome::Accepted,
            ["quit" | "exit"] => Outcome::Quit,
            ["help"] => {
                // Under --json, standard output carries only JSON.
                if self.json {
                    eprint!("{HELP}")
                } else {
                    print!("{HELP}")
                }
                Outcome::Accepted
            }
            ["list"] => {
                crate::pipelines::print_list(&self.session.registry(), self.json);
                Outcome::Accepted
            }
            ["reload"] => self.reload(),
            ["refresh"] => match self.inventory() {
                Some(_) => self.reload(),
                None => Outcome::Refused,
            },
            ["hosts", rest @ ..] if rest.len() <= 1 && !line.contains('(') => self.hosts(rest.first().copied()),
            [command, ..] if LATER.contains(command) && !line.contains('(') => {
                eprintln!("error: `{command}` is not available yet: the scheduler is still to come");
                Outcome::Refused
            }
            [pipeline, group] if is_name(pipeline) && !line.contains('(') => {
                let Some(inventory) = self.inventory() else { return Outcome::Refused };
                match self.session.run_named(&inventory, pipeline, group) {
                    Ok(run) => {
                        self.session.report(&run, self.json);
                        Outcome::Accepted
                    }
                    Err(message) => {
                        eprintln!("error: {message}");
                        Outcome::Refused
                    }
                }
            }
            _ => {
                let Some(inventory) = self.inventory() else { return Outcome::Refused };
                match self.session.eval(&inventory, line) {
                    Ok(run) => {
                        self.session.report(&run, self.json);
                        Outcome::Accepted
                    }
                    Err(err) => {
                        eprint!("{}", err.render(line));
                        Outcome::Refused
                    }
                }
            }
        }
    }

    /// The inventory as it is now: it is read again for every line, so edits take effect at once.
    fn inventory(&self) -> Option<Inventory> {
        let inventory = Inventory::load(&self.inventory).map_err(|err| eprintln!("error: {err}")).ok()?;
        self.session.forget_stale(&inventory);
        Some(inventory)
    }

    /// Rebuilds and reloads `ops`, waiting for the outcome (the notices say what happened).
    fn reload(&self) -> Outcome {
        match &self.ops {
            #[cfg(feature = "hot")]
            Ops::Hot(hot, _) => {
                if hot.reload() {
                    Outcome::Accepted
                } else {
                    Outcome::Refused
                }
            }
            Ops::Linked(why) => {
                eprintln!("error: hot reload is off ({why}); restart `remote live` inside the workspace to load a new ops");
                Outcome::Refused
            }
        }
    }

    fn hosts(&self, group: Option<&str>) -> Outcome {
        let Some(inventory) = self.inventory() else { return Outcome::Refused };
        match crate::hosts::print(&inventory, group, self.json) {
            Ok(()) => Outcome::Accepted,
            Err(err) => {
                eprintln!("error: {err}");
                Outcome::Refused
            }
        }
    }
}

/// A Rust-like identifier: what a pipeline or group name looks like in `PIPELINE GROUP`.
fn is_name(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}
