//! What `exec`, `run` and `eval` do for CI around a run: the shard, the deadline, the JUnit report, GitHub
//! annotations and the exit code by `--fail-on`.

use std::hash::{BuildHasher, Hasher};
use std::io::Write;

use remote_core::Report;
use serde::Serialize;

use crate::cli::{CiArgs, FailOn, Format};
use crate::junit;
use crate::{EXIT_HOST_FAILED, EXIT_OK};

/// GitHub shows at most ten error annotations per step; past that, the rest are named in one.
const GITHUB_ANNOTATIONS: usize = 10;
/// Lines of a failed host's output quoted in its annotation.
const ANNOTATION_LINES: usize = 5;

/// One CLI run seen from CI: begun before anything runs, finished with its report.
pub struct CiRun<'a> {
    args: &'a CiArgs,
    json: bool,
    /// A dry run (`--check`): said in the document and at the end.
    check: bool,
    /// What ran and where, e.g. `listing on web`: the JUnit suite and the JSON document's `run`.
    name: String,
    started: String,
    /// The token that ends `::stop-commands::`, while GitHub's workflow commands are off.
    paused: Option<String>,
}

impl<'a> CiRun<'a> {
    /// Begins a run of `what` on `group`. Under `--format github`, or whenever it runs in GitHub Actions,
    /// workflow commands are turned off first, so that nothing a host prints (and the summary quotes) can act
    /// as one: the runner reads every line of a step's output, leading spaces trimmed, for `::command::`.
    pub fn begin(args: &'a CiArgs, json: bool, check: bool, what: &str, group: &str) -> Self {
        // UTC without an offset: the form JUnit's schema has for `timestamp`.
        let started = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S").to_string();
        let in_github = std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true");
        let paused = (args.format == Format::Github || in_github).then(|| {
            let token = unguessable_token();
            github_line(json, &format!("::stop-commands::{token}"));
            token
        });
        CiRun { args, json, check, name: format!("{} on {group}", what.trim()), started, paused }
    }

    /// The run's deadline, counted from now.
    pub fn deadline(&self) -> Option<remote_ssh::exec::Deadline> {
        self.args.deadline.map(remote_ssh::exec::Deadline::after)
    }

    /// Writes `report` as the `--json` document, with the run's name and shard.
    pub fn write_json(&self, report: &Report) {
        let shard = self.args.shard.map(|s| s.to_string());
        let document = Document { report, run: &self.name, shard, check: self.check };
        let mut out = crate::out::Stdout;
        // A closed stdout is not our error.
        // Streamed, not built first: the document holds every host's output, up to the run's whole budget.
        let _ = remote_core::pretty::write_json(&mut out, &document).and_then(|()| out.write_all(b"\n"));
    }

    /// Says that this shard has no hosts and reports the empty run as such: every shard writes its report, so
    /// a merge can tell an empty shard from a missing one.
    pub fn empty_shard(
        mut self,
        group: &str,
        group_size: usize,
        label: &str,
    ) -> Result<u8, Box<dyn std::error::Error>> {
        let shard = self.args.shard.map(|s| s.to_string()).unwrap_or_default();
        eprintln!(
            "remote: shard {shard} of group `{group}` has no hosts ({group_size} host(s) dealt over the shards); nothing to run"
        );
        let report = Report {
            label: label.to_string(),
            group: group.to_string(),
            results: Vec::new(),
            elapsed: Default::default(),
        };
        if self.json {
            self.write_json(&report);
        }
        self.finish_quietly(&report)?;
        Ok(EXIT_OK)
    }

    /// Ends the run after its summary or JSON is out: GitHub annotations, the JUnit file, and the exit code.
    pub fn finish(mut self, report: &Report) -> Result<u8, Box<dyn std::error::Error>> {
        self.finish_quietly(report)?;
        if self.check {
            eprintln!("remote: dry run (--check): nothing was changed; each host says what would change");
        }
        let code = exit_code(report, self.args.fail_on);
        // A message not sent was said on stderr as it happened; the hosts' own outcomes stand, and the exit
        // says it.
        Ok(if crate::outbox::any_failed() && self.args.fail_on != FailOn::None {
            code.max(EXIT_HOST_FAILED)
        } else {
            code
        })
    }

    fn finish_quietly(&mut self, report: &Report) -> Result<(), Box<dyn std::error::Error>> {
        if self.resume_commands() && self.args.format == Format::Github {
            for line in annotations(report, &self.name) {
                github_line(self.json, &line);
            }
        }
        if let Some(path) = &self.args.junit {
            let mut properties = vec![("group".to_string(), report.group.clone())];
            if let Some(shard) = self.args.shard {
                properties.push(("shard".to_string(), shard.to_string()));
            }
            properties.push(("remote.version".to_string(), env!("CARGO_PKG_VERSION").to_string()));
            let suite = junit::Suite::of(report, &self.name, self.started.clone(), properties);
            junit::write(path, &[suite])
                .map_err(|e| format!("cannot write the JUnit report {}: {e}", path.display()))?;
        }
        Ok(())
    }
}

