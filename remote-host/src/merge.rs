//! `remote merge-reports`: the JUnit files or JSON documents of a sharded run's shards as one report, with a
//! shard that is missing, given twice, or overlapping another said, so a CI merge job fails on it. Inputs
//! that cannot be merged are errors (exit 2, from `main`).

use std::path::{Path, PathBuf};

use remote_config::shard::Shard;
use serde_json::Value;

use crate::cli::{GlobalArgs, MergeArgs};
use crate::junit::{self, Case, Failure, Suite};
use crate::{EXIT_HOST_FAILED, EXIT_OK};

/// One run's report from one file: a JUnit testsuite or a JSON document.
struct Part {
    file: PathBuf,
    run: String,
    shard: Option<Shard>,
    report: PartReport,
}

enum PartReport {
    Junit(Suite),
    Json(Value),
}

impl Part {
    fn suite(&self) -> Option<&Suite> {
        match &self.report {
            PartReport::Junit(suite) => Some(suite),
            PartReport::Json(_) => None,
        }
    }

    fn document(&self) -> Option<&Value> {
        match &self.report {
            PartReport::Json(document) => Some(document),
            PartReport::Junit(_) => None,
        }
    }
    /// The hosts reported, with whether each succeeded.
    fn hosts(&self) -> Vec<(String, bool, Option<String>)> {
        match &self.report {
            PartReport::Junit(suite) => suite
                .cases
                .iter()
                .map(|case| {
                    (
                        case.name.clone(),
                        case.failure.is_none(),
                        case.failure.as_ref().map(|f| f.message.clone()),
                    )
                })
                .collect(),
            PartReport::Json(document) => document["results"]
                .as_array()
                .map(|results| {
                    results
                        .iter()
                        .map(|r| {
                            let host = r["host"].as_str().unwrap_or_default().to_string();
                            (host, r["ok"] == Value::Bool(true), r["error"].as_str().map(str::to_string))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// The parts of one run, checked: its shards each once, no host twice.
struct Merged<'a> {
    run: String,
    parts: Vec<&'a Part>,
    /// Shards of `count` that no file reported.
    missing: Vec<Shard>,
}

/// Why the inputs cannot be merged at all (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A file could not be read.
    #[error("cannot read report {}: {cause}", path.display())]
    Read { path: PathBuf, cause: String },
    /// A file is neither kind of report, or is damaged.
    #[error("{} is not a report remote wrote: {cause}", path.display())]
    Unreadable { path: PathBuf, cause: String },
    /// Two files report the same shard.
    #[error("{what} of `{run}` is reported twice, in {} and {}; give each shard's report once", first.display(), second.display())]
    Twice { run: String, what: String, first: PathBuf, second: PathBuf },
    /// Shards of different splits (`1/2` and `1/3`).
    #[error("the reports of `{run}` come from different splits ({a} and {b}); merge the shards of one run")]
    Splits { run: String, a: String, b: String },
    /// A host is in two shards: the shards were cut from different inventories.
    #[error(
        "host {host} of `{run}` is in two shards' reports ({} and {}): were the shards run with different inventories?",
        first.display(), second.display()
    )]
    Overlap { run: String, host: String, first: PathBuf, second: PathBuf },
    /// `--json` asked for one document of several runs.
    #[error(
        "--json merges the shards of one run, but these JSON reports are of {count} runs ({runs}); merge each on its own"
    )]
    Runs { count: usize, runs: String },
    /// `--json` was given a JUnit file.
    #[error("--json merges JSON documents, but {} is a JUnit report; write merged JUnit with --junit FILE", path.display())]
    JunitForJson { path: PathBuf },
    /// `--junit` was given no JUnit file to merge.
    #[error("--junit writes merged JUnit reports, but none of the files is one")]
    NoJunit,
}

/// Runs `remote merge-reports`.
pub fn run(global: &GlobalArgs, args: &MergeArgs) -> Result<u8, Box<dyn std::error::Error>> {
    let mut parts = Vec::new();
    for file in &args.files {
        parts.extend(read(file)?);
    }
    let junit_parts: Vec<&Part> = parts.iter().filter(|p| p.suite().is_some()).collect();
    let json_parts: Vec<&Part> = parts.iter().filter(|p| p.document().is_some()).collect();
    if global.json && !junit_parts.is_empty() {
        return Err(MergeError::JunitForJson { path: junit_parts[0].file.clone() }.into());
    }
    if args.junit.is_some() && junit_parts.is_empty() {
        return Err(MergeError::NoJunit.into());
    }
    let mut runs = group(&junit_parts)?;
    runs.extend(group(&json_parts)?);

    if let Some(path) = &args.junit {
        let suites: Vec<Suite> =
            runs.iter().filter(|m| m.parts[0].suite().is_some()).map(merged_suite).collect();
        junit::write(path, &suites)
            .map_err(|e| format!("cannot write the JUnit report {}: {e}", path.display()))?;
    }
    if global.json {
        if runs.len() > 1 {
            let names: Vec<&str> = runs.iter().map(|m| m.run.as_str()).collect();
            return Err(MergeError::Runs { count: runs.len(), runs: names.join(", ") }.into());
        }
        if let Some(merged) = runs.first() {
            let mut stdout = crate::out::Stdout;
            let written = remote_core::pretty::write_json(&mut stdout, &merged_json(merged));
            let _ = written.and_then(|()| std::io::Write::write_all(&mut stdout, b"\n"));
        }
    } else {
        out!("{}", summary(&runs));
    }
    for merged in &runs {
        for shard in &merged.missing {
            eprintln!(
                "remote: shard {shard} of `{}` has no report: its hosts were not run, or its report was lost",
                merged.run
            );
        }
    }
    let fails = runs.iter().any(|merged| {
        let hosts: Vec<_> = merged.parts.iter().flat_map(|p| p.hosts()).collect();
        let failed = hosts.iter().filter(|(_, ok, _)| !ok).count();
        // A whole group can be smaller than its shards, so an empty merged run is not a failure.
        !merged.missing.is_empty()
            || (!hosts.is_empty() && crate::ci::fails(failed, hosts.len(), args.fail_on))
    });
    Ok(if fails { EXIT_HOST_FAILED } else { EXIT_OK })
}

/// The reports in `file`: every testsuite of a JUnit file, or the one JSON document.
fn read(file: &Path) -> Result<Vec<Part>, MergeError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| MergeError::Read { path: file.to_path_buf(), cause: e.to_string() })?;
    let unreadable = |cause: String| MergeError::Unreadable { path: file.to_path_buf(), cause };
    let shard_of = |text: Option<&str>| -> Result<Option<Shard>, MergeError> {
        text.map(|s| s.parse::<Shard>().map_err(|e| unreadable(e.to_string()))).transpose()
    };
    match text.trim_start().chars().next() {
        Some('<') => {
            let suites = junit::parse(&text)
                .map_err(|e| unreadable(format!("not JUnit XML as remote writes it: {e}")))?;
            suites
                .into_iter()
                .map(|suite| {
                    Ok(Part {
                        file: file.to_path_buf(),
                        run: suite.name.clone(),
                        shard: shard_of(suite.property("shard"))?,
                        report: PartReport::Junit(suite),
                    })
                })
                .collect()
        }
        Some('{') => {
            let document: Value =
                serde_json::from_str(&text).map_err(|e| unreadable(format!("not one JSON document: {e}")))?;
            if !document["results"].is_array() {
                return Err(unreadable(
                    "a JSON document without `results`; give the output of `--json`".into(),
                ));
            }
            let run = match document["run"].as_str() {
                Some(run) => run.to_string(),
                None => format!(
                    "{} on {}",
                    document["label"].as_str().unwrap_or("?"),
                    document["group"].as_str().unwrap_or("?")
                ),
            };
            let shard = shard_of(document["shard"].as_str())?;
            Ok(vec![Part { file: file.to_path_buf(), run, shard, report: PartReport::Json(document) }])
        }
        _ => Err(unreadable("neither a JUnit file (`--junit`) nor a JSON document (`--json`)".into())),
    }
}

