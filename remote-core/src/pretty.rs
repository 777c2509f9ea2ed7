//! Renders a [`Report`] as the run summary: a header, then the hosts grouped by identical outcome (failures
//! first, then the biggest group), each distinct output shown once under its host set (`127.0.1.[1-3]`).

use std::fmt;
use std::io::IsTerminal;

use crate::report::{HostResult, Report};

mod data;
pub use data::bytes;

/// How a step shows a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The run summary: hosts grouped by identical outcome, each outcome once, up to [`HEIGHT`] lines
    /// (`pretty`).
    Summary,
    /// The run summary with every line of every outcome (`pretty_all`, `--full`).
    Full,
    /// How each group of hosts differs from the most common output (`diff`).
    Diff,
    /// The hosts' typed data in columns (`table`).
    Table,
}

/// Characters of output shown on one summary line.
const LINE_CHARS: usize = 120;
/// Said under a host whose output was cut short.
const TRUNCATED: &str = "(output truncated: over the per-host limit or the run's --max-output budget)";

/// Whether stdout should get colours: only on a terminal, and never when `NO_COLOR` is set (no-color.org).
pub fn stdout_wants_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The run shown as `view` says, ready to print.
pub fn render_view(run: &Report, view: View, color: bool) -> String {
    match view {
        View::Summary => render(run, color),
        View::Full => render_full(run, color),
        View::Diff => render_diff(run, color),
        View::Table => data::table(run),
    }
}

/// `text` in the ANSI style `sgr` (`32` green, `2` dim, …) when `color`, else as it is. Four styles need no
/// terminal library, and the contract crate then links no libc.
fn paint(color: bool, sgr: &str, text: &dyn fmt::Display) -> String {
    if color { format!("\x1b[{sgr}m{text}\x1b[0m") } else { text.to_string() }
}

/// The SGR codes of the summary's styles.
const BLUE_BOLD: &str = "34;1";
const GREEN: &str = "32";
const RED: &str = "31";
const DIM: &str = "2";

/// The run summary, ready to print: each distinct outcome once, up to [`HEIGHT`] lines of it.
pub fn render(run: &Report, color: bool) -> String {
    render_lines(run, color, Some(HEIGHT))
}

/// The run summary with every line of every distinct output (`pretty_all`, `--full`).
pub fn render_full(run: &Report, color: bool) -> String {
    render_lines(run, color, None)
}

/// Lines of one distinct output the summary shows before `… N more lines`.
pub const HEIGHT: usize = 20;
/// Characters of a host set written before the outputs of one-line groups line up; a longer one pushes its
/// own line only.
const LABEL_CHARS: usize = 40;