impl CiRun<'_> {
    /// Turns GitHub's workflow commands back on, if they were turned off; whether they were.
    fn resume_commands(&mut self) -> bool {
        match self.paused.take() {
            Some(token) => {
                github_line(self.json, &format!("::{token}::"));
                true
            }
            None => false,
        }
    }
}

/// A run that ends early (an unknown pipeline, a bad expression) still turns workflow commands back on, so
/// the rest of the CI step keeps them.
impl Drop for CiRun<'_> {
    fn drop(&mut self) {
        self.resume_commands();
    }
}

/// The inventory cut to `--limit`, `--exclude` and `--shard`, and the size of `group` before the shard's cut
/// (for the message of an empty shard). Named hosts that leave `group` empty are an error: a shard may be
/// empty, a set a person wrote that names none of the group's hosts is a mistake.
pub fn cut(
    inventory: remote_config::Inventory,
    ci: &CiArgs,
    group: Option<&str>,
) -> Result<(remote_config::Inventory, usize), Box<dyn std::error::Error>> {
    let narrowing = ci.limit.is_some() || ci.exclude.is_some();
    let had = group.and_then(|name| inventory.group(name).ok()).map_or(0, |g| g.hosts.len());
    let mut inventory = inventory.narrow(ci.limit.as_deref(), ci.exclude.as_deref())?;
    if let Some(which) = ci.hosts_from {
        inventory = from_last_run(inventory, which, group)?;
    }
    let whole = group.and_then(|name| inventory.group(name).ok()).map_or(0, |g| g.hosts.len());
    if narrowing && ci.hosts_from.is_none() && had > 0 && whole == 0 {
        let name = group.unwrap_or_default();
        let options: Vec<String> = [("limit", &ci.limit), ("exclude", &ci.exclude)]
            .iter()
            .filter_map(|(option, set)| Some(format!("--{option} {}", set.as_deref()?)))
            .collect();
        return Err(format!(
            "{} leave{} no host of group `{name}` ({had} before); `remote hosts {name}` lists them",
            options.join(" "),
            if options.len() == 1 { "s" } else { "" }
        )
        .into());
    }
    Ok(match ci.shard {
        Some(shard) => (inventory.shard(shard), whole),
        None => (inventory, whole),
    })
}

/// The inventory cut to the hosts that failed (or succeeded) in the history's newest run. None of them in
/// `group` is no error: nothing failed, so there is nothing to run again, and the run is empty.
fn from_last_run(
    inventory: remote_config::Inventory,
    which: crate::cli::HostsFrom,
    group: Option<&str>,
) -> Result<remote_config::Inventory, Box<dyn std::error::Error>> {
    let path = crate::history::default_path(inventory.path());
    let option = match which {
        crate::cli::HostsFrom::LastFailed => "last-failed",
        crate::cli::HostsFrom::LastOk => "last-ok",
    };
    let nothing = || {
        format!(
            "--hosts-from {option} reads the history `remote live` keeps ({}), which has no run yet",
            path.display()
        )
    };
    if !path.exists() {
        return Err(nothing().into());
    }
    let run = crate::history::History::open_to_read(&path)?.last_run()?.ok_or_else(nothing)?;
    let wanted = which == crate::cli::HostsFrom::LastOk;
    let names: Vec<String> = run.results.iter().filter(|r| r.ok == wanted).map(|r| r.host.clone()).collect();
    let inventory = inventory.keep_named(&names);
    if let Some(group) = group
        && inventory.group(group).is_ok_and(|g| g.hosts.is_empty())
    {
        let what = if wanted { "succeeded" } else { "failed" };
        eprintln!(
            "remote: no host of group `{group}` {what} in the last run (`{}`); nothing to run",
            remote_core::pretty::bounded(&run.line)
        );
    }
    Ok(inventory)
}

/// The exit code of a finished run under `--fail-on`.
pub fn exit_code(report: &Report, fail_on: FailOn) -> u8 {
    if fails(report.failed_count(), report.results.len(), fail_on) { EXIT_HOST_FAILED } else { EXIT_OK }
}

/// Whether `failed` of `hosts` hosts make a run (or a merge of shards) fail under `fail_on`. No host at all
/// (a `pick` that kept none) is success: a filter that finds nothing found nothing wrong, and `--json`'s `ok`
/// says the same. A pipeline that wants to fail on what it found ends with `fail("…")`.
pub fn fails(failed: usize, hosts: usize, fail_on: FailOn) -> bool {
    match fail_on {
        FailOn::Any => failed > 0,
        FailOn::All => hosts > 0 && failed == hosts,
        FailOn::None => false,
    }
}

/// The `--json` document: the report's fields, then what CI adds.
#[derive(Serialize)]
struct Document<'a> {
    #[serde(flatten)]
    report: &'a Report,
    run: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<String>,
    /// Only in a dry run: `"check": true`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    check: bool,
}