/// The parts by run, in the order runs first appear, each checked for shards and hosts given twice.
fn group<'a>(parts: &[&'a Part]) -> Result<Vec<Merged<'a>>, MergeError> {
    let mut runs: Vec<Merged<'a>> = Vec::new();
    for part in parts {
        match runs.iter_mut().find(|m| m.run == part.run) {
            Some(merged) => merged.parts.push(part),
            None => runs.push(Merged { run: part.run.clone(), parts: vec![part], missing: Vec::new() }),
        }
    }
    for merged in &mut runs {
        // By split, then by shard: parts of different splits meet before two parts of one shard can.
        merged.parts.sort_by_key(|part| part.shard.map_or((0, 0), |s| (s.count, s.index)));
        let what =
            |shard: Option<Shard>| shard.map_or("the unsharded run".to_string(), |s| format!("shard {s}"));
        for pair in merged.parts.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if a.shard.map(|s| s.count) != b.shard.map(|s| s.count) {
                return Err(MergeError::Splits {
                    run: merged.run.clone(),
                    a: what(a.shard),
                    b: what(b.shard),
                });
            }
            if a.shard == b.shard {
                let (first, second) = (a.file.clone(), b.file.clone());
                return Err(MergeError::Twice {
                    run: merged.run.clone(),
                    what: what(a.shard),
                    first,
                    second,
                });
            }
        }
        if let Some(count) = merged.parts[0].shard.map(|s| s.count) {
            merged.missing = (1..=count)
                .filter(|index| !merged.parts.iter().any(|p| p.shard.is_some_and(|s| s.index == *index)))
                .map(|index| Shard { index, count })
                .collect();
        }
        let mut seen: std::collections::HashMap<String, &Path> = std::collections::HashMap::new();
        for part in &merged.parts {
            for (host, _, _) in part.hosts() {
                if let Some(first) = seen.insert(host.clone(), &part.file) {
                    return Err(MergeError::Overlap {
                        run: merged.run.clone(),
                        host,
                        first: first.to_path_buf(),
                        second: part.file.clone(),
                    });
                }
            }
        }
    }
    Ok(runs)
}

