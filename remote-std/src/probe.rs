//! How the metric and fact operations read a host: one shell script that prints the files it reads between
//! marker lines, and a reader that splits the output back into those files for the parsers.
//!
//! The scripts need only a POSIX shell, `sleep` and the kernel's files, so they work on busybox
//! userlands and in any locale. The marker carries a random token per call, so no file content (a mount
//! point, a command line) written before the call can pose as the start of another file.

// Parsers fail with the host's own error, whatever its size: they run once per host, not in a hot loop.
#![allow(clippy::result_large_err)]

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;

use remote_core::data::Data;
use remote_core::{HostError, On, Run, quote};

/// Copies its standard input to its output line by line with shell built-ins only (a last line without a line
/// end included). It replaces `cat`: on 20 hosts sharing a machine, starting four `cat`s per call cost
/// ~25 ms of wall time (BENCHMARKS.md, "Metrics"), while the files read are a few kilobytes.
const COPY: &str = "while IFS= read -r l || [ -n \"$l\" ]; do printf '%s\\n' \"$l\"; done";

/// What copies `path`: the built-in loop, except for sysctl files (`/proc/sys/…`), which answer a read that
/// does not start at offset 0 with end-of-file, and the shell's `read` takes one byte at a time: `256` would
/// read `2`.
fn copier(path: &str) -> &'static str {
    if path.starts_with("/proc/sys/") { "cat" } else { COPY }
}

/// Longest excerpt of an offending line quoted in an error.
const EXCERPT_CHARS: usize = 80;

/// A script under construction: sections, each the output of one read.
pub(crate) struct Script {
    token: String,
    text: String,
}

impl Script {
    /// An empty script that stops at the first failing required read, so a missing file is reported by the
    /// host's own shell ("cannot open /proc/stat") rather than as a puzzling parse error.
    pub(crate) fn new() -> Self {
        // Random enough that file contents cannot guess it; not a secret.
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
        );
        let token = format!("{:016x}", hasher.finish());
        Script { token, text: String::from("set -e\n") }
    }

    /// An empty script whose markers carry `token`: a second script of the same operation, read as the first
    /// is.
    pub(crate) fn with_token(token: &str) -> Self {
        Script { token: token.to_string(), text: String::from("set -e\n") }
    }

    /// The random part of the markers, for [`Reading::parse`].
    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// The command that runs the script by `sh` whatever the login shell is (see [`Probe::run`]).
    pub(crate) fn command(&self) -> String {
        format!("exec sh -c {}", quote::quote(&self.text))
    }

    fn marker(&mut self, name: &str) {
        self.text.push_str(&format!("echo '@@{} {name}'\n", self.token));
    }

    /// Reads `path`, which must exist.
    pub(crate) fn read(mut self, path: &str) -> Self {
        self.marker(path);
        // `|| exit 1` as well as `set -e`: busybox's shell goes on after a loop whose input cannot be opened.
        self.text.push_str(&format!("{} < {} || exit 1\n", copier(path), quote::quote(path)));
        self
    }

    /// Reads `path` when it exists; the section is empty when it does not.
    pub(crate) fn read_optional(mut self, path: &str) -> Self {
        self.marker(path);
        self.text.push_str(&format!(
            "{{ {} < {}; }} 2>/dev/null || true\n",
            copier(path),
            quote::quote(path)
        ));
        self
    }

    /// Runs `shell` (the script's own code, never a user's value unquoted) as the section `name`.
    pub(crate) fn run(mut self, name: &str, shell: &str) -> Self {
        self.marker(name);
        self.text.push_str(shell);
        self.text.push('\n');
        self
    }

    /// Waits `seconds` between readings.
    pub(crate) fn sleep(mut self, seconds: f64) -> Self {
        self.text.push_str(&format!("sleep {}\n", seconds_text(seconds)));
        self
    }

    /// The script with what its output means: `parse` turns one host's reading into `operation`'s data.
    pub(crate) fn parsed_by(self, operation: &'static str, parse: Parser) -> Probe {
        Probe { script: self, operation, parse }
    }
}

/// A script and its parser: everything an operation that reads a host needs.
pub(crate) struct Probe {
    script: Script,
    operation: &'static str,
    parse: Parser,
}