/// One group of hosts as the summary shows it: a header line (✔/✖, the host set, and its one line when that
/// is all there is to say) and the lines under it.
struct Block {
    ok: bool,
    label: String,
    head: Option<String>,
    /// The lines under the header, each with its SGR style ("" for none).
    body: Vec<(String, &'static str)>,
    /// Whether `body` is the whole output, so that another group's output may be shown as its difference.
    plain: bool,
    /// Which hosts took more than one try (`--retries`), when any did.
    tries: Option<String>,
}

/// Changed lines (removed and added) of an output shown as its difference from another when they are at
/// most this share of the other's lines (and at least two may always be shown).
const NEAR_SHARE: usize = 5;

fn render_lines(run: &Report, color: bool, height: Option<usize>) -> String {
    let style = |sgr: &str, text: &dyn fmt::Display| paint(color, sgr, text);
    let (ok, failed) = (run.results.len() - run.failed_count(), run.failed_count());
    let counts = format!("{ok} ok, {failed} failed, {:.2}s", run.elapsed.as_secs_f64());
    let mut text = heading(run, color, "Run summary:", &counts);
    let groups = run.groups();
    let mut blocks: Vec<Block> = groups
        .iter()
        .map(|group| {
            let first = &run.results[group.members[0]];
            let mut block = block(first, group_label(run, group), height);
            block.tries = tries_note(run, group);
            block
        })
        .collect();
    if height.is_some() {
        near_outputs(run, &groups, &mut blocks);
    }
    let width = blocks
        .iter()
        .filter(|b| b.head.is_some())
        .map(|b| b.label.chars().count())
        .filter(|&w| w <= LABEL_CHARS)
        .max()
        .unwrap_or(0);
    for block in blocks {
        let mark = if block.ok { style(GREEN, &"✔") } else { style(RED, &"✖") };
        match &block.head {
            Some(head) if head.is_empty() => text.push_str(&format!("  {mark} {}\n", block.label)),
            Some(head) => {
                let head = if block.ok { style(DIM, head) } else { head.clone() };
                text.push_str(&format!("  {mark} {:width$}  {head}\n", block.label));
            }
            None => text.push_str(&format!("  {mark} {}\n", block.label)),
        }
        if let Some(note) = &block.tries {
            text.push_str(&format!("      {}\n", style(DIM, note)));
        }
        for (line, sgr) in &block.body {
            let line = if sgr.is_empty() { line.clone() } else { style(sgr, line) };
            text.push_str(format!("      {line}").trim_end());
            text.push('\n');
        }
    }
    text.push('\n');
    text
}

/// `retried: web-2 (2 tries), web-[3,5] (3 tries)` for the hosts of `group` that took more than one try.
fn tries_note(run: &Report, group: &crate::groups::OutputGroup) -> Option<String> {
    let mut by_tries: std::collections::BTreeMap<u32, Vec<&str>> = std::collections::BTreeMap::new();
    for &member in &group.members {
        let result = &run.results[member];
        // A host that gave up says how often it tried in its error already.
        if result.tries() > 1 && result.output().is_some() {
            by_tries.entry(result.tries()).or_default().push(result.host.as_str());
        }
    }
    if by_tries.is_empty() {
        return None;
    }
    let parts: Vec<String> = by_tries
        .iter()
        .map(|(tries, hosts)| format!("{} ({tries} tries)", sanitize(&crate::nodeset::fold(hosts))))
        .collect();
    Some(format!("retried: {}", parts.join(", ")))
}

/// Shows each output that differs from the first long one in a few lines as those lines: sandbox hosts
/// listing one `/` differ only in `/proc`'s link count, and three copies of a listing would bury that.
fn near_outputs(run: &Report, groups: &[crate::groups::OutputGroup], blocks: &mut [Block]) {
    let stdout = |group: &crate::groups::OutputGroup| {
        let bytes = run.results[group.members[0]].output().map_or(&[][..], |o| trimmed_end(&o.stdout));
        String::from_utf8_lossy(bytes).into_owned()
    };
    let Some(reference) =
        (0..groups.len()).find(|&i| blocks[i].ok && blocks[i].plain && blocks[i].head.is_none())
    else {
        return;
    };
    let reference_text = stdout(&groups[reference]);
    let reference_lines = reference_text.lines().count();
    let allowed = (reference_lines / NEAR_SHARE).max(2);
    let known: std::collections::HashSet<&str> = reference_text.lines().collect();
    let reference_label = blocks[reference].label.clone();
    let started = std::time::Instant::now();
    for i in reference + 1..groups.len() {
        if !(blocks[i].ok && blocks[i].plain && blocks[i].head.is_none()) {
            continue;
        }
        // The summary is shown whatever it costs to find differences: past the budget, outputs are shown
        // whole.
        let Some(left) = NEAR_BUDGET.checked_sub(started.elapsed()) else { break };
        let text = stdout(&groups[i]);
        // Every line the reference does not have is at least one change: counted first, so that outputs
        // that share little with it (a fleet of 1,000 different ones) cost no diff.
        if text.lines().filter(|line| !known.contains(line)).nth(allowed).is_some() {
            continue;
        }
        let diff = similar::TextDiff::configure()
            .timeout(left.min(DIFF_TIME))
            .diff_lines(reference_text.as_str(), text.as_str());
        let mut changes = Vec::new();
        for change in diff.iter_all_changes() {
            match change.tag() {
                similar::ChangeTag::Equal => {}
                similar::ChangeTag::Delete => changes.push((format!("-{}", clip(change.value())), RED)),
                similar::ChangeTag::Insert => changes.push((format!("+{}", clip(change.value())), GREEN)),
            }
        }
        // No change at all: they differ in what the lines do not show (a trailing blank line, `changed`).
        if !changes.is_empty() && changes.len() <= allowed {
            let block = &mut blocks[i];
            block.head = Some(format!("as {reference_label}, but:"));
            block.body = changes;
        }
    }
}

/// The time the summary may spend finding near outputs, all groups together.
const NEAR_BUDGET: std::time::Duration = std::time::Duration::from_millis(200);
/// The time the `diff` view may spend on diffs, all groups together; past it, each diff is coarse.
const DIFF_BUDGET: std::time::Duration = std::time::Duration::from_secs(3);

/// Lines of one group's diff shown before `… N more lines of diff`.
const DIFF_LINES: usize = 100;
/// How long one group's diff may take before a coarser one is shown: Myers' algorithm is quadratic on
/// outputs that share nothing.
const DIFF_TIME: std::time::Duration = std::time::Duration::from_millis(300);

/// How each group of hosts differs from the most common output: the biggest group of hosts that succeeded
/// is the reference, every other group that succeeded gets a unified diff of its stdout against it, and
/// groups that failed are shown as the summary shows them.
pub fn render_diff(run: &Report, color: bool) -> String {
    let style = |sgr: &str, text: &dyn fmt::Display| paint(color, sgr, text);
    let groups = run.groups();
    let label_of = |group: &crate::groups::OutputGroup| group_label(run, group);
    let reference = groups.iter().find(|g| g.ok);
    let alike = reference.map_or(0, |g| g.members.len());
    let failed = run.failed_count();
    let counts = format!("{alike} alike, {} differ, {failed} failed", run.results.len() - alike - failed);
    let mut text = heading(run, color, "Diff:", &counts);
    let Some(reference) = reference else {
        // No host succeeded: nothing to compare with, so the failures as the summary shows them.
        return render(run, color);
    };
    let reference_label = label_of(reference);
    let reference_stdout = run.results[reference.members[0]].output().map_or(&[][..], |o| &o.stdout);
    let reference_text = String::from_utf8_lossy(reference_stdout);
    let lines = if reference_text.is_empty() { 0 } else { reference_text.lines().count() };
    text.push_str(&format!(
        "  = {reference_label}  {}\n",
        style(DIM, &format!("the most common output, {lines} {}", lines_word(lines)))
    ));
    let started = std::time::Instant::now();
    for group in groups.iter().filter(|g| g.ok && g.members[0] != reference.members[0]) {
        // Past the budget a diff gets a millisecond, and `similar` gives a coarser one: still a true diff.
        let left = DIFF_BUDGET.saturating_sub(started.elapsed()).max(std::time::Duration::from_millis(1));
        let label = label_of(group);
        let first = &run.results[group.members[0]];
        let stdout = String::from_utf8_lossy(first.output().map_or(&[][..], |o| &o.stdout)).into_owned();
        let diff = similar::TextDiff::configure()
            .timeout(left.min(DIFF_TIME))
            .diff_lines(reference_text.as_ref(), stdout.as_str());
        let unified = diff.unified_diff().context_radius(2).to_string();
        let diff_lines: Vec<&str> = unified.lines().collect();
        let note = if diff_lines.is_empty() { "the same stdout; stderr, exit or changes differ" } else { "" };
        let note = if note.is_empty() { String::new() } else { format!("  {}", style(DIM, &note)) };
        text.push_str(&format!("  {} {label}{note}\n", style(RED, &"≠")));
        for line in diff_lines.iter().take(DIFF_LINES) {
            let shown = clip(line);
            let shown = match line.as_bytes().first() {
                Some(b'-') => style(RED, &shown),
                Some(b'+') => style(GREEN, &shown),
                Some(b'@') => style(DIM, &shown),
                _ => shown,
            };
            text.push_str(&format!("      {shown}").trim_end());
            text.push('\n');
        }
        if diff_lines.len() > DIFF_LINES {
            let more = diff_lines.len() - DIFF_LINES;
            text.push_str(&format!(
                "      {}\n",
                style(DIM, &format!("… {more} more {} of diff", lines_word(more)))
            ));
        }
    }
    for group in groups.iter().filter(|g| !g.ok) {
        let block = block(&run.results[group.members[0]], label_of(group), Some(TAIL_OF_FAILURE));
        text.push_str(&format!(
            "  {} {}  {}\n",
            style(RED, &"✖"),
            block.label,
            block.head.unwrap_or_default()
        ));
        for (line, _) in &block.body {
            text.push_str(&format!("      {}", style(DIM, line)).trim_end());
            text.push('\n');
        }
    }
    text.push('\n');
    text
}

/// Lines of a failed group's output the diff shows: the diff is about the hosts that ran.
const TAIL_OF_FAILURE: usize = 3;

/// The first lines of a summary or a diff: `TITLE LABEL on GROUP (N hosts: COUNTS)` between blank lines.
fn heading(run: &Report, color: bool, title: &str, counts: &str) -> String {
    format!(
        "\n{} {} on {} ({} {}: {counts})\n\n",
        paint(color, BLUE_BOLD, &title),
        clip(run.label.lines().next().unwrap_or_default()),
        sanitize(&run.group),
        run.results.len(),
        if run.results.len() == 1 { "host" } else { "hosts" },
    )
}

/// A group's header: its hosts as a node set, and how many when more than one. Host names come from the
/// inventory and reach the terminal like output does, so they are made safe the same way; the set is never
/// cut, since a failed host left out of its group's header would be hidden.
fn group_label(run: &Report, group: &crate::groups::OutputGroup) -> String {
    let names: Vec<&str> = group.members.iter().map(|&m| run.results[m].host.as_str()).collect();
    let mut label = sanitize(&crate::nodeset::fold(&names));
    if names.len() > 1 {
        label.push_str(&format!(" ({})", names.len()));
    }
    label
}

/// How the summary shows a group whose first host is `result`.
fn block(result: &HostResult, label: String, height: Option<usize>) -> Block {
    let output = result.output();
    let truncated = output.is_some_and(|o| o.truncated);
    let mut body: Vec<(String, &'static str)> = Vec::new();
    if !result.ok() {
        let head = Some(sanitize(&result.error_text().unwrap_or_default()));
        if let (Some(_), Some(data)) = (output.filter(|o| o.failed.is_some()), result.any_data()) {
            // Judged failed on its data (`fail`): what the data says is why.
            body.push((clip(&data::one_line(data)), DIM));
        } else if let Some(output) = output {
            let stream = if trimmed_end(&output.stderr).is_empty() { &output.stdout } else { &output.stderr };
            let (lines, earlier) = tail_lines(stream, height);
            if earlier > 0 {
                body.push((format!("… {earlier} earlier {}", lines_word(earlier)), DIM));
            }
            body.extend(lines.into_iter().map(|line| (line, DIM)));
        }
        if truncated {
            body.push((TRUNCATED.into(), DIM));
        }
        return Block { ok: false, label, head, body, plain: false, tries: None };
    }
    let changing = output.is_some_and(|o| o.changed.is_some());
    let (mut lines, more) = match result.any_data() {
        // Typed data says what the output means; an operation that changes hosts ends its output with what
        // it did, which says more than the state after.
        Some(data) if !changing => (vec![clip(&data::one_line(data))], 0),
        _ => output.map_or((Vec::new(), 0), |o| head_lines(&o.stdout, height)),
    };
    let stderr =
        output.filter(|o| !trimmed_end(&o.stderr).is_empty() && (result.any_data().is_none() || changing));
    if lines.len() <= 1 && more == 0 && stderr.is_none() {
        if truncated {
            body.push((TRUNCATED.into(), DIM));
        }
        return Block {
            ok: true,
            label,
            head: Some(lines.pop().unwrap_or_default()),
            body,
            plain: false,
            tries: None,
        };
    }
    let plain = stderr.is_none() && !truncated && (result.any_data().is_none() || changing);
    body.extend(lines.into_iter().map(|line| (line, "")));
    if more > 0 {
        body.push((format!("… {more} more {} (`pretty_all` or --full shows all)", lines_word(more)), DIM));
    }
    if let Some(output) = stderr {
        body.push(("stderr:".into(), DIM));
        let (lines, more) = head_lines(&output.stderr, height);
        body.extend(lines.into_iter().map(|line| (line, "")));
        if more > 0 {
            body.push((format!("… {more} more {}", lines_word(more)), DIM));
        }
    }
    if truncated {
        body.push((TRUNCATED.into(), DIM));
    }
    Block { ok: true, label, head: None, body, plain, tries: None }
}

fn lines_word(count: usize) -> &'static str {
    if count == 1 { "line" } else { "lines" }
}

/// `bytes` without the white space at their end: trailing blank lines are no lines.
fn trimmed_end(bytes: &[u8]) -> &[u8] {
    &bytes[..bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |at| at + 1)]
}