/// One testsuite with every shard's testcases, and a failing testcase for each shard that sent no report.
fn merged_suite(merged: &Merged<'_>) -> Suite {
    let suites: Vec<&Suite> = merged.parts.iter().filter_map(|p| p.suite()).collect();
    let mut properties: Vec<(String, String)> =
        suites[0].properties.iter().filter(|(name, _)| name != "shard").cloned().collect();
    if let Some(shard) = merged.parts[0].shard {
        properties.push(("shards".into(), shard.count.to_string()));
    }
    let mut cases: Vec<Case> = suites.iter().flat_map(|s| s.cases.iter().cloned()).collect();
    for shard in &merged.missing {
        let message = format!("no report from shard {shard}: its hosts were not run, or its report was lost");
        cases.push(Case {
            name: format!("shard {shard}"),
            classname: merged.run.clone(),
            time: 0.0,
            failure: Some(Failure { message: message.clone(), text: message }),
            system_out: String::new(),
            system_err: String::new(),
        });
    }
    Suite {
        name: merged.run.clone(),
        timestamp: suites.iter().map(|s| s.timestamp.clone()).min().unwrap_or_default(),
        // The shards ran side by side: the run took as long as its slowest shard.
        time: suites.iter().map(|s| s.time).fold(0.0, f64::max),
        properties,
        cases,
    }
}