impl Probe {
    /// Runs the script where `on` says and turns each succeeded host's output into data; a host whose output
    /// does not parse fails with the reason, and the other hosts go on.
    pub(crate) fn run(self, on: impl Into<On>, label: &str) -> Run {
        let Probe { script, operation, parse } = self;
        // Run by `sh` whatever the login shell is: zsh, for one, stops at a glob that matches nothing (no
        // hwmon sensors). `exec` keeps the login shell's process, so a timeout still kills the script's
        // process group.
        let command = script.command();
        on.into().read(label, &command).with_data(|output| {
            // Half a process table would read as processes that are not running: no data rather than wrong
            // data.
            if output.truncated {
                let cause = "its output was cut short (over the per-host limit or the run's --max-output budget), so \
                             it cannot be read whole; raise --max-output";
                return Err(HostError::Unavailable { operation: operation.into(), cause: cause.into() });
            }
            let stdout = String::from_utf8_lossy(&output.stdout);
            parse(&Reading::parse(operation, &script.token, &stdout))
        })
    }

    /// Runs the script here with `shell` (`sh -c`, `busybox sh -c`), as a host would, and parses what it
    /// printed.
    #[cfg(test)]
    pub(crate) fn run_locally(&self, mut shell: std::process::Command) -> Result<Data, String> {
        let output =
            shell.arg(&self.script.text).output().map_err(|e| format!("cannot start the shell: {e}"))?;
        if !output.status.success() {
            return Err(format!("{}: {}", output.status, String::from_utf8_lossy(&output.stderr)));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        (self.parse)(&Reading::parse(self.operation, &self.script.token, &stdout)).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;

/// Turns one host's reading into its data.
pub(crate) type Parser = fn(&Reading) -> Result<Data, HostError>;

/// `seconds` as `sleep` takes it: whole seconds when whole (POSIX), else with a fraction (GNU and busybox).
fn seconds_text(seconds: f64) -> String {
    if seconds.fract() == 0.0 { format!("{}", seconds as u64) } else { format!("{seconds:.3}") }
}

/// Why an operation's `interval` parameter was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum IntervalError {
    /// Not a duration at all.
    #[error("the interval `{text}` is not a duration like 1s, 500ms or 2m: {cause}")]
    NotADuration {
        /// What was given.
        text: String,
        /// What humantime said.
        cause: String,
    },
    /// Shorter than a counter can be read over.
    #[error("the interval `{text}` is too short to measure: give at least 100ms")]
    TooShort {
        /// What was given.
        text: String,
    },
    /// Longer than a command should hold a host's channel for.
    #[error("the interval `{text}` is longer than 5 minutes: schedule a job that reads more often instead")]
    TooLong {
        /// What was given.
        text: String,
    },
}

/// Parses an interval such as `1s`, `500ms` or `2m` for an operation's `interval` parameter.
pub(crate) fn interval(text: &str) -> Result<f64, IntervalError> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|err| IntervalError::NotADuration { text: text.to_string(), cause: err.to_string() })?;
    if duration.as_millis() < 100 {
        return Err(IntervalError::TooShort { text: text.to_string() });
    }
    // The command runs for the whole interval, under the run's --timeout (10 minutes unless set).
    if duration.as_secs() > 300 {
        return Err(IntervalError::TooLong { text: text.to_string() });
    }
    Ok(duration.as_secs_f64())
}

/// One host's output split back into the files it read.
pub struct Reading<'a> {
    operation: &'static str,
    sections: Vec<Section<'a>>,
}

/// One file as the host printed it.
#[derive(Clone)]
pub(crate) struct Section<'a> {
    operation: &'static str,
    /// The file (or command) it came from.
    pub(crate) file: &'a str,
    /// Its lines, without line ends.
    pub(crate) lines: Vec<&'a str>,
}

impl<'a> Reading<'a> {
    /// Splits `stdout` at the marker lines of `token`. Text before the first marker is ignored (a login
    /// banner printed by a profile script, say).
    pub(crate) fn parse(operation: &'static str, token: &str, stdout: &'a str) -> Self {
        let marker = format!("@@{token} ");
        let mut sections = Vec::new();
        for line in stdout.lines() {
            match line.strip_prefix(marker.as_str()) {
                Some(file) => sections.push(Section { operation, file, lines: Vec::new() }),
                None => {
                    if let Some(section) = sections.last_mut() {
                        section.lines.push(line);
                    }
                }
            }
        }
        Reading { operation, sections }
    }

