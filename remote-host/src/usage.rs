//! Usage, inventory and syntax errors (exit 2) under `--json`: besides the message on stderr, stdout gets the
//! one JSON document it always gets, an error object, so that a program reading stdout never reads nothing.

use std::path::Path;

use remote_config::InventoryError;
use serde_json::json;

/// Where an error is, when it is in a file or a line: what the error object says beside the message.
#[derive(Default)]
pub struct At<'a> {
    /// The file, when the error is in one (an inventory, a script).
    pub file: Option<&'a Path>,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column.
    pub column: Option<usize>,
}

/// With `json`, writes `{"ok": false, "exit": 2, "error": MESSAGE, "file", "line", "column", "results": []}`
/// to stdout (the place fields `null` when not known); without, nothing: the message is on stderr already.
pub fn json_error(json: bool, message: &str, at: At<'_>) {
    json_failure(json, message, at, 2);
}

/// [`json_error`] for a command that ended with another exit code than 2 before it ran anything (a signal
/// during the hand-over's build: 130, 143, 129).
pub fn json_failure(json: bool, message: &str, at: At<'_>, exit: u8) {
    if !json {
        return;
    }
    let document = json!({
        "ok": false,
        "exit": exit,
        "error": message,
        "file": at.file,
        "line": at.line,
        "column": at.column,
        "results": [],
    });
    let mut stdout = crate::out::Stdout;
    // A closed stdout is not a second error to report.
    let _ = remote_core::pretty::write_json(&mut stdout, &document)
        .and_then(|()| std::io::Write::write_all(&mut stdout, b"\n"));
}

/// Where an error of the command's own is: the file, line and column of an inventory mistake.
pub fn location<'a>(err: &'a (dyn std::error::Error + 'static)) -> At<'a> {
    match err.downcast_ref::<InventoryError>() {
        Some(
            InventoryError::Syntax { path, line, column, .. }
            | InventoryError::Invalid { path, line, column, .. },
        ) => At { file: Some(path), line: Some(*line), column: Some(*column) },
        Some(InventoryError::NotFound { path } | InventoryError::Read { path, .. }) => {
            At { file: Some(path), ..At::default() }
        }
        _ => At::default(),
    }
}

/// Whether `--json` is among the arguments (before `--`), for errors found before they could be parsed.
pub fn json_asked(args: &[std::ffi::OsString]) -> bool {
    args.iter().skip(1).take_while(|arg| *arg != "--").any(|arg| arg == "--json")
}

/// A next step for a mistake that clap only calls an unexpected argument: `remote exec GROUP uptime`, whose
/// command belongs after `--`.
pub fn parse_hint(err: &clap::Error, args: &[std::ffi::OsString]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let words: Vec<&str> = args.iter().skip(1).filter_map(|a| a.to_str()).collect();
    if err.kind() != ErrorKind::UnknownArgument || !words.contains(&"exec") || words.contains(&"--") {
        return None;
    }
    let Some(ContextValue::String(word)) = err.get(ContextKind::InvalidArg) else { return None };
    Some(format!(
        "the command and its arguments go after `--`: `remote exec GROUP -- {}`",
        remote_core::pretty::sanitize(word)
    ))
}

/// Next steps after a run, on stderr (stdout keeps its one summary or JSON document): a one-word command
/// with spaces that no host found, and a sandbox whose hosts are not running.
pub fn hints_after(report: &remote_core::Report, argv: Option<&[String]>) {
    let exit = |code: u32| {
        report.results.iter().any(|r| r.outcome.as_ref().is_ok_and(|output| output.exit == Some(code)))
    };
    if let Some([word]) = argv
        && word.contains(char::is_whitespace)
        && exit(127)
    {
        eprintln!(
            "hint: `{}` ran as one program name, spaces included, and was not found; shell syntax (pipes, \
             redirections, several words) needs a shell: `-- sh -c '…'`",
            remote_core::pretty::bounded(word)
        );
    }
    let refused = |r: &remote_core::HostResult| match &r.outcome {
        Err(remote_core::HostError::GaveUp { last, .. }) => {
            matches!(**last, remote_core::HostError::ConnectRefused { .. })
        }
        outcome => matches!(outcome, Err(remote_core::HostError::ConnectRefused { .. })),
    };
    if report.group == crate::sandbox::GROUP
        && !report.results.is_empty()
        && report.results.iter().all(refused)
    {
        eprintln!("hint: nothing listens on the sandbox's addresses: `remote sandbox up` starts its hosts");
    }
}
