//! JUnit XML reports (`--junit FILE`, `remote merge-reports`): a testsuite per run, a testcase per host.
//!
//! Written by hand, since the shape is small and every string in it must first be made valid XML 1.0 (host
//! output may hold any byte); read back with quick-xml's serde support, only to merge the files this module
//! wrote.

use std::fmt::Write as _;
use std::path::Path;

use remote_core::{HostResult, Report};
use serde::Deserialize;

/// Lines of a host's output kept in its testcase (`system-out`, `system-err`), from the end.
const OUTPUT_LINES: usize = 200;
/// Bytes of a host's output kept in its testcase, from the end, whatever the line count.
const OUTPUT_BYTES: usize = 64 << 10;
/// Lines of each stream quoted in a failure's text, from the end.
const FAILURE_LINES: usize = 30;

/// One run: a `<testsuite>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Suite {
    /// What ran and where, e.g. `listing on web`.
    pub name: String,
    /// When it started (RFC 3339).
    pub timestamp: String,
    /// Wall time in seconds.
    pub time: f64,
    /// `group`, `shard` (K/N) and the like.
    pub properties: Vec<(String, String)>,
    /// A testcase per host.
    pub cases: Vec<Case>,
}

/// One host: a `<testcase>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// The host as the inventory names it.
    pub name: String,
    /// The run's name, so that CI systems group the hosts under it.
    pub classname: String,
    /// Seconds spent on this host.
    pub time: f64,
    /// Why the host failed, when it did.
    pub failure: Option<Failure>,
    /// The end of what the host wrote to stdout.
    pub system_out: String,
    /// The end of what the host wrote to stderr.
    pub system_err: String,
}

/// A failed host's `<failure>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// The error in one line.
    pub message: String,
    /// The error and the end of the host's output.
    pub text: String,
}

impl Suite {
    /// The suite of one run's report.
    pub fn of(report: &Report, name: &str, timestamp: String, properties: Vec<(String, String)>) -> Self {
        let cases = report.results.iter().map(|result| Case::of(result, name)).collect();
        Suite { name: name.to_string(), timestamp, time: report.elapsed.as_secs_f64(), properties, cases }
    }

    /// How many testcases failed.
    pub fn failures(&self) -> usize {
        self.cases.iter().filter(|case| case.failure.is_some()).count()
    }

    /// The value of property `name`.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

impl Case {
    fn of(result: &HostResult, classname: &str) -> Self {
        let (stdout, stderr) = result.output().map_or((&[][..], &[][..]), |o| (&o.stdout[..], &o.stderr[..]));
        let failure = result.error_text().map(|error| {
            let mut text = error.clone();
            for (stream, bytes) in [("stderr", stderr), ("stdout", stdout)] {
                let tail = tail(bytes, FAILURE_LINES, OUTPUT_BYTES);
                if !tail.trim().is_empty() {
                    let _ = write!(text, "\n\n--- the end of its {stream} ---\n{}", tail.trim_end());
                }
            }
            Failure { message: error, text }
        });
        Case {
            name: result.host.clone(),
            classname: classname.to_string(),
            time: result.elapsed.as_secs_f64(),
            failure,
            system_out: tail(stdout, OUTPUT_LINES, OUTPUT_BYTES),
            system_err: tail(stderr, OUTPUT_LINES, OUTPUT_BYTES),
        }
    }
}

/// The last `lines` lines of `bytes`, and at most its last `max_bytes` bytes, as (lossy) text.
fn tail(bytes: &[u8], lines: usize, max_bytes: usize) -> String {
    let mut start = bytes.len().saturating_sub(max_bytes);
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if let Some(cut) = memchr::memrchr_iter(b'\n', body).nth(lines.saturating_sub(1)) {
        start = start.max(cut + 1);
    }
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// `text` as XML 1.0 character data: markup escaped, and every character XML cannot hold (most control
/// characters) or a reader could be misled by (terminal escapes, bidirectional overrides) shown as `·`. Also
/// what the `email` step's HTML is made safe with.
pub(crate) fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' | '\t' => out.push(c),
            '\u{FFFE}' | '\u{FFFF}' => out.push('·'),
            c if remote_core::pretty::is_hidden(c) => out.push('·'),
            c => out.push(c),
        }
    }
    out
}

