//! The pipeline language end to end: `pipeline!` and the prompt's interpreter on real hosts, with the same
//! results.

use std::sync::{Arc, Mutex};

use remote_core::Linked as Ops;
// Linked for its declarations, which reach `Ops` through remote-core's distributed slice.
extern crate ops;
use remote_config::Inventory;
use remote_core::interpret::{self, Context};
use remote_core::{Driver, Registry, pretty as render};
use remote_ssh::pool::{ExecOptions, PoolConfig, SessionPool};
use remote_ssh::world::SessionWorld;
use remote_std::prelude::*;
use serde_json::Value;
use tests::{TestHosts, remote};

/// A runtime, a driver over a fresh pool, and every run the `pretty` step showed.
struct Harness {
    _runtime: tokio::runtime::Runtime,
    driver: Driver,
    shown: Arc<Mutex<Vec<Report>>>,
    inventory: Inventory,
}

impl Harness {
    fn new(hosts: &TestHosts) -> Self {
        let runtime = tests::runtime();
        let shown = Arc::new(Mutex::new(Vec::new()));
        let record = shown.clone();
        let world = SessionWorld::new(
            SessionPool::new(PoolConfig::default()),
            runtime.handle().clone(),
            ExecOptions::default(),
        );
        let show =
            move |report: &Report, _: remote_core::pretty::View| record.lock().unwrap().push(report.clone());
        let inventory = Inventory::load(&hosts.write_inventory(&[])).unwrap();
        Harness { _runtime: runtime, driver: Driver::new(Arc::new(world), Arc::new(show)), shown, inventory }
    }

    /// The group `test` as a host set for Rust pipelines.
    fn hosts(&self) -> Hosts {
        let group = self.inventory.group("test").unwrap();
        Hosts::new(&group.name, group.hosts.clone(), self.driver.clone())
    }

    /// Runs a prompt line.
    fn eval(&self, line: &str) -> Result<Run, interpret::EvalError> {
        let registry = Registry::new(Some(&Ops));
        let context = Context {
            inventory: &self.inventory,
            driver: self.driver.clone(),
            registry: &registry,
            library: Some(&Ops),
        };
        interpret::eval(line, &context)
    }

    fn shown(&self) -> Vec<Report> {
        std::mem::take(&mut *self.shown.lock().unwrap())
    }
}

/// What a user sees of a run, without timings: label, group, and per host its name, success, output or error.
fn outcome(run: &Run) -> (String, String, Vec<(String, bool, String)>) {
    let hosts = run
        .results()
        .iter()
        .map(|r| {
            let text = match r.output() {
                Some(output) if r.ok() => stable(&String::from_utf8_lossy(&output.stdout)),
                _ => r.error_text().unwrap_or_default(),
            };
            (r.host.clone(), r.ok(), text)
        })
        .collect();
    (run.label().to_string(), run.group().to_string(), hosts)
}