/// The first `height` lines of an output (all with `None`), each made safe and cut to one screen line, and how
/// many lines come after them. Only the lines shown are decoded.
fn head_lines(bytes: &[u8], height: Option<usize>) -> (Vec<String>, usize) {
    let body = trimmed_end(bytes);
    if body.is_empty() {
        return (Vec::new(), 0);
    }
    let total = memchr::memchr_iter(b'\n', body).count() + 1;
    let shown = height.map_or(total, |h| h.min(total));
    let lines = body.split(|b| *b == b'\n').take(shown).map(clip_bytes).collect();
    (lines, total - shown)
}

/// The last `height` lines of an output (all with `None`), as [`head_lines`] shows them, and how many lines
/// come before them.
fn tail_lines(bytes: &[u8], height: Option<usize>) -> (Vec<String>, usize) {
    let body = trimmed_end(bytes);
    if body.is_empty() {
        return (Vec::new(), 0);
    }
    let total = memchr::memchr_iter(b'\n', body).count() + 1;
    let shown = height.map_or(total, |h| h.min(total));
    let mut lines: Vec<String> = body.rsplit(|b| *b == b'\n').take(shown).map(clip_bytes).collect();
    lines.reverse();
    (lines, total - shown)
}

/// What the summary says of a host on its line: for a host that succeeded, its typed data or its output's
/// last line; for one that failed, why. Made safe for a terminal and cut to one screen line.
pub fn host_line(result: &HostResult) -> String {
    if !result.ok() {
        return clip(&result.error_text().unwrap_or_default());
    }
    // Typed data says what the output means; otherwise the output's last line is the best summary. An
    // operation that changes hosts ends its output with what it did, which says more than the state after.
    let changing = result.output().is_some_and(|o| o.changed.is_some());
    match result.any_data() {
        Some(data) if !changing => clip(&data::one_line(data)),
        _ => result.output().and_then(|o| last_lines(&o.stdout, 1).pop()).unwrap_or_default(),
    }
}

