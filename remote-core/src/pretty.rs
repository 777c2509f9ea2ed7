//! Renders a [`Report`] as the seed's run summary: a header, then one ✔/✖ line per host, failures with their
//! tail.

use std::fmt;
use std::io::IsTerminal;

use crate::report::{HostResult, Report};

mod data;
pub use data::bytes;

/// How a step shows a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The run summary: a ✔/✖ line per host (`pretty`).
    Summary,
    /// The hosts' typed data in columns (`table`).
    Table,
}

/// Characters of output shown on one summary line.
const LINE_CHARS: usize = 120;
/// Said under a host whose output was cut short.
const TRUNCATED: &str = "(output truncated: over the per-host limit or the run's --max-output budget)";
/// Lines of a failing host's output shown under it.
const TAIL_LINES: usize = 3;

/// Whether stdout should get colours: only on a terminal, and never when `NO_COLOR` is set (no-color.org).
pub fn stdout_wants_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The run shown as `view` says, ready to print.
pub fn render_view(run: &Report, view: View, color: bool) -> String {
    match view {
        View::Summary => render(run, color),
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

/// The run summary, ready to print.
pub fn render(run: &Report, color: bool) -> String {
    let style = |sgr: &str, text: &dyn fmt::Display| paint(color, sgr, text);
    let (ok, failed) = (run.results.len() - run.failed_count(), run.failed_count());
    let mut text = String::from("\n");
    text.push_str(&format!(
        "{} {} on {} ({} {}: {} ok, {} failed, {:.2}s)\n\n",
        style(BLUE_BOLD, &"Run summary:"),
        clip(run.label.lines().next().unwrap_or_default()),
        sanitize(&run.group),
        run.results.len(),
        if run.results.len() == 1 { "host" } else { "hosts" },
        ok,
        failed,
        run.elapsed.as_secs_f64()
    ));
    // Host names come from the inventory and reach the terminal like output does: made safe the same way.
    let width = run.results.iter().map(|r| sanitize(&r.host).chars().count()).max().unwrap_or(0);
    for result in &run.results {
        let host = format!("{:width$}", sanitize(&result.host));
        if result.ok() {
            let last = host_line(result);
            text.push_str(&format!("  {} {}  {}\n", style(GREEN, &"✔"), host, style(DIM, &last)));
            if result.output().is_some_and(|o| o.truncated) {
                text.push_str(&format!("      {}\n", style(DIM, &TRUNCATED)));
            }
        } else {
            let why = sanitize(&result.error_text().unwrap_or_default());
            text.push_str(&format!("  {} {}  {}\n", style(RED, &"✖"), host, why));
            for line in failure_tail(result) {
                text.push_str(&format!("      {}\n", style(DIM, &line)));
            }
        }
    }
    text.push('\n');
    text
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

/// The last lines a failing host wrote: stderr when it has any, else stdout.
fn failure_tail(result: &HostResult) -> Vec<String> {
    let Some(output) = result.output() else { return Vec::new() };
    let stream =
        if output.stderr.iter().any(|b| !b.is_ascii_whitespace()) { &output.stderr } else { &output.stdout };
    let mut tail = last_lines(stream, TAIL_LINES);
    if output.truncated {
        tail.push(TRUNCATED.into());
    }
    tail
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

  ✔ 127.0.1.1   drwxr-xr-x  root  /
  ✖ 127.0.1.22  connection refused (is sshd running on port 22?)
  ✖ 127.0.1.3   exited with status 2
      b
      c
      ls: cannot access '/nope'·[31m

";
        assert_eq!(render(&run, false), expected);
        let coloured = render(&run, true);
        assert!(coloured.contains("\u{1b}[32m✔"), "{coloured:?}");
        assert!(coloured.contains("\u{1b}[31m✖"), "{coloured:?}");
    }
}
