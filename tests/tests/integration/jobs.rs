//! Scheduled jobs at the live prompt, driven by `--script` and `wait` against real sshd: ticks over the
//! kept-open connections, the jobs table, quiet notices, mistakes caught at `watch`, and `quit` with a tick
//! running.

use std::time::{Duration, Instant};

use tests::{TestHosts, processes_with, remote};

/// Runs `lines` as a `remote live --script` against a fresh inventory of `hosts`.
fn script(hosts: &TestHosts, lines: &str) -> tests::CliOutput {
    script_with(hosts, lines, &[])
}

/// [`script`] with more options for `remote live`.
fn script_with(hosts: &TestHosts, lines: &str, extra: &[&str]) -> tests::CliOutput {
    let inventory = hosts.write_inventory(&[]);
    let script = hosts.dir().join("jobs.remote");
    std::fs::write(&script, lines).unwrap();
    let mut args =
        vec!["--inventory", inventory.to_str().unwrap(), "live", "--script", script.to_str().unwrap()];
    args.extend_from_slice(extra);
    remote(&args)
}

#[test]
fn a_job_ticks_over_the_open_connections_and_the_table_tells_its_story() {
    let hosts = TestHosts::start(2);
    // 3 s for at least 3 runs: on two cores shared with the suite's 200 MB copies a run can take half a
    // second, and the ticks it covers are skipped (counted in the table), not queued.
    let out =
        script(&hosts, "watch up every 200ms uptime(test)\nwait 3s\njobs\njobs up\nhalt up\njobs\nhalt up\n");
    // The last `halt up` has no job left to halt: the script stops there, with exit 2.
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("remote live: job up every 200ms: `uptime(test)`; next run "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("remote live: halted job up"), "{}", out.stderr);
    assert!(out.stderr.contains("error: there is no job `up`; `jobs` lists them"), "{}", out.stderr);
    let table =
        out.stdout.lines().skip_while(|l| !l.starts_with("NAME")).nth(1).unwrap_or_default().to_string();
    assert!(table.starts_with("up    every 200ms"), "{}", out.stdout);
    let runs: u64 = table.split_whitespace().rev().nth(2).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(runs >= 3, "only {runs} runs in 3 s: {table}");
    assert!(out.stdout.contains("job up (every 200ms: `uptime(test)`), last run at "), "{}", out.stdout);
    assert!(out.stdout.contains("Run summary: uptime on test (2 hosts: 2 ok, 0 failed"), "{}", out.stdout);
    assert!(
        out.stdout.contains("no jobs; `watch NAME SCHEDULE PIPELINE GROUP` starts one"),
        "{}",
        out.stdout
    );
    // Jobs print nothing of their own at the prompt: no run summaries but the one `jobs up` asked for.
    assert_eq!(out.stdout.matches("Run summary:").count(), 1, "{}", out.stdout);
    for server in hosts.sandbox.servers() {
        assert_eq!(
            server.log().matches("Accepted publickey").count(),
            1,
            "every tick used the one connection:\n{}",
            server.log()
        );
    }
}