/// Workflow commands go to stdout, unless stdout carries the one JSON document; the runner reads both.
fn github_line(json: bool, line: &str) {
    if json {
        eprintln!("{line}");
    } else {
        outln!("{line}");
    }
}

/// 128 bits no host can guess, from the hasher keys std draws from the OS (no file needed: the static binary
/// may run where there is no /dev).
fn unguessable_token() -> String {
    let state = std::collections::hash_map::RandomState::new();
    let mut token = String::new();
    for salt in [0x5eed_u64, 0xfeed] {
        let mut hasher = state.build_hasher();
        hasher.write_u64(salt);
        hasher.write_u128(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
        );
        token.push_str(&format!("{:016x}", hasher.finish()));
    }
    token
}

/// `::error` annotations for the failed hosts of `report`, at most [`GITHUB_ANNOTATIONS`].
pub fn annotations(report: &Report, run: &str) -> Vec<String> {
    let failed: Vec<_> = report.results.iter().filter(|r| !r.ok()).collect();
    let shown = if failed.len() > GITHUB_ANNOTATIONS { GITHUB_ANNOTATIONS - 1 } else { failed.len() };
    let mut lines: Vec<String> = failed[..shown]
        .iter()
        .map(|result| {
            let mut message = format!("{run}: {}", result.error_text().unwrap_or_default());
            let output = result.output().map(|o| if o.stderr.is_empty() { &o.stdout } else { &o.stderr });
            let tail = output.map(|bytes| String::from_utf8_lossy(bytes).into_owned()).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().filter(|l| !l.trim().is_empty()).collect();
            for line in &tail[tail.len().saturating_sub(ANNOTATION_LINES)..] {
                message.push('\n');
                message.push_str(line);
            }
            format!("::error title={}::{}", property(&format!("{} failed", result.host)), data(&message))
        })
        .collect();
    if failed.len() > shown {
        let rest: Vec<&str> = failed[shown..].iter().map(|r| r.host.as_str()).collect();
        let message = format!("{run}: {} more hosts failed: {}", rest.len(), rest.join(", "));
        lines.push(format!(
            "::error title={}::{}",
            property(&format!("{} more hosts failed", rest.len())),
            data(&message)
        ));
    }
    lines
}

/// A workflow command's message: `%`, CR and LF escaped (so it stays one line), other control characters
/// hidden.
fn data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if remote_core::pretty::is_hidden(c) => out.push('·'),
            c => out.push(c),
        }
    }
    out
}

/// A workflow command's property value: as [`data`], with `:` and `,` escaped too.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use remote_core::{HostError, HostResult, Output};

    use super::*;

    fn result(host: &str, exit: Option<u32>, stderr: &str) -> HostResult {
        let outcome = match exit {
            Some(exit) => {
                Ok(Output { exit: Some(exit), stderr: stderr.as_bytes().to_vec(), ..Output::default() })
            }
            None => Err(HostError::ConnectRefused { port: 22 }),
        };
        HostResult { host: host.into(), outcome, elapsed: Duration::ZERO }
    }

    fn report(results: Vec<HostResult>) -> Report {
        Report { label: "true".into(), group: "web".into(), results, elapsed: Duration::ZERO }
    }

    #[test]
    fn exit_codes_follow_fail_on() {
        let check = |exits: &[Option<u32>], expected: [u8; 3]| {
            let run =
                report(exits.iter().enumerate().map(|(n, e)| result(&format!("h{n}"), *e, "")).collect());
            let got = [FailOn::Any, FailOn::All, FailOn::None].map(|policy| exit_code(&run, policy));
            assert_eq!(got, expected, "{exits:?}");
        };
        check(&[Some(0), Some(0)], [0, 0, 0]);
        check(&[Some(0), Some(1)], [1, 0, 0]);
        check(&[Some(0), None], [1, 0, 0]);
        check(&[Some(2), None], [1, 1, 0]);
        // A `pick` that kept no host found nothing wrong.
        check(&[], [0, 0, 0]);
    }

    #[test]
    fn annotations_are_one_line_each_and_cannot_start_a_command() {
        let run = report(vec![
            result("web-1", Some(0), ""),
            result("web-2", Some(3), "100% full\n::set-env name=X::y\r\n\x1b[31mlast\n"),
            result("web-3", None, ""),
        ]);
        assert_eq!(
            annotations(&run, "check on web"),
            [
                "::error title=web-2 failed::check on web: exited with status 3%0A100%25 full%0A::set-env name=X::y%0A·[31mlast",
                "::error title=web-3 failed::check on web: connection refused (is sshd running on port 22?)",
            ]
        );
        let many = report((0..12).map(|n| result(&format!("h{n}"), Some(1), "")).collect());
        let lines = annotations(&many, "x on web");
        assert_eq!(lines.len(), GITHUB_ANNOTATIONS);
        assert_eq!(
            lines[9],
            "::error title=3 more hosts failed::x on web: 3 more hosts failed: h9, h10, h11"
        );
        assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(unguessable_token(), unguessable_token());
        assert_eq!(unguessable_token().len(), 32);
    }
}