/// Up to `count` last non-blank lines, lossily decoded, control characters made visible, each cut to one
/// screen line.
///
/// Found from the end and decoded only as far as they are shown, so that showing a host that printed 64 MiB
/// costs what showing one line costs, not a pass over all it printed.
fn last_lines(bytes: &[u8], count: usize) -> Vec<String> {
    let mut lines = Vec::with_capacity(count);
    let mut end = bytes.len();
    while lines.len() < count && end > 0 {
        let start = memchr::memrchr(b'\n', &bytes[..end]).map_or(0, |at| at + 1);
        let line = &bytes[start..end];
        if !is_blank(line) {
            lines.push(clip_bytes(line));
        }
        end = start.saturating_sub(1);
    }
    lines.reverse();
    lines
}

/// Whether `line` holds only white space, as `str::trim` sees it.
fn is_blank(line: &[u8]) -> bool {
    match line.iter().position(|b| !b.is_ascii_whitespace()) {
        None => true,
        // Past ASCII, Unicode's own white space (a no-break space, say) counts too; only the line's rest is
        // decoded.
        Some(at) => String::from_utf8_lossy(&line[at..]).trim().is_empty(),
    }
}

/// Bytes of a line decoded for one screen line: every character takes at most four bytes, so this many hold
/// more than [`LINE_CHARS`] of them.
const LINE_BYTES: usize = LINE_CHARS * 4 + 4;