/// One JSON document with every shard's results, in shard order.
fn merged_json(merged: &Merged<'_>) -> Value {
    let documents: Vec<&Value> = merged.parts.iter().filter_map(|p| p.document()).collect();
    let mut out = documents[0].clone();
    let results: Vec<Value> =
        documents.iter().flat_map(|d| d["results"].as_array().cloned().unwrap_or_default()).collect();
    let all_ok = results.iter().all(|r| r["ok"] == Value::Bool(true));
    let elapsed = documents.iter().filter_map(|d| d["elapsed_ms"].as_u64()).max().unwrap_or(0);
    let object = out.as_object_mut().expect("checked to be a JSON document with results");
    object.remove("shard");
    object.insert("run".into(), Value::from(merged.run.clone()));
    object.insert("ok".into(), Value::from(all_ok && merged.missing.is_empty()));
    object.insert("elapsed_ms".into(), Value::from(elapsed));
    if let Some(shard) = merged.parts[0].shard {
        object.insert("shards".into(), Value::from(shard.count));
        object.insert(
            "missing_shards".into(),
            Value::from(merged.missing.iter().map(|s| s.index).collect::<Vec<_>>()),
        );
    }
    object.insert("results".into(), Value::from(results));
    out
}

/// What was merged, for people: each run's hosts, failed ones with why, and shards without a report.
fn summary(runs: &[Merged<'_>]) -> String {
    let mut text = String::new();
    for merged in runs {
        let hosts: Vec<_> = merged.parts.iter().flat_map(|p| p.hosts()).collect();
        let failed = hosts.iter().filter(|(_, ok, _)| !ok).count();
        let shards = match merged.parts[0].shard {
            Some(shard) => format!("{} of {} shards, ", shard.count - merged.missing.len(), shard.count),
            None => String::new(),
        };
        text.push_str(&format!(
            "\nMerged: {} ({shards}{} hosts: {} ok, {failed} failed)\n\n",
            remote_core::pretty::sanitize(&merged.run),
            hosts.len(),
            hosts.len() - failed
        ));
        let width = hosts.iter().map(|(host, _, _)| host.chars().count()).max().unwrap_or(0);
        for (host, ok, error) in &hosts {
            let host = remote_core::pretty::sanitize(host);
            match ok {
                true => text.push_str(&format!("  ✔ {host}\n")),
                false => text.push_str(&format!(
                    "  ✖ {host:width$}  {}\n",
                    remote_core::pretty::sanitize(error.as_deref().unwrap_or("failed"))
                )),
            }
        }
        for shard in &merged.missing {
            text.push_str(&format!("  ✖ shard {shard}: no report\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The outcome of merging JSON documents, each `(shard, hosts)`: the missing shards, or the error.
    fn check(documents: &[(Option<&str>, &[&str])], expected: Result<&[&str], &str>) {
        let dir = tempfile::tempdir().unwrap();
        let mut parts = Vec::new();
        for (n, (shard, hosts)) in documents.iter().enumerate() {
            let results: Vec<Value> =
                hosts.iter().map(|h| json!({"host": h, "ok": true, "error": null})).collect();
            let mut document = json!({"label": "true", "group": "web", "run": "true on web", "ok": true, "results": results});
            if let Some(shard) = shard {
                document["shard"] = json!(shard);
            }
            let path = dir.path().join(format!("{n}.json"));
            std::fs::write(&path, document.to_string()).unwrap();
            parts.extend(read(&path).unwrap());
        }
        let refs: Vec<&Part> = parts.iter().collect();
        let got = group(&refs).map(|runs| runs[0].missing.iter().map(Shard::to_string).collect::<Vec<_>>());
        let got = got.map_err(|e| e.to_string().replace(&dir.path().display().to_string(), "DIR"));
        let expected = expected
            .map(|missing| missing.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .map_err(str::to_string);
        assert_eq!(got, expected, "{documents:?}");
    }

    #[test]
    fn shards_are_checked_before_they_are_merged() {
        check(&[(Some("2/3"), &["b"]), (Some("1/3"), &["a"]), (Some("3/3"), &["c"])], Ok(&[]));
        check(&[(Some("1/3"), &["a"]), (Some("3/3"), &[])], Ok(&["2/3"]));
        check(&[(None, &["a", "b"])], Ok(&[]));
        check(
            &[(Some("1/2"), &["a"]), (Some("1/2"), &["b"])],
            Err(
                "shard 1/2 of `true on web` is reported twice, in DIR/0.json and DIR/1.json; give each shard's report once",
            ),
        );
        check(
            &[(Some("1/3"), &["a"]), (Some("1/2"), &["b"])],
            Err(
                "the reports of `true on web` come from different splits (shard 1/2 and shard 1/3); merge the shards of one run",
            ),
        );
        check(
            &[(Some("1/2"), &["a", "b"]), (Some("2/2"), &["b"])],
            Err(
                "host b of `true on web` is in two shards' reports (DIR/0.json and DIR/1.json): were the shards run with \
                 different inventories?",
            ),
        );
        check(
            &[(None, &["a"]), (None, &["b"])],
            Err(
                "the unsharded run of `true on web` is reported twice, in DIR/0.json and DIR/1.json; give each shard's report once",
            ),
        );
    }
}

#[cfg(test)]
mod fuzz {
    //! Property tests of `remote merge-reports`' inputs, files a CI job hands over from its shards: reports
    //! with text spliced in, cut out or duplicated are merged or refused, never a panic; a JSON error's line
    //! is one of the file's; and merged JUnit reads back as written.

    use proptest::prelude::*;
    use remote_fuzz::config;
    use serde_json::json;

    use super::*;
    use crate::junit::{Case, Failure, Suite};

    /// The `--json` document of shard `shard` of `uptime on web`, with one host that succeeded and one that
    /// failed.
    fn json_report(shard: &str, hosts: [&str; 2]) -> String {
        let result = |host: &str, ok: bool| {
            json!({"host": host, "ok": ok, "exit": if ok { json!(0) } else { json!(null) }, "signal": null,
                   "stdout": if ok { " 10:00:01 up 3 days\n" } else { "" }, "stderr": "", "truncated": false,
                   "error": if ok { json!(null) } else { json!("connection refused (is sshd running on port 22?)") },
                   "elapsed_ms": 15})
        };
        let results = [result(hosts[0], true), result(hosts[1], false)];
        let document = json!({"label": "uptime", "group": "web", "run": "uptime on web", "shard": shard, "ok": false,
                              "elapsed_ms": 20, "results": results});
        serde_json::to_string_pretty(&document).unwrap_or_default()
    }

    /// The `--junit` file of shard `shard` of `uptime on web`, with one host that succeeded and one that
    /// failed.
    fn junit_report(shard: &str, hosts: [&str; 2]) -> String {
        let case = |name: &str, failure: Option<Failure>| Case {
            name: name.into(),
            classname: "uptime on web".into(),
            time: 0.015,
            system_out: if failure.is_none() { " 10:00:01 up 3 days\n".into() } else { String::new() },
            failure,
            system_err: String::new(),
        };
        let refused = "connection refused (is sshd running on port 22?)".to_string();
        let suite = Suite {
            name: "uptime on web".into(),
            timestamp: "2026-11-26T12:00:00+00:00".into(),
            time: 0.02,
            properties: vec![("group".into(), "web".into()), ("shard".into(), shard.into())],
            cases: vec![
                case(hosts[0], None),
                case(hosts[1], Some(Failure { message: refused.clone(), text: refused })),
            ],
        };
        junit::render(&[suite])
    }

    /// Both shards of one run in both formats.
    fn samples() -> Vec<String> {
        vec![
            json_report("1/2", ["web-1", "web-3"]),
            json_report("2/2", ["web-2", "web-4"]),
            junit_report("1/2", ["web-1", "web-3"]),
            junit_report("2/2", ["web-2", "web-4"]),
        ]
    }

    /// What JSON and XML give a meaning to.
    const SPECIAL: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        "\"",
        ",",
        ":",
        "\\",
        "\\u0000",
        "null",
        "true",
        "1e999",
        "-0",
        "<",
        ">",
        "/>",
        "</",
        "&",
        "&amp;",
        "&#0;",
        "<!--",
        "<![CDATA[",
        "\"1/3\"",
        "\"3/2\"",
        "\"0/0\"",
        "shard",
        "results",
        "testsuite",
        "\n",
        "\u{feff}",
    ];

    /// A report, whole or with one to five edits.
    fn spliced() -> impl Strategy<Value = String> {
        prop_oneof![prop::sample::select(samples()), remote_fuzz::spliced(samples(), SPECIAL)]
    }

    /// Writes `texts` as report files and reads them, checking that a JSON error names a line of its file.
    fn read_all(dir: &Path, texts: &[String]) -> Result<Vec<Part>, TestCaseError> {
        let mut parts = Vec::new();
        for (n, text) in texts.iter().enumerate() {
            let path = dir.join(format!("{n}.report"));
            std::fs::write(&path, text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            match read(&path) {
                Ok(read) => parts.extend(read),
                Err(MergeError::Unreadable { cause, .. }) if cause.starts_with("not one JSON document") => {
                    let line = cause
                        .rsplit_once(" at line ")
                        .and_then(|(_, at)| at.split(' ').next()?.parse::<usize>().ok());
                    if let Some(line) = line {
                        prop_assert!((1..=text.lines().count() + 1).contains(&line), "{cause} in {text:?}");
                    }
                }
                Err(_) => {}
            }
        }
        Ok(parts)
    }

    #[test]
    fn the_samples_merge() {
        let dir = tempfile::tempdir().unwrap();
        let parts = read_all(dir.path(), &samples()).unwrap();
        let (junit, json): (Vec<&Part>, Vec<&Part>) = parts.iter().partition(|p| p.suite().is_some());
        let (junit, json) = (group(&junit).unwrap(), group(&json).unwrap());
        assert_eq!((junit.len(), junit[0].parts.len(), junit[0].missing.len()), (1, 2, 0));
        assert_eq!((json.len(), json[0].parts.len(), json[0].missing.len()), (1, 2, 0));
    }

    proptest! {
        #![proptest_config(config(128))]

        /// Any set of reports is merged or refused, and the merged JUnit reads back as it was written.
        #[test]
        fn spliced_reports_merge_or_are_refused(texts in prop::collection::vec(spliced(), 1..4)) {
            let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let parts = read_all(dir.path(), &texts)?;
            let (junit, json): (Vec<&Part>, Vec<&Part>) = parts.iter().partition(|p| p.suite().is_some());
            if let Ok(runs) = group(&junit) {
                let mut suites: Vec<Suite> = runs.iter().map(merged_suite).collect();
                let written = junit::render(&suites);
                let back = junit::parse(&written).map_err(|e| TestCaseError::fail(format!("{e}: {written}")))?;
                // XML readers drop a text of blanks only; remote writes none (a failure's text starts with
                // its error), but a damaged input can hold one.
                let failures = suites.iter_mut().flat_map(|suite| &mut suite.cases).filter_map(|case| case.failure.as_mut());
                for failure in failures.filter(|f| f.text.chars().all(|c| matches!(c, ' ' | '\t' | '\n'))) {
                    failure.text.clear();
                }
                prop_assert_eq!(junit::render(&back), junit::render(&suites));
                let _ = summary(&runs);
            }
            if let Ok(runs) = group(&json) {
                for merged in &runs {
                    let _ = merged_json(merged);
                }
                let _ = summary(&runs);
            }
        }
    }
}