/// An attribute value: as [`xml`], with line breaks and tabs kept as character references so they survive.
fn attribute(text: &str) -> String {
    xml(text).replace('\n', "&#10;").replace('\t', "&#9;")
}

/// The XML document of `suites`.
pub fn render(suites: &[Suite]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites.iter().map(Suite::failures).sum();
    let time: f64 = suites.iter().map(|s| s.time).fold(0.0, f64::max);
    let _ = writeln!(
        out,
        "<testsuites name=\"remote\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.3}\">"
    );
    for suite in suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{:.3}\" timestamp=\"{}\">",
            attribute(&suite.name),
            suite.cases.len(),
            suite.failures(),
            suite.time,
            attribute(&suite.timestamp)
        );
        if !suite.properties.is_empty() {
            out.push_str("    <properties>\n");
            for (name, value) in &suite.properties {
                let _ = writeln!(
                    out,
                    "      <property name=\"{}\" value=\"{}\"/>",
                    attribute(name),
                    attribute(value)
                );
            }
            out.push_str("    </properties>\n");
        }
        for case in &suite.cases {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\">",
                attribute(&case.name),
                attribute(&case.classname),
                case.time
            );
            if let Some(failure) = &case.failure {
                let _ = write!(
                    out,
                    "\n      <failure message=\"{}\" type=\"host failed\">{}</failure>",
                    attribute(&failure.message),
                    xml(&failure.text)
                );
            }
            for (element, text) in [("system-out", &case.system_out), ("system-err", &case.system_err)] {
                if !text.is_empty() {
                    let _ = write!(out, "\n      <{element}>{}</{element}>", xml(text));
                }
            }
            let close =
                if case.failure.is_some() || !case.system_out.is_empty() || !case.system_err.is_empty() {
                    "\n    "
                } else {
                    ""
                };
            let _ = writeln!(out, "{close}</testcase>");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Writes `suites` to `path` whole or not at all (a temporary file beside it, then a rename), so that a run