    /// A reading made of recorded files, for tests: `(name, contents)` in the order the script reads them.
    #[cfg(test)]
    pub(crate) fn from_files(operation: &'static str, files: &[(&'a str, &'a str)]) -> Self {
        let sections = files
            .iter()
            .map(|(file, contents)| Section { operation, file, lines: contents.lines().collect() })
            .collect();
        Reading { operation, sections }
    }

    /// The first section read from `file`; an error naming it when the host printed none.
    pub(crate) fn section(&self, file: &str) -> Result<&Section<'a>, HostError> {
        self.sections.iter().find(|s| s.file == file).ok_or_else(|| HostError::Unreadable {
            operation: self.operation.into(),
            file: file.into(),
            line: 0,
            text: String::new(),
            cause: "the host printed nothing for it".into(),
        })
    }

    /// Every section read from `file`, in order (a file read before and after an interval).
    pub(crate) fn sections(&self, file: &str) -> Vec<&Section<'a>> {
        self.sections.iter().filter(|s| s.file == file).collect()
    }

    /// A failure of the whole reading that no line is to blame for.
    pub(crate) fn unavailable(&self, cause: impl Into<String>) -> HostError {
        HostError::Unavailable { operation: self.operation.into(), cause: cause.into() }
    }
}

impl<'a> Section<'a> {
    /// The error for line `index` (0-based) of this section.
    pub(crate) fn error(&self, index: usize, cause: impl Into<String>) -> HostError {
        // The host's text goes into an error that is printed in places that do not escape it (job notices):
        // it is made harmless here, once.
        let text = remote_core::pretty::sanitize(self.lines.get(index).copied().unwrap_or_default());
        let mut excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
        if text.chars().count() > EXCERPT_CHARS {
            excerpt.push('…');
        }
        HostError::Unreadable {
            operation: self.operation.into(),
            file: self.file.into(),
            line: index + 1,
            text: excerpt,
            cause: cause.into(),
        }
    }

    /// The error for a file that lacks something it should have.
    pub(crate) fn missing(&self, what: &str) -> HostError {
        HostError::Unreadable {
            operation: self.operation.into(),
            file: self.file.into(),
            line: 0,
            text: String::new(),
            cause: format!("it has no {what}"),
        }
    }

    /// Word `position` of line `index` as a `T`, or the error naming both.
    pub(crate) fn number<T: FromStr>(
        &self,
        index: usize,
        words: &[&str],
        position: usize,
        what: &str,
    ) -> Result<T, HostError> {
        let word = words
            .get(position)
            .ok_or_else(|| self.error(index, format!("it has no {what} (word {})", position + 1)))?;
        word.parse().map_err(|_| self.error(index, format!("the {what} `{word}` is not a number")))
    }

    /// Word `position` of line `index`, a count of `unit`-byte blocks (1024 for `kB`), as bytes; a count too
    /// large to be real is an error, not an overflow.
    pub(crate) fn bytes(
        &self,
        index: usize,
        words: &[&str],
        position: usize,
        unit: u64,
        what: &str,
    ) -> Result<u64, HostError> {
        self.number::<u64>(index, words, position, what)?
            .checked_mul(unit)
            .ok_or_else(|| self.error(index, format!("the {what} is too large to be real")))
    }

    /// The line that starts with `key` (e.g. `MemTotal:`), with its index, if any.
    pub(crate) fn find(&self, key: &str) -> Option<(usize, Vec<&'a str>)> {
        self.lines.iter().enumerate().find_map(|(index, line)| {
            let words: Vec<&str> = line.split_whitespace().collect();
            (words.first() == Some(&key)).then_some((index, words))
        })
    }

    /// The whole file as one trimmed string (for one-value files such as `/proc/sys/kernel/hostname`).
    pub(crate) fn text(&self) -> Cow<'a, str> {
        match self.lines.as_slice() {
            [one] => Cow::Borrowed(one.trim()),
            lines => Cow::Owned(lines.join("\n").trim().to_string()),
        }
    }
}