/// Output of `ls -la /` (or a summary of it) without what other tests change meanwhile: sizes, link
/// counts and times (e.g. of `/tmp`, where they make folders) and `/proc`. What stays is each entry's
/// type and name, and for summary lines the mark and the host.
fn stable(text: &str) -> String {
    let lines = text.lines().filter(|line| !line.ends_with(" proc") && !line.starts_with("total "));
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                ["Run", "summary:", ..] => fields.join(" "),
                [mark @ ("✔" | "✖"), host, .., last] => format!("{mark} {host} {last}"),
                [first, .., last] => format!("{first} {last}"),
                _ => fields.join(" "),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The summary text with its elapsed time taken out, e.g. `(3 hosts: 3 ok, 0 failed)`, and spacing made
/// stable.
fn without_timing(summary: &str) -> String {
    let lines = summary.lines().map(|line| match (line.starts_with("Run summary:"), line.rfind(", ")) {
        (true, Some(cut)) => format!("{})", &line[..cut]),
        _ => line.to_string(),
    });
    stable(&lines.collect::<Vec<_>>().join("\n"))
}

/// What a summary of `ls -la /` lists, whichever way its hosts grouped: its header without the time, and
/// every listed name once. How hosts group depends on `/proc`'s link count, the number of processes when each
/// `ls` ran.
fn listed(summary: &str) -> (String, std::collections::BTreeSet<String>) {
    let header = without_timing(summary)
        .lines()
        .find(|l| l.starts_with("Run summary:"))
        .unwrap_or_default()
        .to_string();
    let names = summary
        .lines()
        .filter(|line| line.starts_with("      ") && !line.trim_start().starts_with(['-', '+', '…']))
        .filter_map(|line| line.split_whitespace().last().map(str::to_string))
        .filter(|name| name != "proc")
        .collect();
    (header, names)
}

/// The server address a host is reached at, as `$SSH_CONNECTION` shows it on that host.
fn address(hosts: &TestHosts, index: usize) -> String {
    hosts.specs()[index].address.clone()
}

#[test]
fn listing_gives_the_same_run_from_the_macro_and_from_the_prompt() {
    let hosts = TestHosts::start(3);
    let harness = Harness::new(&hosts);

    let from_macro = ops::listing(&harness.hosts());
    let shown_by_macro = harness.shown();
    let from_prompt = harness.eval(r#"ls(test, "/", "-la") | pretty"#).unwrap();
    let shown_by_prompt = harness.shown();

    assert!(from_macro.all_ok(), "{:?}", from_macro.results());
    assert_eq!(outcome(&from_macro), outcome(&from_prompt));
    assert_eq!(from_macro.label(), "ls -la /");
    assert!(
        outcome(&from_macro).2.iter().all(|(_, _, stdout)| stdout.contains(" etc\n")),
        "{:?}",
        from_macro.results()
    );
    // `pretty` showed each run once, and the two summaries read the same once what changes from one `ls` to
    // the next (`/proc`'s link count, sizes and times, which decide how the hosts group) is taken out.
    assert_eq!((shown_by_macro.len(), shown_by_prompt.len()), (1, 1));
    let summary = |report: &remote_core::Report| {
        let mut report = report.clone();
        for result in &mut report.results {
            if let Ok(output) = &mut result.outcome {
                output.stdout =
                    format!("{}\n", stable(&String::from_utf8_lossy(&output.stdout))).into_bytes();
            }
        }
        without_timing(&render::render(&report, false))
    };
    assert_eq!(summary(&shown_by_macro[0]), summary(&shown_by_prompt[0]));
    assert!(
        summary(&shown_by_macro[0]).contains("(3)"),
        "the three hosts are one group: {}",
        summary(&shown_by_macro[0])
    );
}

#[test]
fn remote_run_and_remote_eval_print_the_same_summary() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let by_name = remote(&["--inventory", inventory, "run", "listing", "test"]);
    let by_expression = remote(&["--inventory", inventory, "eval", r#"ls(test, "/", "-la") | pretty"#]);
    assert_eq!((by_name.code, by_expression.code), (0, 0), "{}\n{}", by_name.stderr, by_expression.stderr);
    assert!(
        by_name.stdout.starts_with("\nRun summary: ls -la / on test (2 hosts: 2 ok, 0 failed, "),
        "{}",
        by_name.stdout
    );
    // Printed once: `pretty` in the pipeline shows the summary, and the command does not repeat it.
    assert_eq!(by_name.stdout.matches("Run summary:").count(), 1, "{}", by_name.stdout);
    assert_eq!(listed(&by_name.stdout), listed(&by_expression.stdout));

    // With --json, standard output is one document, even though the pipeline ends in `pretty`.
    let json_by_name = remote(&["--json", "--inventory", inventory, "run", "listing", "test"]);
    let json_by_expression =
        remote(&["--inventory", inventory, "eval", "--json", r#"ls(test, "/", "-la") | pretty"#]);
    let documents: Vec<Value> = [&json_by_name, &json_by_expression]
        .iter()
        .map(|out| {
            serde_json::from_str(&out.stdout)
                .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", out.stdout))
        })
        .collect();
    for document in &documents {
        assert_eq!(document["results"].as_array().unwrap().len(), 2);
        assert_eq!(document["results"][0]["ok"], Value::from(true));
    }
    let stdout = |document: &Value| stable(document["results"][1]["stdout"].as_str().unwrap_or_default());
    assert_eq!(stdout(&documents[0]), stdout(&documents[1]));
    assert!(stdout(&documents[0]).contains(" etc"), "{}", documents[0]);
}

#[test]
fn an_operation_runs_only_where_the_step_before_it_succeeded() {
    let mut hosts = TestHosts::start(3);
    hosts.sandbox.server_mut(0).stop();
    let harness = Harness::new(&hosts);
    let visits = hosts.dir().join("visits");
    // Host 1 fails the first step; host 0 is down; only host 2 may run the second step.
    let first = format!(
        r#"case " $SSH_CONNECTION " in *" {} "*) echo nope >&2; exit 3;; esac; echo first"#,
        address(&hosts, 1)
    );
    let second = format!(r#"echo "$SSH_CONNECTION" >> {}"#, visits.display());

    let from_macro = pipeline!(exec(harness.hosts(), &first) | exec(&second) | pretty);
    let line = format!("exec(test, {first:?}) | exec({second:?}) | pretty");
    let from_prompt = harness.eval(&line).unwrap();

    for run in [&from_macro, &from_prompt] {
        let (_, _, results) = outcome(run);
        assert!(!results[0].1 && results[0].2.starts_with("connection refused"), "{results:?}");
        assert_eq!((results[1].1, results[1].2.as_str()), (false, "exited with status 3"), "{results:?}");
        assert!(results[2].1, "{results:?}");
        // The failed host keeps its own failure's output for the summary.
        assert_eq!(run.results()[1].output().unwrap().stderr, b"nope\n");
    }
    let visited = std::fs::read_to_string(&visits).unwrap();
    assert_eq!(visited.lines().count(), 2, "one visit per backend, both on host 2:\n{visited}");
    assert!(visited.lines().all(|line| line.contains(&format!(" {} ", address(&hosts, 2)))), "{visited}");
}

#[test]
fn pick_narrows_the_hosts_and_user_steps_work_at_the_prompt() {
    let hosts = TestHosts::start(3);
    let harness = Harness::new(&hosts);
    let wanted = format!(" {} ", address(&hosts, 1));

    let from_macro =
        pipeline!(exec(harness.hosts(), "echo \" $SSH_CONNECTION \"") | pick(stdout_has(&wanted)) | uptime);
    let from_prompt = harness
        .eval(&format!(r#"exec(test, "echo \" $SSH_CONNECTION \"") | pick(stdout_has({wanted:?})) | uptime"#))
        .unwrap();
    for run in [&from_macro, &from_prompt] {
        assert_eq!(run.results().len(), 1, "{:?}", run.results());
        assert_eq!(run.results()[0].host, hosts.sandbox.host_entries()[1]);
        assert!(
            String::from_utf8_lossy(&run.results()[0].output().unwrap().stdout).contains("load average"),
            "{:?}",
            run.results()
        );
    }

    // `only_debian` and `mentioning` are steps of `ops`, usable after `|` at the prompt.
    let debian =
        std::fs::read_to_string("/etc/os-release").unwrap_or_default().lines().any(|l| l == "ID=debian");
    let run = harness.eval("uptime(test) | only_debian | pretty").unwrap();
    assert_eq!(run.results().len(), if debian { 3 } else { 0 });
    let run = harness.eval(r#"exec(test, "echo alpha") | mentioning("alp") | pick(successful)"#).unwrap();
    assert_eq!(run.results().len(), 3);
    let run = harness.eval(r#"exec(test, "echo alpha") | mentioning("beta")"#).unwrap();
    assert_eq!(run.results().len(), 0);
    // A named pipeline starts a prompt line too.
    let run = harness.eval("listing(test) | pick(failed)").unwrap();
    assert_eq!(run.results().len(), 0);
}

#[test]
fn prompt_values_cannot_inject_shell_code() {
    let hosts = TestHosts::start(1);
    let harness = Harness::new(&hosts);
    let marker = hosts.dir().join("pwned");
    let hostile = format!("/nonexistent; touch {0}; $(touch {0}) `touch {0}`\n touch {0}", marker.display());
    let run = harness.eval(&format!("ls(test, {hostile:?}, \"-d\")")).unwrap();
    assert!(!run.all_ok());
    let stderr = String::from_utf8_lossy(&run.results()[0].output().unwrap().stderr).into_owned();
    assert!(stderr.contains("/nonexistent; touch"), "ls saw the whole value as one file name: {stderr}");
    assert!(!marker.exists(), "a value ran as shell code");
    // Flags may be left out at the prompt (Rust has no default arguments, so there they are written).
    let run = harness.eval(r#"ls(test, "/")"#).unwrap();
    assert!(run.all_ok() && run.label() == "ls /", "{:?}", run.results());
    // A value that starts with `-` is an operand, not an option.
    let run = harness.eval(r#"ls(test, "--version", "-d")"#).unwrap();
    assert!(
        !run.all_ok() && run.results()[0].output().is_some_and(|o| !o.stdout.starts_with(b"ls (GNU")),
        "{:?}",
        run.results()
    );
}

#[test]
fn eval_errors_name_the_column_and_suggest_names() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let cases: &[(&str, &str)] = &[
        (
            r#"lss(test, "/", "-la") | pretty"#,
            "error: unknown operation, step or pipeline `lss` (column 1)\n  lss(test, \"/\", \"-la\") | pretty\n  ^^^\n  help: did you mean `ls`?\n",
        ),
        (
            r#"ls(tset, "/", "-la")"#,
            "(column 4)\n  ls(tset, \"/\", \"-la\")\n     ^^^^\n  help: did you mean `test`?\n",
        ),
        (r#"exec(test) | pretty"#, "error: `exec` takes 1 argument(s) after the host set, got 0 (column 1)"),
        (r#"ls(test)"#, "error: `ls` takes 1 to 2 argument(s) after the host set, got 0 (column 1)"),
        (r#"ls(test, 5, "-l")"#, "error: `target` of `ls` is a string, but this is an integer (column 10)"),
        (r#"ls(test, root, "-l")"#, "help: strings are written in double quotes"),
        (
            r#"uptime(test) | pick(sucessful)"#,
            "unknown predicate `sucessful` (column 21)\n  uptime(test) | pick(sucessful)\n                      ^^^^^^^^^\n  help: did you mean `successful`?",
        ),
        (r#"uptime(test) | pick(stdout_has)"#, "`stdout_has` takes 1 argument(s), got 0"),
        (r#"pretty(test)"#, "`pretty` is a step"),
        (
            r#"uptime(test) | listing"#,
            "`listing` is a pipeline: it starts from a host set, so it cannot follow `|`",
        ),
        (r#"uptime(test) | successful"#, "`successful` is a predicate and cannot be used here"),
        (r#"uptime(test) |"#, "error: trailing `|`: expected a step after it (or remove it) (column 14)"),
        (r#"uptime(test) | uptime(test)"#, "`test` again"),
        // A NUL would drop the host's shared connection: refused before anything runs.
        (r#"exec(test, "echo a\0b")"#, "a string may not hold a NUL byte"),
    ];
    for (line, expected) in cases {
        let out = remote(&["--inventory", inventory, "eval", line]);
        assert_eq!(out.code, 2, "{line}: {}", out.stderr);
        assert!(out.stderr.contains(expected), "{line}:\n{}\nlacks:\n{expected}", out.stderr);
        assert!(out.stdout.is_empty(), "{line}: nothing runs when the line is wrong: {}", out.stdout);
    }
    let out = remote(&["--inventory", inventory, "run", "lsting", "test"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unknown pipeline `lsting`; did you mean `listing`?"), "{}", out.stderr);
    let out = remote(&["--inventory", inventory, "run", "listing", "tset"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("unknown group `tset`") && out.stderr.contains("did you mean `test`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn list_shows_pipelines_operations_steps_and_predicates_with_docs() {
    let out = remote(&["list"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for expected in [
        "listing(hs)",
        "Lists `/` on every host, long format.",
        "ls(hs, target: string, flags: string = \"\")",
        "pretty(run)",
        "pick(run, keep: predicate)",
        "  successful ",
        "stdout_has(text: string)",
        "only_debian(run)",
        "mentioning(run, word: string)",
    ] {
        assert!(out.stdout.contains(expected), "`remote list` lacks {expected:?}:\n{}", out.stdout);
    }
    let out = remote(&["list", "--json"]);
    let entries: Value = serde_json::from_str(&out.stdout).unwrap();
    let ls = entries.as_array().unwrap().iter().find(|e| e["name"] == "ls").unwrap();
    assert_eq!(ls["kind"], "operation");
    assert_eq!(ls["params"][0], serde_json::json!({"name": "target", "type": "string"}));
}

/// A user's step that reorders the run; the next operation must still reach each host under its own name.
fn reversed(run: Run) -> Run {
    run.sort_by(|a, b| b.host.cmp(&a.host))
}

#[test]
fn results_follow_their_hosts_through_user_steps_and_earlier_failures() {
    let hosts = TestHosts::start(3);
    let harness = Harness::new(&hosts);
    let fail_second = format!(r#"case " $SSH_CONNECTION " in *" {} "*) exit 3;; esac"#, address(&hosts, 1));

    let run = pipeline!(exec(harness.hosts(), &fail_second) | reversed | exec("echo \" $SSH_CONNECTION \""));
    let names = hosts.sandbox.host_entries();
    assert_eq!(
        run.results().iter().map(|r| r.host.as_str()).collect::<Vec<_>>(),
        [&names[2], &names[1], &names[0]]
    );
    for (index, result) in [(2, &run.results()[0]), (0, &run.results()[2])] {
        let stdout = String::from_utf8_lossy(&result.output().unwrap().stdout).into_owned();
        assert!(
            stdout.contains(&format!(" {} ", address(&hosts, index))),
            "{} answered from elsewhere: {stdout}",
            result.host
        );
    }
    assert_eq!(run.results()[1].error_text().as_deref(), Some("exited with status 3"));

    // `only_debian` narrows the hosts that succeeded and keeps the earlier failure in view.
    let run = harness.eval(&format!("exec(test, {fail_second:?}) | only_debian")).unwrap();
    assert!(run.results().iter().any(|r| r.host == names[1] && !r.ok()), "{:?}", run.results());
}

#[test]
fn eval_prints_the_final_run_when_it_differs_from_what_pretty_showed() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let out = remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "eval",
        r#"ls(test, "/") | pretty | exec("exit 4")"#,
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.stdout.matches("Run summary:").count(), 2, "{}", out.stdout);
    assert!(out.stdout.contains("Run summary: exit 4 on test (2 hosts: 0 ok, 2 failed"), "{}", out.stdout);
    assert!(out.stdout.contains("✖") && out.stdout.contains("exited with status 4"), "{}", out.stdout);
}

#[test]
fn pipelines_run_from_inside_a_current_thread_runtime() {
    let hosts = TestHosts::start(1);
    let harness = Harness::new(&hosts);
    let caller = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // The pipeline blocks; the driver's own multi-thread runtime carries the I/O meanwhile.
    let run = caller.block_on(async { ops::listing(&harness.hosts()) });
    assert!(run.all_ok(), "{:?}", run.results());
}