/// stopped halfway never leaves a report a CI system would read as complete.
pub fn write(path: &Path, suites: &[Suite]) -> std::io::Result<()> {
    // Created like any file (mode by the umask), so that an artifact uploader of another user can read it.
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::write(&temporary, render(suites)).and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// The suites of a JUnit document as [`render`] writes it (a lone `<testsuite>` root is read too).
pub fn parse(text: &str) -> Result<Vec<Suite>, quick_xml::DeError> {
    let root = text.find("<testsuite").map(|at| &text[at..]).unwrap_or_default();
    let suites = if root.starts_with("<testsuites") {
        quick_xml::de::from_str::<XmlSuites>(text)?.suites
    } else {
        vec![quick_xml::de::from_str::<XmlSuite>(text)?]
    };
    Ok(suites.into_iter().map(XmlSuite::into_suite).collect())
}

#[derive(Deserialize)]
struct XmlSuites {
    #[serde(rename = "testsuite", default)]
    suites: Vec<XmlSuite>,
}

#[derive(Deserialize)]
struct XmlSuite {
    #[serde(rename = "@name")]
    name: String,
    #[serde(rename = "@timestamp", default)]
    timestamp: String,
    #[serde(rename = "@time", default)]
    time: f64,
    #[serde(default)]
    properties: Option<XmlProperties>,
    #[serde(rename = "testcase", default)]
    cases: Vec<XmlCase>,
}

#[derive(Deserialize)]
struct XmlProperties {
    #[serde(default)]
    property: Vec<XmlProperty>,
}

#[derive(Deserialize)]
struct XmlProperty {
    #[serde(rename = "@name")]
    name: String,
    #[serde(rename = "@value", default)]
    value: String,
}

#[derive(Deserialize)]
struct XmlCase {
    #[serde(rename = "@name")]
    name: String,
    #[serde(rename = "@classname", default)]
    classname: String,
    #[serde(rename = "@time", default)]
    time: f64,
    #[serde(default)]
    failure: Option<XmlFailure>,
    #[serde(rename = "system-out", default)]
    system_out: Option<String>,
    #[serde(rename = "system-err", default)]
    system_err: Option<String>,
}

#[derive(Deserialize)]
struct XmlFailure {
    #[serde(rename = "@message", default)]
    message: String,
    #[serde(rename = "$text", default)]
    text: String,
}

impl XmlSuite {
    fn into_suite(self) -> Suite {
        Suite {
            name: self.name,
            timestamp: self.timestamp,
            time: self.time,
            properties: self
                .properties
                .map(|p| p.property.into_iter().map(|p| (p.name, p.value)).collect())
                .unwrap_or_default(),
            cases: self
                .cases
                .into_iter()
                .map(|case| Case {
                    name: case.name,
                    classname: case.classname,
                    time: case.time,
                    failure: case.failure.map(|f| Failure { message: f.message, text: f.text }),
                    system_out: case.system_out.unwrap_or_default(),
                    system_err: case.system_err.unwrap_or_default(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use remote_core::{HostError, Output};

    use super::*;

    fn report() -> Report {
        let ok = HostResult {
            host: "web-1".into(),
            outcome: Ok(Output { exit: Some(0), stdout: b"fine\n".to_vec(), ..Output::default() }),
            elapsed: Duration::from_millis(1500),
        };
        let failed = HostResult {
            host: "web-2".into(),
            outcome: Ok(Output {
                exit: Some(3),
                stdout: b"<b>&\"quoted\"</b>\n\x1b[31mred\x1b[0m\x00\n".to_vec(),
                stderr: b"disk full\n".to_vec(),
                ..Output::default()
            }),
            elapsed: Duration::from_millis(20),
        };
        let refused = HostResult {
            host: "web-3".into(),
            outcome: Err(HostError::ConnectRefused { port: 22 }),
            elapsed: Duration::from_millis(2),
        };
        Report {
            label: "uptime".into(),
            group: "web".into(),
            results: vec![ok, failed, refused],
            elapsed: Duration::from_secs(2),
        }
    }

    #[test]
    fn a_report_becomes_a_suite_with_a_case_per_host() {
        let suite = Suite::of(
            &report(),
            "health on web",
            "2026-11-26T12:00:00+00:00".into(),
            vec![("shard".into(), "1/2".into())],
        );
        let text = render(std::slice::from_ref(&suite));
        assert!(
            text.contains(
                "<testsuite name=\"health on web\" tests=\"3\" failures=\"2\" errors=\"0\" skipped=\"0\" time=\"2.000\""
            )
        );
        assert!(text.contains("<property name=\"shard\" value=\"1/2\"/>"), "{text}");
        assert!(text.contains(
            "<testcase name=\"web-1\" classname=\"health on web\" time=\"1.500\">\n      <system-out>fine\n</system-out>"
        ));
        assert!(
            text.contains("<failure message=\"exited with status 3\" type=\"host failed\">exited with status 3\n\n--- the end of its stderr ---\ndisk full"),
            "{text}"
        );
        assert!(
            text.contains("&lt;b&gt;&amp;&quot;quoted&quot;&lt;/b&gt;"),
            "markup in output is escaped: {text}"
        );
        assert!(text.contains("·[31mred·[0m·"), "control characters cannot be in XML: {text}");
        assert!(text.contains("<failure message=\"connection refused (is sshd running on port 22?)\""));
        // What it wrote is what it reads back, host output included (with what XML cannot hold shown as `·`).
        let back = &parse(&text).unwrap()[0];
        assert_eq!((&back.name, &back.timestamp, back.time), (&suite.name, &suite.timestamp, suite.time));
        assert_eq!(back.cases[0], suite.cases[0]);
        assert_eq!(back.cases[2], suite.cases[2]);
        assert_eq!(back.failures(), 2);
        assert_eq!(back.cases[1].system_out, "<b>&\"quoted\"</b>\n·[31mred·[0m·\n");
        assert_eq!(back.property("shard"), Some("1/2"));
    }

    #[test]
    fn tails_keep_the_end() {
        let check = |bytes: &[u8], lines: usize, max: usize, expected: &str| {
            assert_eq!(tail(bytes, lines, max), expected)
        };
        check(b"a\nb\nc\n", 2, 100, "b\nc\n");
        check(b"a\nb\nc", 2, 100, "b\nc");
        check(b"a\nb\nc\n", 5, 100, "a\nb\nc\n");
        check(b"abcdef\n", 5, 3, "ef\n");
        check(b"", 5, 3, "");
    }
}

#[cfg(test)]
mod fuzz {
    //! Property tests of the JUnit writer and reader: a report written with any host names, outputs and
    //! errors reads back as it was shown (what XML cannot hold as `·`), since `remote merge-reports` merges
    //! what this module wrote.

    use proptest::prelude::*;
    use remote_fuzz::config;

    use super::*;

    /// Text as the report shows it: what [`xml`] keeps, and `·` for what it hides.
    fn shown(text: &str) -> String {
        text.chars()
            .map(|c| match c {
                '\n' | '\t' => c,
                '\u{FFFE}' | '\u{FFFF}' => '·',
                c if remote_core::pretty::is_hidden(c) => '·',
                c => c,
            })
            .collect()
    }

    /// Any text, with markup, blanks at either end and line breaks more often than chance would give them.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,20}",
            prop::collection::vec(any::<char>(), 0..20).prop_map(|chars| chars.into_iter().collect()),
            "[ \t\r\na<>&\"';]{0,12}",
            Just("<![CDATA[x]]>".to_string()),
        ]
    }

    /// Seconds as the report writes them: whole milliseconds.
    fn seconds() -> impl Strategy<Value = f64> {
        (0..100_000_000u64).prop_map(|ms| ms as f64 / 1000.0)
    }

    fn case() -> impl Strategy<Value = Case> {
        // A failure's text starts with its message, the host's error, as `Case::of` writes it: never blank.
        // (A `<failure>` holding blanks only would read back empty, as XML readers drop such text.)
        let message = text().prop_filter("an error says something", |message| !message.trim().is_empty());
        let failure = prop::option::of(
            (message, text())
                .prop_map(|(message, tail)| Failure { text: format!("{message}{tail}"), message }),
        );
        (text(), text(), seconds(), failure, text(), text()).prop_map(
            |(name, classname, time, failure, system_out, system_err)| Case {
                name,
                classname,
                time,
                failure,
                system_out,
                system_err,
            },
        )
    }

    fn suite() -> impl Strategy<Value = Suite> {
        let properties = prop::collection::vec((text(), text()), 0..3);
        (text(), text(), seconds(), properties, prop::collection::vec(case(), 0..4)).prop_map(
            |(name, timestamp, time, properties, cases)| Suite { name, timestamp, time, properties, cases },
        )
    }

    /// `suite` as a report shows it.
    fn as_shown(suite: &Suite) -> Suite {
        Suite {
            name: shown(&suite.name),
            timestamp: shown(&suite.timestamp),
            time: suite.time,
            properties: suite.properties.iter().map(|(name, value)| (shown(name), shown(value))).collect(),
            cases: suite
                .cases
                .iter()
                .map(|case| Case {
                    name: shown(&case.name),
                    classname: shown(&case.classname),
                    time: case.time,
                    failure: case
                        .failure
                        .as_ref()
                        .map(|f| Failure { message: shown(&f.message), text: shown(&f.text) }),
                    system_out: shown(&case.system_out),
                    system_err: shown(&case.system_err),
                })
                .collect(),
        }
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn a_written_report_reads_back_as_it_was_shown(suites in prop::collection::vec(suite(), 0..3)) {
            let text = render(&suites);
            let back = parse(&text).map_err(|err| TestCaseError::fail(format!("{err}: {text}")))?;
            prop_assert_eq!(back, suites.iter().map(as_shown).collect::<Vec<_>>(), "{}", text);
        }
    }
}
