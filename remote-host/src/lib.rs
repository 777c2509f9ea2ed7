//! The host of `remote` as a library: the command line, the live prompt, hot reload, the scheduler, the hub
//! and the history. The `remote` binary is [`main`] with a library of pipelines (`ops`) linked in; a fleet
//! repository's own host (`remote new`) is the same three lines with the user's `ops`.

// First, so that its `out!` and `outln!` are known to the modules after it.
#[macro_use]
mod out;

mod build_static;
mod ci;
mod cli;
mod complete;
mod delegate;
mod exec;
mod history_cli;
mod hosts_cli;
#[cfg(feature = "hot")]
mod hot;
mod interrupt;
mod jobs;
mod junit;
mod limits;
mod live;
mod merge;
mod new;
mod notices;
mod outbox;
mod outlets;
mod pipelines;
mod prompt;
mod rollout;
mod sandbox;
mod schedule;
mod session;
mod stream;
mod terminal;
mod usage;

use std::process::ExitCode;

// Linked for its declarations: the built-in operations and steps reach the registry through remote-core's
// distributed slice, so nothing in this crate names them. The binary links its `ops` the same way.
extern crate remote_std;
// The unit tests call this workspace's example pipelines by name.
#[cfg(test)]
extern crate ops;

pub mod history;
pub mod hub;

use clap::Parser;

use cli::{Cli, Command};

/// Exit code when every host succeeded.
const EXIT_OK: u8 = 0;
/// Exit code when at least one host failed.
const EXIT_HOST_FAILED: u8 = 1;
/// Exit code for usage, inventory and syntax errors (clap uses 2 for usage errors too).
const EXIT_USAGE: u8 = 2;

/// The key from `REMOTE_KEY`, read once at start-up by [`main`] for every pool the process makes.
static IDENTITY: std::sync::OnceLock<Option<remote_ssh::auth::Identity>> = std::sync::OnceLock::new();

/// The sudo password from `REMOTE_BECOME_PASSWORD` or `--ask-become-pass`, set once by [`main`].
static BECOME_PASSWORD: std::sync::OnceLock<Option<remote_ssh::auth::Secret>> = std::sync::OnceLock::new();

/// The SMTP password from `REMOTE_SMTP_PASSWORD`, read once by [`main`].
static SMTP_PASSWORD: std::sync::OnceLock<Option<remote_ssh::auth::Secret>> = std::sync::OnceLock::new();

/// Where the `email`, `notify` and `webhook` steps send runs, reading `[notify]` from `inventory` each time.
pub fn outbox(inventory: &std::path::Path) -> std::sync::Arc<outbox::Outbox> {
    std::sync::Arc::new(outbox::Outbox::new(inventory.to_path_buf(), SMTP_PASSWORD.get().cloned().flatten()))
}

/// The environment variables that may hold a secret, which no child but a host handed over to sees.
fn secret_variables() -> [&'static str; 4] {
    [
        remote_ssh::auth::KEY_ENV,
        remote_ssh::auth::PASSPHRASE_ENV,
        BECOME_PASSWORD_ENV,
        outbox::SMTP_PASSWORD_ENV,
    ]
}

/// Where the sudo password may come from instead of a prompt.
const BECOME_PASSWORD_ENV: &str = "REMOTE_BECOME_PASSWORD";

/// How a command's connections are made: its session options, the key from `REMOTE_KEY` and the sudo password
/// when there are.
pub fn pool_config(session: &cli::SessionArgs) -> remote_ssh::pool::PoolConfig {
    remote_ssh::pool::PoolConfig {
        connect: session.connect_options(),
        identity: IDENTITY.get().cloned().flatten(),
        become_password: BECOME_PASSWORD.get().cloned().flatten(),
        ..remote_ssh::pool::PoolConfig::default()
    }
}