/// [`clip`] of a line of raw output, decoding only the part that can be shown.
fn clip_bytes(line: &[u8]) -> String {
    let shown = &line[..line.len().min(LINE_BYTES)];
    let rest_blank = line[shown.len()..].iter().all(u8::is_ascii_whitespace);
    let text = String::from_utf8_lossy(shown);
    // Trailing white space is trimmed when it is the line's end; a cut line already fills the screen line.
    if rest_blank { clip(&text) } else { clip(&format!("{text}…")) }
}

/// `text` with everything that could drive a terminal or reorder what is shown replaced by `·`: control
/// characters (escape sequences, carriage returns) and the bidirectional overrides and isolates that can
/// make text read differently from what it is (CVE-2021-42574, "Trojan Source").
pub fn sanitize(text: &str) -> String {
    text.chars().map(|c| if is_hidden(c) { '·' } else { c }).collect()
}

/// Characters of a message shown by [`bounded`].
const MESSAGE_CHARS: usize = 300;

/// A message for the terminal that may quote what a user pasted (a name, a whole line): made safe as
/// [`sanitize_lines`] makes it, and cut after 300 characters with `…`.
pub fn bounded(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(MESSAGE_CHARS).collect();
    let cut = if chars.next().is_some() { "…" } else { "" };
    format!("{}{cut}", sanitize_lines(&head))
}