#[test]
fn a_failing_job_is_told_once_keeps_its_schedule_and_a_replacement_says_so() {
    let hosts = TestHosts::start(1);
    let out = script(
        &hosts,
        "watch bad every 200ms exec(test, \"exit 3\")\nwait 1200ms\njobs\nwatch bad every 1s listing test\njobs\n",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr.matches("job bad: failing: 1 of 1 hosts failed (").count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains(": exited with status 3)"), "{}", out.stderr);
    let table =
        out.stdout.lines().skip_while(|l| !l.starts_with("NAME")).nth(1).unwrap_or_default().to_string();
    assert!(table.ends_with("exited with status 3"), "{}", out.stdout);
    assert!(
        out.stderr.contains("remote live: job bad replaced (it was `exec(test, \"exit 3\")` every 200ms)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("remote live: halted 1 job"),
        "the script's end halts the jobs: {}",
        out.stderr
    );
}

#[test]
fn mistakes_in_a_watch_line_are_caught_before_anything_is_scheduled() {
    let hosts = TestHosts::start(1);
    let cases = [
        ("watch x every 5 listing test", "`5` is not a duration"),
        ("watch x hourly listing test", "`hourly` is not a schedule"),
        ("watch x every 5s lsting test", "unknown pipeline `lsting`; did you mean `listing`?"),
        ("watch x every 5s listing tset", "unknown group `tset`"),
        ("watch x every 5s ls(test, \"/\"", "error:"),
        ("watch x every 5s lss(test, \"/\") | pretty", "unknown operation, step or pipeline `lss`"),
        ("watch x every 5s uptime(tset)", "unknown group `tset`"),
        ("watch x every 5s", "needs what to run"),
        ("watch all every 5s listing test", "`all` cannot name a job"),
        ("wait soon", "`soon` is not a duration"),
    ];
    for (line, expected) in cases {
        let out = script(&hosts, &format!("{line}\njobs\n"));
        assert_eq!(out.code, 2, "{line}: {}", out.stderr);
        assert!(out.stderr.contains(expected), "{line}:\n{}", out.stderr);
        assert!(!out.stdout.contains("NAME"), "{line}: a job was scheduled: {}", out.stdout);
    }
}

#[test]
fn the_end_of_the_script_halts_jobs_and_kills_a_tick_that_does_not_finish() {
    let hosts = TestHosts::start(1);
    let marker = format!("remote-job-{}", std::process::id());
    let started = Instant::now();
    let out = script(
        &hosts,
        &format!("watch slow every 200ms exec(test, \"sleep 60; echo {marker}\")\nwait 800ms\n"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(20), "leaving took {:?}", started.elapsed());
    assert!(out.stderr.contains("remote live: halted 1 job"), "{}", out.stderr);
    // Killed processes leave /proc once sshd has reaped them.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_with(&marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(processes_with(&marker).is_empty(), "the tick's command still runs on the host");
}

#[test]
fn stop_closes_every_connection_and_go_brings_the_jobs_back_from_the_init_file() {
    let hosts = TestHosts::start(1);
    let init = hosts.dir().join("init.remote");
    std::fs::write(&init, "watch up every 200ms uptime(test)\n").unwrap();
    let with_init = ["--init", init.to_str().unwrap()];
    let out = script_with(&hosts, "wait 800ms\njobs\nstop\njobs\ngo\nwait 800ms\njobs\n", &with_init);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr.matches(&format!("remote live: running {}", init.display())).count(),
        2,
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("remote live: stopped: halted 1 job, closed 1 connection;"),
        "{}",
        out.stderr
    );
    let tables: Vec<&str> = out.stdout.split("NAME  ").skip(1).collect();
    assert_eq!(tables.len(), 2, "{}", out.stdout);
    assert!(out.stdout.contains("no jobs;"), "after `stop` there are none: {}", out.stdout);
    // `stop` closed the connection (sshd logs the client's disconnect); the jobs after `go` logged in again.
    let log = hosts.sandbox.servers()[0].log();
    assert_eq!(log.matches("Accepted publickey").count(), 2, "{log}");
    assert!(log.contains("isconnect"), "{log}");

    // Without --init, .remote/init beside the inventory is the init file, looked for on each `go`: one
    // written after the start is read (the test hosts are this machine, so a line of the script can write
    // it).
    let folder = hosts.dir().join(".remote");
    let out = script(&hosts, "go\n");
    assert_eq!(out.code, 2, "{}", out.stderr);
    let hint = format!(
        "error: there is no init file to run: write {} (it is read on each `go`)",
        folder.join("init").display()
    );
    assert!(out.stderr.contains(&hint), "{}", out.stderr);
    let written = format!(
        "exec(test, \"mkdir -p {0} && echo 'watch late every 200ms uptime(test)' > {0}/init\") | pretty\ngo\njobs\n",
        folder.display()
    );
    let out = script(&hosts, &written);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("late  every 200ms"), "{}", out.stdout);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(&init, folder.join("init")).unwrap();
    let out = script(&hosts, "jobs\n");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("remote live: running {}", folder.join("init").display())),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("up    every 200ms"), "{}", out.stdout);
    let out = script_with(&hosts, "jobs\n", &["--init", "/nonexistent/init"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("init file /nonexistent/init does not exist"), "{}", out.stderr);
    // A `go` inside the init file is refused instead of running the file again and again.
    std::fs::write(&init, "go\n").unwrap();
    let out = script_with(&hosts, "jobs\n", &with_init);
    assert!(out.stderr.contains("`go` inside the init file would run it again and again"), "{}", out.stderr);
}

#[test]
fn a_job_set_from_ops_schedules_its_jobs_for_a_group() {
    let hosts = TestHosts::start(1);
    let out = script(&hosts, "stats_jobs test\njobs\nstats_jobs test\n");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("remote live: job set stats_jobs on test: cpu every 5s (next "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(", replaced)"), "the second time replaces the jobs: {}", out.stderr);
    for job in ["cpu", "ram", "load", "net", "disk"] {
        assert!(
            out.stdout.contains(&format!("{job}  ")) && out.stdout.contains("every 5s"),
            "{job}: {}",
            out.stdout
        );
    }
    // It is not a pipeline: `remote run` and expressions say what it is.
    let inventory = hosts.write_inventory(&[]);
    let out = remote(&["--inventory", inventory.to_str().unwrap(), "run", "stats_jobs", "test"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains(
            "`stats_jobs` is a job set, not a pipeline: at the `remote live` prompt, `stats_jobs test` schedules its jobs"
        ),
        "{}",
        out.stderr
    );
    let out = remote(&["--inventory", inventory.to_str().unwrap(), "eval", "stats_jobs(test)"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("`stats_jobs` is a job set, not a step of a pipeline"), "{}", out.stderr);
}
