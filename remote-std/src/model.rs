//! The model tested without sshd: prompt lines and pipelines run against a world in memory
//! ([`remote_core::memory`]), each case a line in and, out, the commands every host was asked and the summary
//! (or the error the prompt shows). `UPDATE_EXPECT=1 cargo test -p remote-std` rewrites the expectations
//! after a change that is meant.

use std::path::Path;
use std::sync::{Arc, Mutex};

use expect_test::{Expect, expect};
use remote_core::interpret::{self, Context};
use remote_core::memory::{Answer, MemoryWorld, host};
use remote_core::pretty::{self, View};
use remote_core::{Driver, Group, Groups, HostError, Hosts, On, Registry, Report, Run};

use crate::prelude::*;

/// Two groups: `web` (web-1, web-2, web-3) and `db` (db-1).
struct Inventory(Vec<Group>);

impl Inventory {
    fn new() -> Self {
        let group = |name: &str, hosts: &[&str]| Group {
            name: name.into(),
            hosts: hosts.iter().map(|h| host(h)).collect(),
        };
        Inventory(vec![group("db", &["db-1"]), group("web", &["web-1", "web-2", "web-3"])])
    }
}

impl Groups for Inventory {
    fn group(&self, name: &str) -> Option<&Group> {
        self.0.iter().find(|g| g.name == name)
    }

    fn names(&self) -> Vec<&str> {
        self.0.iter().map(|g| g.name.as_str()).collect()
    }

    fn origin(&self) -> &Path {
        Path::new("remote.toml")
    }
}

/// The table every case answers from: web-2 is down, web-3 has no `/srv`, db-1 says it is Debian.
fn world() -> MemoryWorld {
    MemoryWorld::new()
        .answer_on("web-2", "", Answer::fails(HostError::ConnectRefused { port: 22 }))
        .answer_on("web-3", "/srv", Answer::exit(2, "ls: cannot access '/srv': No such file or directory\n"))
        .answer("ls -la /srv", Answer::ok("total 0\napp\n"))
        .answer("ls -la /", Answer::ok("total 8\nbin\netc\n"))
        .answer("uptime", Answer::ok(" 10:00:00 up 3 days\n"))
        .answer("os-release", Answer::ok("ID=debian\n"))
        .answer("upload", Answer::ok(""))
        // What the dry-run previews print, as a shell would run them.
        .answer(
            "dry run: would run",
            Answer::ok(
                "dry run: would run rm -rf /var/cache/app; what it would change cannot be known beforehand\n",
            ),
        )
        .answer("would make the folder", Answer::ok("would make the folder /srv/app\n"))
}

/// The summary as a person reads it, without the run's time, which is all that changes from one run to the
/// next; and which hosts an operation that changes hosts says it changed (`--json`'s `changed`).
fn summary(report: &Report) -> String {
    let text = pretty::render(report, false);
    let mut lines: Vec<String> = text
        .lines()
        .map(|line| match line.rfind(", ") {
            Some(at) if line.starts_with("Run summary:") => format!("{}, …)", &line[..at]),
            _ => line.trim_end().to_string(),
        })
        .collect();
    let changed: Vec<String> =
        report.results.iter().filter_map(|r| Some(format!("{}={}", r.host, r.output()?.changed?))).collect();
    if !changed.is_empty() {
        lines.push(format!("changed: {}", changed.join(" ")));
    }
    lines.join("\n")
}

/// What a world was asked, one `host $ command` per line.
fn asked(world: &MemoryWorld) -> String {
    world.asked().iter().map(|(host, command)| format!("{host} $ {command}\n")).collect()
}

/// Runs `line` at the prompt (a dry run with `check`) and shows what each host was asked, what `pretty`
/// showed, and the run's summary, or the error the prompt shows.
fn run_line(line: &str, check: bool) -> String {
    let world = Arc::new(world());
    world.set_check(check);
    let shown = Arc::new(Mutex::new(Vec::new()));
    let record = shown.clone();
    let show = move |report: &Report, _: View| record.lock().unwrap().push(summary(report));
    let registry = Registry::new(None);
    let inventory = Inventory::new();
    let context = Context {
        inventory: &inventory,
        driver: Driver::new(world.clone(), Arc::new(show)),
        registry: &registry,
        library: None,
    };
    let outcome = match interpret::eval(line, &context) {
        Ok(run) => format!("{}\n", summary(run.report())),
        Err(error) => error.render(line),
    };
    let shown: Vec<String> = shown.lock().unwrap().iter().map(|s| format!("pretty:{s}\n")).collect();
    format!("{}{}{outcome}", asked(&world), shown.concat())
}