/// The command's session options, for the commands that connect.
fn session_args(command: &Command) -> Option<&cli::SessionArgs> {
    match command {
        Command::Exec(args) => Some(&args.session),
        Command::Eval(args) => Some(&args.session),
        Command::Run(args) => Some(&args.session),
        Command::Live(args) => Some(&args.session),
        _ => None,
    }
}

/// The sudo password, asked once on the terminal (echo off) when `--ask-become-pass` says so and the
/// environment gave none.
fn become_password(
    from_env: Option<remote_ssh::auth::Secret>,
    ask: bool,
) -> Result<Option<remote_ssh::auth::Secret>, String> {
    if from_env.is_some() || !ask {
        return Ok(from_env);
    }
    let typed = rpassword::prompt_password("sudo password (for become): ").map_err(|e| {
        format!("--ask-become-pass needs a terminal to ask on ({e}); set {BECOME_PASSWORD_ENV} instead")
    })?;
    let typed = zeroize::Zeroizing::new(typed);
    Ok(Some(remote_ssh::auth::Secret::new(typed.as_bytes().to_vec())))
}

/// Runs the command line of this process and says how it ended; the `remote` binary is this call, with the
/// `ops` it links.
pub fn main() -> ExitCode {
    // Inside a fleet repository, the commands that run `ops` belong to its own host (`delegate`): handed over
    // before anything else happens here, secrets included.
    if let Ok(cli) = Cli::try_parse_from(std::env::args_os())
        && let Some(code) = delegate::hand_over(&cli.command, cli.global.json, &secret_variables())
    {
        return code;
    }
    // The key is taken out of the environment before anything else runs, and is never written anywhere.
    let identity = remote_ssh::auth::Identity::from_env();
    // The passwords likewise.
    let become_from_env = take_secret(BECOME_PASSWORD_ENV);
    let _ = SMTP_PASSWORD.set(take_secret(outbox::SMTP_PASSWORD_ENV));
    // The passphrase of key files is kept in memory whatever the key source, so that neither
    // /proc/PID/environ nor a child (cargo and its build scripts under `remote live`, sudo's askpass, …) ever
    // sees it.
    let passphrase = take_secret(remote_ssh::auth::PASSPHRASE_ENV);
    let holds_passphrase = passphrase.is_some();
    remote_ssh::auth::keep_passphrase(passphrase);
    if scrub_env(remote_ssh::auth::KEY_ENV) || holds_passphrase {
        // No core dump of a process holding a key or its passphrase, and no reading of its memory or /proc
        // files by other processes of the same user.
        // SAFETY: prctl with PR_SET_DUMPABLE takes plain integers and changes only this process's flag.
        unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) if err.use_stderr() && usage::json_asked(&args) => {
            // clap's own words on stderr as usual; with --json, the error object on stdout too.
            let _ = err.print();
            // The message is clap's first paragraph on one line, without its usage and help lines.
            let rendered = err.to_string();
            let paragraph = rendered.split("\n\n").next().unwrap_or_default().trim_start_matches("error: ");
            let mut message = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
            if let Some(hint) = usage::parse_hint(&err, &args) {
                eprintln!("hint: {hint}");
                message = format!("{message}; {hint}");
            }
            usage::json_error(true, &message, usage::At::default());
            return ExitCode::from(EXIT_USAGE);
        }
        Err(err) => match usage::parse_hint(&err, &args) {
            Some(hint) => {
                let _ = err.print();
                eprintln!("hint: {hint}");
                return ExitCode::from(EXIT_USAGE);
            }
            None => err.exit(),
        },
    };
    {
        use tracing_subscriber::prelude::*;
        let filter = log_filter(std::env::var("REMOTE_LOG").ok().as_deref());
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .with_filter(NoSecretLogs);
        tracing_subscriber::registry().with(layer).init();
    }
    limits::raise_open_files();
    out::watch_reader();
    let connects =
        matches!(cli.command, Command::Exec(_) | Command::Eval(_) | Command::Run(_) | Command::Live(_));
    match identity {
        Ok(identity) => {
            let _ = IDENTITY.set(identity);
        }
        Err(err) if connects => {
            eprintln!("error: {err}");
            usage::json_error(cli.global.json, &err.to_string(), usage::At::default());
            return ExitCode::from(EXIT_USAGE);
        }
        // Commands that connect nowhere do not need the key, so a bad one is not their error.
        Err(_) => {}
    }
    let ask = session_args(&cli.command).is_some_and(|session| session.ask_become_pass);
    match become_password(become_from_env, ask) {
        Ok(password) => {
            // As for REMOTE_KEY: no core dump and no reading of the memory of a process that holds a
            // password.
            if password.is_some() || SMTP_PASSWORD.get().is_some_and(Option::is_some) {
                // SAFETY: prctl with PR_SET_DUMPABLE takes plain integers and changes only this process's
                // flag.
                unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
            }
            let _ = BECOME_PASSWORD.set(password);
        }
        Err(err) => {
            eprintln!("error: {err}");
            usage::json_error(cli.global.json, &err, usage::At::default());
            return ExitCode::from(EXIT_USAGE);
        }
    }
    if cli.global.check && !matches!(cli.command, Command::Exec(_) | Command::Eval(_) | Command::Run(_)) {
        let message =
            "--check (a dry run) applies to exec, run and eval; at the live prompt, write `check LINE`";
        eprintln!("error: {message}");
        usage::json_error(cli.global.json, message, usage::At::default());
        return ExitCode::from(EXIT_USAGE);
    }
    let outcome = match &cli.command {
        Command::Exec(args) => exec::run(&cli.global, args),
        Command::Eval(args) => pipelines::eval(&cli.global, args),
        Command::Run(args) => pipelines::run(&cli.global, args),
        Command::List => pipelines::list(&cli.global),
        Command::Live(args) => live::run(&cli.global, args),
        Command::New(args) => new::run(&cli.global, args),
        Command::BuildStatic(args) => build_static::run(&cli.global, args),
        Command::Completions(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(args.shell, &mut command, "remote", &mut out::Stdout);
            Ok(EXIT_OK)
        }
        Command::Man => clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
            .render(&mut out::Stdout)
            .map(|()| EXIT_OK)
            .map_err(Into::into),
        Command::Sandbox(args) => sandbox::run(&cli.global, args),
        Command::Hosts(args) => remote_config::Inventory::load(&cli.global.inventory_path())
            .and_then(|inventory| hosts_cli::print(&inventory, args.group.as_deref(), cli.global.json))
            .map(|()| EXIT_OK)
            .map_err(Into::into),
        Command::History(args) => history_cli::print(&cli.global, args),
        Command::MergeReports(args) => merge::run(&cli.global, args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // Errors quote the inventory and ssh_config (host names, values), which may hold escape
            // sequences.
            let message = error_chain(err.as_ref());
            eprintln!("error: {}", remote_core::pretty::sanitize_lines(&message));
            usage::json_error(cli.global.json, &message, usage::location(err.as_ref()));
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Keeps out, at every level, the logs of the crates that handle secrets in their own terms: the HTTP client
/// logs a webhook's whole URL (whose path and query are its token), and the SMTP and TLS crates what they
/// send. What `remote` itself says about them is already redacted.
struct NoSecretLogs;

/// Crates whose own log records may carry a secret.
const SECRET_BEARING: [&str; 4] = ["ureq", "ureq_proto", "lettre", "rustls"];

fn secret_bearing(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or_default();
    SECRET_BEARING.contains(&krate)
}

/// What `REMOTE_LOG` asks to see (`debug`, `warn,remote_ssh=debug`): a level for everything and levels per
/// module. Unset, empty or unreadable, the default: warnings, and russh-sftp's only when they are errors (it
/// warns "channel closed" when a connection is lost mid-copy; the copy's result says it in words, with the host
/// and how far it got). An unreadable value is said, not ignored.
fn log_filter(value: Option<&str>) -> tracing_subscriber::filter::Targets {
    const DEFAULT: &str = "warn,russh_sftp=error";
    let default = || DEFAULT.parse().expect("the default log filter parses");
    match value.map(str::trim) {
        None | Some("") => default(),
        Some(text) => text.parse().unwrap_or_else(|e| {
            eprintln!(
                "warning: REMOTE_LOG={} is not a log filter ({e}); using `{DEFAULT}`: give a level (`debug`) or \
                 module=level pairs (`warn,remote_ssh=debug`)",
                remote_core::pretty::bounded(text)
            );
            default()
        }),
    }
}

impl<S> tracing_subscriber::layer::Filter<S> for NoSecretLogs {
    fn enabled(&self, meta: &tracing::Metadata<'_>, _: &tracing_subscriber::layer::Context<'_, S>) -> bool {
        !secret_bearing(meta.target())
    }

    fn event_enabled(
        &self,
        event: &tracing::Event<'_>,
        _: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        // Records of the `log` crate arrive with the target `log`; their own target is inside the event.
        use tracing_log::NormalizeEvent;
        event.normalized_metadata().is_none_or(|meta| !secret_bearing(meta.target()))
    }
}

/// The secret in the environment variable `name`, copied, then wiped where the environment held it.
fn take_secret(name: &str) -> Option<remote_ssh::auth::Secret> {
    let value = std::env::var_os(name).filter(|value| !value.is_empty());
    scrub_env(name);
    value.map(|value| remote_ssh::auth::Secret::new(std::os::unix::ffi::OsStringExt::into_vec(value)))
}

/// Wipes the value of environment variable `name` where it lies, then removes the variable; whether it was
/// set. Removing alone would leave the bytes in the block the process started with, which `/proc/PID/environ`
/// shows for as long as the process runs, and which children and threads could still read.
fn scrub_env(name: &str) -> bool {
    let Ok(c_name) = std::ffi::CString::new(name) else { return false };
    // SAFETY: called first thing in `main`, before any thread exists, so nothing reads or changes the
    // environment meanwhile. `getenv` returns the value's NUL-terminated bytes inside the environment, which
    // stay valid until it changes; exactly `strlen` bytes of them are overwritten, and the variable is then
    // removed.
    unsafe {
        let value = libc::getenv(c_name.as_ptr());
        if value.is_null() {
            return false;
        }
        std::ptr::write_bytes(value, 0, libc::strlen(value));
        std::env::remove_var(name);
    }
    true
}

/// An error and its causes on one line, each said once: `what: why: deeper why`.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod log_filter_tests {
    use tracing::Level;

    use super::log_filter;

    /// Which of `targets` at `level` the filter for `value` lets through.
    fn check(value: Option<&str>, level: Level, targets: &[&str], expected: &[bool]) {
        let filter = log_filter(value);
        let got: Vec<bool> = targets.iter().map(|t| filter.would_enable(t, &level)).collect();
        assert_eq!(got, expected, "REMOTE_LOG={value:?} at {level}");
    }

    #[test]
    fn remote_log_is_a_level_and_module_levels_or_else_the_default() {
        let targets = ["remote_ssh::pool", "russh_sftp::client", "hyper"];
        check(None, Level::WARN, &targets, &[true, false, true]);
        check(None, Level::INFO, &targets, &[false, false, false]);
        check(Some(""), Level::WARN, &targets, &[true, false, true]);
        check(Some("debug"), Level::DEBUG, &targets, &[true, true, true]);
        check(Some("warn,remote_ssh=debug"), Level::DEBUG, &targets, &[true, false, false]);
        check(Some(" info "), Level::INFO, &targets, &[true, true, true]);
        // Unreadable: said on stderr, and the default holds.
        check(Some("=%%bogus"), Level::WARN, &targets, &[true, false, true]);
    }
}