/// [`sanitize`] line by line: the line breaks of a message of several lines are kept.
pub fn sanitize_lines(text: &str) -> String {
    text.split('\n').map(sanitize).collect::<Vec<_>>().join("\n")
}

/// Whether [`sanitize`] hides `c`.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// `value` as one line of JSON that is safe to show on a terminal: besides the control characters JSON
/// escapes anyway, the C1 controls (U+0080–U+009F, which some terminals obey as escape sequences) and the
/// bidirectional controls of [`is_hidden`] are written as `\uXXXX`. The document means exactly the same to a
/// JSON reader.
pub fn json_text(value: &impl serde::Serialize) -> String {
    let mut out = Vec::new();
    match write_json(&mut out, value) {
        // serde_json writes UTF-8, and what this formatter adds is ASCII.
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(err) => {
            serde_json::json!({ "error": format!("the document could not be written as JSON: {err}") })
                .to_string()
        }
    }
}

/// [`json_text`] streamed to `writer`, for documents too big to hold twice (every host's output of a run).
pub fn write_json(writer: impl std::io::Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(writer, TerminalSafe);
    value.serialize(&mut serializer).map_err(std::io::Error::other)
}

/// The compact formatter, with string contents escaped as [`json_text`] says.
struct TerminalSafe;

impl serde_json::ser::Formatter for TerminalSafe {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if is_hidden(c) {
                writer.write_all(&fragment.as_bytes()[start..at])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = at + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// At most `chars` characters of what a host wrote, made safe for a terminal, the last one `…` when it was cut:
/// for error messages that quote a host's line.
pub fn excerpt(text: &str, chars: usize) -> String {
    let text = sanitize(text);
    if text.chars().count() <= chars {
        return text;
    }
    text.chars().take(chars.saturating_sub(1)).chain(['…']).collect()
}

fn clip(line: &str) -> String {
    // Remote output and error text (which may quote the server) must not be able to drive the terminal. Only
    // the characters shown are made safe: `sanitize` replaces one character by one.
    let line = line.trim_end();
    let mut chars = line.chars();
    let head: String = chars.by_ref().take(LINE_CHARS).collect();
    if chars.next().is_none() {
        return sanitize(&head);
    }
    let kept: String = head.chars().take(LINE_CHARS - 1).collect();
    format!("{}…", sanitize(&kept))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::report::{HostError, Output};

    fn host(name: &str, outcome: Result<Output, HostError>) -> HostResult {
        HostResult { host: name.into(), outcome, elapsed: Duration::from_millis(1) }
    }

    /// What the summary showed before it looked only at what it shows: every line decoded, then the last ones
    /// kept.
    fn last_lines_decoding_everything(bytes: &[u8], count: usize) -> Vec<String> {
        let text = String::from_utf8_lossy(bytes);
        let mut lines: Vec<String> =
            text.lines().rev().filter(|l| !l.trim().is_empty()).take(count).map(clip).collect();
        lines.reverse();
        lines
    }

    #[test]
    fn the_last_lines_are_found_from_the_end_and_read_the_same() {
        let long = "x".repeat(1000);
        let wide = "é".repeat(300);
        let spaced = format!("abc{}", " ".repeat(2000));
        let gap = format!("abc{}z", " ".repeat(2000));
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"\n\n\n".to_vec(),
            b"one\ntwo\nthree\nfour\n".to_vec(),
            b"one\r\ntwo\r\n\r\n  \n".to_vec(),
            b"no newline at the end".to_vec(),
            b"bad \xff byte\n\xc3\n".to_vec(),
            b"esc \x1b[31m red\n\t tab\n".to_vec(),
            "a\n\u{a0}\u{3000}\nb\u{2003}\n".as_bytes().to_vec(),
            format!("{long}\n{wide}\n{spaced}\n{gap}").into_bytes(),
            format!("{wide}x").into_bytes(),
            [b"start ".as_slice(), &vec![0xff; 5000], b"\n"].concat(),
        ];
        for bytes in &cases {
            for count in [1, 3] {
                assert_eq!(
                    last_lines(bytes, count),
                    last_lines_decoding_everything(bytes, count),
                    "{:?}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }

    #[test]
    fn a_huge_line_is_cut_to_one_screen_line() {
        // 64 MiB without a line break, of bytes that are not UTF-8: decoding it all made a 192 MiB string.
        let huge = vec![0xffu8; 64 << 20];
        assert_eq!(last_lines(&huge, 3), vec![format!("{}…", "\u{fffd}".repeat(LINE_CHARS - 1))]);
    }

    #[test]
    fn what_hosts_send_cannot_drive_the_terminal() {
        let check = |input: &str, expected: &str| assert_eq!(sanitize(input), expected, "{input:?}");
        check("plain ✔ text", "plain ✔ text");
        check("\x1b[2J\x1b[Hcleared", "·[2J·[Hcleared");
        check("over\rwrite", "over·write");
        check("bell\x07", "bell·");
        check("user\u{202E}gnp.exe", "user·gnp.exe");
        check("\u{2066}isolated\u{2069}", "·isolated·");
        check("\u{200F}rtl mark", "·rtl mark");
    }

    #[test]
    fn json_text_escapes_what_could_drive_a_terminal() {
        let check = |text: &str, expected: &str| {
            let written = json_text(&serde_json::json!({ "host": text }));
            assert_eq!(written, format!("{{\"host\":\"{expected}\"}}"), "{text:?}");
            let read: serde_json::Value = serde_json::from_str(&written).expect("still JSON");
            assert_eq!(read["host"], text, "the same document");
        };
        check("web-1", "web-1");
        check("é ✔ 漢", "é ✔ 漢");
        check("a\u{1b}]0;owned\u{7}b", "a\\u001b]0;owned\\u0007b");
        check("csi\u{9b}2J", "csi\\u009b2J");
        check("\u{80}\u{9f}\u{a0}", "\\u0080\\u009f\u{a0}");
        check("abc\u{202e}fed", "abc\\u202efed");
        check("\u{2066}x\u{2069}\u{200f}", "\\u2066x\\u2069\\u200f");
        check("quote \" and \\", "quote \\\" and \\\\");
    }

    fn ran(exit: u32, stdout: &str, stderr: &str) -> Result<Output, HostError> {
        Ok(Output { exit: Some(exit), stdout: stdout.into(), stderr: stderr.into(), ..Output::default() })
    }

    /// The summary's lines after its header, for `results` on hosts named as given.
    fn check(results: Vec<(&str, Result<Output, HostError>)>, full: bool, expected: &str) {
        let run = Report {
            label: "x".into(),
            group: "g".into(),
            elapsed: Duration::ZERO,
            results: results.into_iter().map(|(name, outcome)| host(name, outcome)).collect(),
        };
        let text = if full { render_full(&run, false) } else { render(&run, false) };
        let body: Vec<&str> = text.lines().skip(3).collect();
        assert_eq!(body.join("\n").trim_end(), expected.trim_start_matches('\n').trim_end(), "{text}");
    }

    fn numbers(range: std::ops::RangeInclusive<u32>) -> String {
        range.map(|n| format!("{n}\n")).collect()
    }

    #[test]
    fn identical_outputs_are_one_group_shown_once() {
        let listing = "total 1\ndrwxr-xr-x root /\n";
        check(
            vec![
                ("web-1", ran(0, listing, "")),
                ("web-2", ran(0, listing, "")),
                ("web-3", ran(0, listing, "")),
            ],
            false,
            "
  ✔ web-[1-3] (3)
      total 1
      drwxr-xr-x root /",
        );
        // One line stays on the host's line, aligned with the others.
        check(
            vec![
                ("web-1", ran(0, "up 3 days\n", "")),
                ("web-10", ran(0, "up 1 day\n", "")),
                ("web-2", ran(0, "up 3 days\n", "")),
            ],
            false,
            "
  ✔ web-[1-2] (2)  up 3 days
  ✔ web-10         up 1 day",
        );
        check(vec![("a", ran(0, "", "")), ("b", ran(0, "", ""))], false, "  ✔ a,b (2)");
        check(vec![("a", ran(0, "\n\n", ""))], false, "  ✔ a");
    }

    #[test]
    fn failures_come_first_under_their_reason_with_their_last_lines() {
        check(
            vec![
                ("web-1", ran(0, "ok\n", "")),
                ("web-2", Err(HostError::ConnectRefused { port: 22 })),
                ("web-3", ran(2, "", "no such file\n")),
                ("web-4", Err(HostError::ConnectRefused { port: 22 })),
                ("web-5", ran(2, "", "no such file\n")),
                ("web-6", ran(2, "", "no such file\n")),
            ],
            false,
            "
  ✖ web-[3,5-6] (3)  exited with status 2
      no such file
  ✖ web-[2,4] (2)    connection refused (is sshd running on port 22?)
  ✔ web-1            ok",
        );
        // Stderr when there is any, else stdout; the last lines, the earlier ones counted.
        check(
            vec![("a", ran(1, &numbers(1..=25), ""))],
            false,
            &format!("  ✖ a  exited with status 1\n      … 5 earlier lines\n{}", indent(&numbers(6..=25))),
        );
        check(
            vec![("a", ran(1, &numbers(1..=25), ""))],
            true,
            &format!("  ✖ a  exited with status 1\n{}", indent(&numbers(1..=25))),
        );
    }

    fn indent(lines: &str) -> String {
        lines.lines().map(|l| format!("      {l}\n")).collect()
    }

    #[test]
    fn an_output_that_differs_in_a_few_lines_is_shown_as_those_lines() {
        let ten = numbers(1..=10);
        let changed = ten.replace("5\n", "five\n");
        check(
            vec![("a", ran(0, &ten, "")), ("b", ran(0, &changed, "")), ("c", ran(0, &ten, ""))],
            false,
            &format!("  ✔ a,c (2)\n{}  ✔ b  as a,c (2), but:\n      -5\n      +five", indent(&ten)),
        );
        // Too many changes for a difference to read better: the output itself.
        let other = numbers(11..=20);
        check(
            vec![("a", ran(0, &ten, "")), ("b", ran(0, &other, ""))],
            false,
            &format!("  ✔ a\n{}  ✔ b\n{}", indent(&ten), indent(&other)),
        );
        // Every line of every output when all is asked.
        check(
            vec![("a", ran(0, &ten, "")), ("b", ran(0, &changed, ""))],
            true,
            &format!("  ✔ a\n{}  ✔ b\n{}", indent(&ten), indent(&changed)),
        );
    }

    #[test]
    fn a_long_output_is_cut_at_the_height_unless_all_is_asked() {
        check(
            vec![("a", ran(0, &numbers(1..=25), ""))],
            false,
            &format!(
                "  ✔ a\n{}      … 5 more lines (`pretty_all` or --full shows all)",
                indent(&numbers(1..=20))
            ),
        );
        check(
            vec![("a", ran(0, &numbers(1..=21), ""))],
            true,
            &format!("  ✔ a\n{}", indent(&numbers(1..=21))),
        );
        check(
            vec![("a", ran(0, &numbers(1..=20), ""))],
            false,
            &format!("  ✔ a\n{}", indent(&numbers(1..=20))),
        );
        // What a succeeding host wrote on stderr is shown under its output.
        check(
            vec![("a", ran(0, "done\n", "warning: old\n"))],
            false,
            "  ✔ a\n      done\n      stderr:\n      warning: old",
        );
    }

    #[test]
    fn summary_without_colour() {
        let run = Report {
            label: "ls -la /".into(),
            group: "sandbox".into(),
            elapsed: Duration::from_millis(210),
            results: vec![
                host(
                    "127.0.1.1",
                    Ok(Output {
                        exit: Some(0),
                        stdout: b"total 1\ndrwxr-xr-x  root  /\n\n".to_vec(),
                        ..Output::default()
                    }),
                ),
                host("127.0.1.22", Err(HostError::ConnectRefused { port: 22 })),
                host(
                    "127.0.1.3",
                    Ok(Output {
                        exit: Some(2),
                        stderr: b"a\nb\nc\nls: cannot access '/nope'\x1b[31m\n".to_vec(),
                        ..Output::default()
                    }),
                ),
            ],
        };
        let expected = "
Run summary: ls -la / on sandbox (3 hosts: 1 ok, 2 failed, 0.21s)

  ✖ 127.0.1.22  connection refused (is sshd running on port 22?)
  ✖ 127.0.1.3   exited with status 2
      a
      b
      c
      ls: cannot access '/nope'·[31m
  ✔ 127.0.1.1
      total 1
      drwxr-xr-x  root  /

";
        assert_eq!(render(&run, false), expected);
        let coloured = render(&run, true);
        assert!(coloured.contains("\u{1b}[32m✔"), "{coloured:?}");
        assert!(coloured.contains("\u{1b}[31m✖"), "{coloured:?}");
    }
}