fn check(line: &str, expected: Expect) {
    expected.assert_eq(&run_line(line, false));
}

fn check_dry(line: &str, expected: Expect) {
    expected.assert_eq(&run_line(line, true));
}

#[test]
fn a_line_runs_on_every_host_of_its_group() {
    check(
        r#"ls(db, "/", "-la")"#,
        expect![[r#"
            db-1 $ ls -la /

            Run summary: ls -la / on db (1 host: 1 ok, 0 failed, …)

              ✔ db-1
                  total 8
                  bin
                  etc

        "#]],
    );
}

#[test]
fn a_failed_host_is_carried_to_the_end_and_asked_nothing_more() {
    check(
        r#"ls(web, "/srv", "-la") | exec("uptime") | pretty"#,
        expect![[r#"
            web-1 $ ls -la /srv
            web-1 $ uptime
            web-2 $ ls -la /srv
            web-3 $ ls -la /srv
            pretty:
            Run summary: uptime on web (3 hosts: 1 ok, 2 failed, …)

              ✖ web-2  connection refused (is sshd running on port 22?)
              ✖ web-3  exited with status 2
                  ls: cannot access '/srv': No such file or directory
              ✔ web-1   10:00:00 up 3 days


            Run summary: uptime on web (3 hosts: 1 ok, 2 failed, …)

              ✖ web-2  connection refused (is sshd running on port 22?)
              ✖ web-3  exited with status 2
                  ls: cannot access '/srv': No such file or directory
              ✔ web-1   10:00:00 up 3 days

        "#]],
    );
}

#[test]
fn pick_keeps_the_hosts_its_predicate_passes() {
    check(
        r#"ls(web, "/srv", "-la") | pick(failed)"#,
        expect![[r#"
            web-1 $ ls -la /srv
            web-2 $ ls -la /srv
            web-3 $ ls -la /srv

            Run summary: ls -la /srv on web (2 hosts: 0 ok, 2 failed, …)

              ✖ web-2  connection refused (is sshd running on port 22?)
              ✖ web-3  exited with status 2
                  ls: cannot access '/srv': No such file or directory

        "#]],
    );
    check(
        r#"ls(web, "/srv", "-la") | pick(successful) | exec("uptime")"#,
        expect![[r#"
            web-1 $ ls -la /srv
            web-1 $ uptime
            web-2 $ ls -la /srv
            web-3 $ ls -la /srv

            Run summary: uptime on web (1 host: 1 ok, 0 failed, …)

              ✔ web-1   10:00:00 up 3 days

        "#]],
    );
    check(
        r#"query(db, "cat /etc/os-release") | pick(stdout_has("ID=debian"))"#,
        expect![[r#"
            db-1 $ cat /etc/os-release

            Run summary: cat /etc/os-release on db (1 host: 1 ok, 0 failed, …)

              ✔ db-1  ID=debian

        "#]],
    );
    check(
        r#"ls(web, "/srv", "-la") | pick(stdout_has("nothing like this"))"#,
        expect![[r#"
            web-1 $ ls -la /srv
            web-2 $ ls -la /srv
            web-3 $ ls -la /srv

            Run summary: ls -la /srv on web (0 hosts: 0 ok, 0 failed, …)


        "#]],
    );
}

#[test]
fn a_dry_run_runs_nothing_that_changes_hosts() {
    // A command whose changes cannot be known is not run; the host is still reached and says so.
    check_dry(
        r#"exec(db, "rm -rf /var/cache/app")"#,
        expect![[r#"
        db-1 $ printf 'dry run: would run %s; what it would change cannot be known beforehand
        ' 'rm -rf /var/cache/app'

        Run summary: rm -rf /var/cache/app on db (1 host: 1 ok, 0 failed, …)

          ✔ db-1  dry run: would run rm -rf /var/cache/app; what it would change cannot be known beforehand

    "#]],
    );
    // An operation that can say what it would change runs that instead.
    check_dry(
        r#"mkdir(db, "/srv/app", "-p")"#,
        expect![[r#"
        db-1 $ if [ -d /srv/app ]; then :; elif [ -e /srv/app ]; then { printf 'mkdir would fail: %s exists and is not a folder\n' /srv/app >&2; exit 1; }; else printf 'would make the folder %s\n' /srv/app; fi

        Run summary: mkdir -p /srv/app on db (1 host: 1 ok, 0 failed, …)

          ✔ db-1  would make the folder /srv/app

        changed: db-1=true
    "#]],
    );
    // A command that only reads runs as it is.
    check_dry(
        r#"query(db, "cat /etc/os-release")"#,
        expect![[r#"
        db-1 $ cat /etc/os-release

        Run summary: cat /etc/os-release on db (1 host: 1 ok, 0 failed, …)

          ✔ db-1  ID=debian

    "#]],
    );
    // A copy goes to the world, which is told it is a dry run (`World::checking`): the transport then sends
    // nothing and says what it would send (tested against sshd).
    check_dry(
        r#"upload(db, "/etc/hosts", "/tmp/hosts")"#,
        expect![[r#"
            db-1 $ upload /etc/hosts /tmp/hosts

            Run summary: upload /etc/hosts to /tmp/hosts on db (1 host: 1 ok, 0 failed, …)

              ✔ db-1

            changed: db-1=true
        "#]],
    );
}

#[test]
fn every_error_of_the_prompt_says_what_where_and_how_to_fix() {
    check(
        r#"lss(web, "/", "-la")"#,
        expect![[r#"
        error: unknown operation, step or pipeline `lss` (column 1)
          lss(web, "/", "-la")
          ^^^
          help: did you mean `ls`?
    "#]],
    );
    check(
        r#"ls(wbe, "/", "-la")"#,
        expect![[r#"
        error: unknown group `wbe` in remote.toml (column 4)
          ls(wbe, "/", "-la")
             ^^^
          help: did you mean `web`?
    "#]],
    );
    check(
        r#"ls(nowhere, "/", "-la")"#,
        expect![[r#"
        error: unknown group `nowhere` in remote.toml (column 4)
          ls(nowhere, "/", "-la")
             ^^^^^^^
          help: groups: db, web
    "#]],
    );
    check(
        r#"ls(42, "/", "-la")"#,
        expect![[r#"
            error: the first argument of the first step is the host set: a group name from the inventory, or a host-set expression in quotes ("web - web-[03]") (column 4)
              ls(42, "/", "-la")
                 ^^
              help: groups: db, web
        "#]],
    );
    check(
        r#"ls("web - nowhere", "/", "-la")"#,
        expect![[r#"
            error: `nowhere` is no group or host of remote.toml (column 4)
              ls("web - nowhere", "/", "-la")
                 ^^^^^^^^^^^^^^^
        "#]],
    );
    check(
        r#"ls(web, "/", "-la", "extra")"#,
        expect![[r#"
        error: `ls` takes 1 to 2 argument(s) after the host set, got 3 (column 1)
          ls(web, "/", "-la", "extra")
          ^^
          help: it is called as `ls(hs, target: string, flags: string = "")`
    "#]],
    );
    check(
        r#"ls(web, 3)"#,
        expect![[r#"
        error: `target` of `ls` is a string, but this is an integer (column 9)
          ls(web, 3)
                  ^
    "#]],
    );
    check(
        r#"ls(web, "/") | prety"#,
        expect![[r#"
        error: unknown operation, step or pipeline `prety` (column 16)
          ls(web, "/") | prety
                         ^^^^^
          help: did you mean `pretty`?
    "#]],
    );
    check(
        r#"ls(web, "/") | pick(ls)"#,
        expect![[r#"
        error: `ls` is an operation and cannot be used here (column 21)
          ls(web, "/") | pick(ls)
                              ^^
          help: `remote list` shows them all; here it takes one of: successful, failed, stdout_has, above, below
    "#]],
    );
    check(
        r#"ls(web, "/") | pick(above(nothing, 3))"#,
        expect![[r#"
        error: unknown field `nothing` (column 27)
          ls(web, "/") | pick(above(nothing, 3))
                                    ^^^^^^^
          help: `remote list` shows them all; here it takes one of: usr, nice, sys, idle, iowait, irq, softirq, steal, busy, used, available, ram_used_percent, swap_used, load1, load5, load15, load_per_core, rx_bytes_per_sec, tx_bytes_per_sec, rx_packets_per_sec, tx_packets_per_sec, disk_used_percent, disk_used_byt…
    "#]],
    );
    check(
        r#"ls(web, "/") |"#,
        expect![[r#"
        error: trailing `|`: expected a step after it (or remove it) (column 14)
          ls(web, "/") |
                       ^
    "#]],
    );
    check(
        r#"ls(web, "/") || pretty"#,
        expect![[r#"
        error: doubled `|`: expected a step between the two pipes (or remove one) (column 14)
          ls(web, "/") || pretty
                       ^^
    "#]],
    );
    check(
        r#"pretty(web)"#,
        expect![[r#"
        error: `pretty` is a step: it works on the run of the step before it, so it cannot start a pipeline (column 1)
          pretty(web)
          ^^^^^^
          help: start with an operation or pipeline on a group, e.g. `ls(sandbox, "/", "-la") | pretty`
    "#]],
    );
    check(
        r#"ls(web, "/") | ls(web, "/")"#,
        expect![[r#"
        error: `web` again: a step after `|` runs on the hosts that succeeded in the step before it; remove `web` here (column 19)
          ls(web, "/") | ls(web, "/")
                            ^^^
    "#]],
    );
    check(
        r#"cpu(web) | publish(stock("Idle", [idle, idle]))"#,
        expect![[r#"
        error: `idle` is in this stock twice (column 41)
          cpu(web) | publish(stock("Idle", [idle, idle]))
                                                  ^^^^
          help: a stock is `stock("Title", field)` or `stock("Title", [field, …])`, e.g. `stock("Idle CPU", idle)` or `stock("CPU", [usr, sys])`, smoothed by `sliding(stock(…), 12)` or with fleet lines by `fleet(stock(…))`
    "#]],
    );
    check(
        r#"cpu(web) | publish(stock("Disk and CPU", [idle, disk_used_percent]))"#,
        expect![[r#"
        error: the fields of a stock are of one kind of data, but `idle` is cpu data and `disk_used_percent` disk data (column 49)
          cpu(web) | publish(stock("Disk and CPU", [idle, disk_used_percent]))
                                                          ^^^^^^^^^^^^^^^^^
          help: a stock is `stock("Title", field)` or `stock("Title", [field, …])`, e.g. `stock("Idle CPU", idle)` or `stock("CPU", [usr, sys])`, smoothed by `sliding(stock(…), 12)` or with fleet lines by `fleet(stock(…))`
    "#]],
    );
    check(
        r#"cpu(web) | publish(sliding(stock("Idle", idle), 0))"#,
        expect![[r#"
        error: `sliding` needs at least 1 reading (column 20)
          cpu(web) | publish(sliding(stock("Idle", idle), 0))
                             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
          help: a stock is `stock("Title", field)` or `stock("Title", [field, …])`, e.g. `stock("Idle CPU", idle)` or `stock("CPU", [usr, sys])`, smoothed by `sliding(stock(…), 12)` or with fleet lines by `fleet(stock(…))`
    "#]],
    );
}

#[test]
fn a_pipeline_in_rust_asks_the_same_as_the_line_at_the_prompt() {
    let world = Arc::new(world());
    let inventory = Inventory::new();
    let web = inventory.group("web").unwrap();
    let hosts =
        Hosts::new("web", web.hosts.clone(), Driver::new(world.clone(), Arc::new(|_: &Report, _: View| {})));
    let run: Run = pipeline!(ls(&hosts, "/srv", "-la") | pick(successful));
    expect![[r#"
        web-1 $ ls -la /srv
        web-2 $ ls -la /srv
        web-3 $ ls -la /srv

        Run summary: ls -la /srv on web (1 host: 1 ok, 0 failed, …)

          ✔ web-1
              total 0
              app

    "#]]
    .assert_eq(&format!("{}{}\n", asked(&world), summary(run.report())));
    assert_eq!(
        asked(&world),
        run_line(r#"ls(web, "/srv", "-la") | pick(successful)"#, false)
            .split("\n\n")
            .next()
            .unwrap()
            .to_string()
            + "\n"
    );
}

#[test]
fn retain_and_sort_by_narrow_and_reorder_but_never_invent_a_host() {
    let world = Arc::new(world());
    let inventory = Inventory::new();
    let web = inventory.group("web").unwrap();
    let hosts =
        Hosts::new("web", web.hosts.clone(), Driver::new(world.clone(), Arc::new(|_: &Report, _: View| {})));
    let run = On::Hosts(hosts).read("ls", "ls -la /srv");
    let names = |run: &Run| run.results().iter().map(|r| r.host.as_str()).collect::<Vec<_>>().join(" ");
    let sorted = run.clone().sort_by(|a, b| b.host.cmp(&a.host));
    assert_eq!(names(&sorted), "web-3 web-2 web-1");
    assert_eq!(
        sorted.hosts().specs().iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["web-1", "web-2", "web-3"]
    );
    let kept = run.retain(|r| r.host != "web-2");
    assert_eq!(names(&kept), "web-1 web-3");
    // The host set narrows with the results: a later step asks only the hosts that are left.
    let next = exec(kept, "uptime");
    assert_eq!(names(&next), "web-1 web-3");
    expect![[r#"
        web-1 $ ls -la /srv
        web-1 $ uptime
        web-2 $ ls -la /srv
        web-3 $ ls -la /srv
    "#]]
    .assert_eq(&asked(&world));
}

#[test]
fn the_registry_lists_every_builtin_with_its_signature() {
    // What `remote list` and completion offer without ops: a change here is a change users see.
    let registry = Registry::new(None);
    let listed: String =
        registry.entries().iter().map(|entry| format!("{} {}\n", entry.kind, entry.signature())).collect();
    expect![[r#"
        operation os_info(hs)
        operation hardware(hs)
        operation processes(hs, filter: string = "")
        operation temperature(hs)
        operation cpu(hs)
        operation cpu_over(hs, interval: string)
        operation cpu_cores(hs, interval: string = "1s")
        operation ram(hs)
        operation load(hs)
        operation net(hs)
        operation net_over(hs, interval: string)
        operation disk(hs)
        operation disk_all(hs)
        operation entropy(hs)
        operation ls(hs, target: string, flags: string = "")
        operation mkdir(hs, folder: string, flags: string = "")
        operation rm(hs, target: string, flags: string = "")
        operation upload(hs, local: string, remote: string)
        operation sync(hs, local_dir: string, remote_dir: string, options: string = "")
        operation download(hs, remote: string, local_dir: string)
        operation sudo(hs)
        operation exec(hs, script: string)
        operation query(hs, script: string)
        operation nohup(hs, script: string)
        operation extract(hs, archive: string, dest: string)
        operation ping(hs, target: string)
        operation uptime(hs)
        operation pkg_update(hs)
        operation pkg_upgrade(hs)
        operation pkg_install(hs, names: string)
        operation pkg_remove(hs, names: string)
        operation service(hs, name: string, action: string)
        step pretty(run)
        step pretty_all(run)
        step diff(run)
        step fail(run, reason: string)
        step table(run)
        step email(run, to: string, subject: string)
        step notify(run, subject: string)
        step webhook(run, url: string)
        step pick(run, keep: predicate)
        predicate successful
        predicate failed
        predicate stdout_has(text: string)
        predicate above(field: field, threshold: number)
        predicate below(field: field, threshold: number)
        step collect(run)
        step publish(run, stock: stock)
        field usr
        field nice
        field sys
        field idle
        field iowait
        field irq
        field softirq
        field steal
        field busy
        field used
        field available
        field ram_used_percent
        field swap_used
        field load1
        field load5
        field load15
        field load_per_core
        field rx_bytes_per_sec
        field tx_bytes_per_sec
        field rx_packets_per_sec
        field tx_packets_per_sec
        field disk_used_percent
        field disk_used_bytes
        field disk_available_bytes
        field entropy_bits
        field uptime_seconds
        field core_count
        field memory_bytes
        field process_count
        field process_cpu_percent
        field process_memory_bytes
        field service_active
        field service_restarts
        field service_memory_bytes
        field pending_upgrades
        field celsius
    "#]]
    .assert_eq(&listed);
}
