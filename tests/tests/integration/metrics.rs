//! Metrics and facts on real hosts: every operation's typed data is there and sane, in `--json`, `pretty`,
//! `table`, `pick` at the prompt and in `pipeline!`; a host that cannot run them fails alone.

use std::sync::Arc;

use remote_config::Inventory;
use remote_core::Driver;
use remote_core::pretty::View;
use remote_ssh::pool::{ExecOptions, PoolConfig, SessionPool};
use remote_ssh::world::SessionWorld;
use remote_std::prelude::*;
use serde_json::Value;
use tests::{TestHosts, remote};

/// Three hosts; the last one's login runs `/bin/false` whatever is asked, as a login whose shell is
/// `/bin/false`.
fn hosts_with_a_broken_login() -> TestHosts {
    let mut hosts = TestHosts::start(3);
    hosts.sandbox.server_mut(2).configure("ForceCommand /bin/false").expect("reconfigure sshd");
    hosts
}

/// `remote eval EXPR --json` on the group `test`: exit code and the per-host results.
fn eval_json(hosts: &TestHosts, expression: &str) -> (i32, Vec<Value>) {
    let inventory = hosts.write_inventory(&[]);
    let out = remote(&["--inventory", inventory.to_str().unwrap(), "eval", expression, "--json"]);
    let document: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{expression}: {e}\n{}\n{}", out.stdout, out.stderr));
    (out.code, document["results"].as_array().cloned().unwrap_or_default())
}

fn number(data: &Value, field: &str) -> f64 {
    data[field].as_f64().unwrap_or_else(|| panic!("`{field}` is not a number in {data}"))
}

#[test]
fn every_operation_reads_sane_values_and_one_broken_host_fails_alone() {
    let hosts = hosts_with_a_broken_login();
    let folder = hosts.dir().to_string_lossy().into_owned();
    // Each operation with a check of its data on one host.
    type Check = Box<dyn Fn(&Value)>;
    let checks: Vec<(&str, Check)> = vec![
        (
            "cpu(test)",
            Box::new(|d| {
                let sum: f64 = ["usr", "nice", "sys", "idle", "iowait", "irq", "softirq", "steal"]
                    .iter()
                    .map(|f| number(d, f))
                    .sum();
                assert!((sum - 100.0).abs() < 0.5, "{d}");
                // 1 s asked; a loaded 2-core machine may stretch it, never shorten it.
                assert!((990.0..=3000.0).contains(&number(d, "interval_ms")), "{d}");
            }),
        ),
        (
            "cpu_cores(test, \"500ms\")",
            Box::new(|d| {
                let cores = d["cores"].as_array().unwrap();
                assert!(!cores.is_empty(), "{d}");
                assert!(cores.iter().all(|c| (0.0..=100.0).contains(&number(c, "idle"))), "{d}");
            }),
        ),
        (
            "ram(test)",
            Box::new(|d| {
                let total = number(d, "total_bytes");
                assert!(
                    total > 0.0 && number(d, "used_bytes") <= total && number(d, "available_bytes") <= total,
                    "{d}"
                );
                assert!(number(d, "swap_used_bytes") <= number(d, "swap_total_bytes"), "{d}");
            }),
        ),
        (
            "load(test)",
            Box::new(|d| {
                assert!(
                    number(d, "cores") >= 1.0 && number(d, "load1") >= 0.0 && number(d, "tasks") >= 1.0,
                    "{d}"
                );
            }),
        ),
        (
            "net_over(test, \"300ms\")",
            Box::new(|d| {
                let interfaces = d["interfaces"].as_array().unwrap();
                assert!(interfaces.iter().any(|i| i["name"] == "lo"), "{d}");
                assert!(
                    interfaces
                        .iter()
                        .all(|i| number(i, "rx_bytes_per_sec") >= 0.0 && i["default_route"].is_boolean()),
                    "{d}"
                );
            }),
        ),
        (
            "disk(test)",
            Box::new(|d| {
                let filesystems = d["filesystems"].as_array().unwrap();
                assert!(filesystems.iter().any(|f| f["mount"] == "/"), "{d}");
                for f in filesystems {
                    assert!(number(f, "used_bytes") <= number(f, "size_bytes"), "{f}");
                    assert!((0.0..=100.0).contains(&number(f, "used_percent")), "{f}");
                    assert_ne!(f["fs_type"], "tmpfs", "{f}");
                }
            }),
        ),
        ("entropy(test)", Box::new(|d| assert!(number(d, "pool_size_bits") >= 256.0, "{d}"))),
        (
            "os_info(test)",
            Box::new(|d| {
                assert!(
                    !d["kernel"].as_str().unwrap().is_empty()
                        && !d["architecture"].as_str().unwrap().is_empty(),
                    "{d}"
                );
                assert!(number(d, "uptime_seconds") > 0.0, "{d}");
            }),
        ),
        (
            "hardware(test)",
            Box::new(|d| assert!(number(d, "cores") >= 1.0 && number(d, "memory_bytes") > 0.0, "{d}")),
        ),
        (
            "processes(test, \"sshd\")",
            Box::new(move |d| {
                let list = d["processes"].as_array().unwrap();
                // This test's own sshd servers, started with their config files in its folder, are among
                // them.
                let ours = list.iter().filter(|p| p["command"].as_str().unwrap().contains(&folder)).count();
                assert!(ours >= 3, "{ours} of this test's sshd servers listed: {d}");
                assert!(
                    list.iter()
                        .all(|p| p["command"].as_str().unwrap().contains("sshd") && number(p, "pid") >= 1.0),
                    "{d}"
                );
                assert!(
                    list.iter().all(|p| p["user"].is_string() && number(p, "memory_bytes") >= 0.0),
                    "{d}"
                );
            }),
        ),
    ];
    for (expression, check) in &checks {
        let (code, results) = eval_json(&hosts, expression);
        assert_eq!(code, 1, "{expression}: the broken host fails the run");
        assert_eq!(results.len(), 3, "{expression}");
        for result in &results[..2] {
            assert_eq!(result["ok"], true, "{expression}: {result}");
            check(&result["data"]);
        }
        assert_eq!(results[2]["ok"], false, "{expression}: {}", results[2]);
        // Its login ends before any command starts; that is said, not a bare "exited with status 1".
        assert_eq!(
            results[2]["error"],
            "the host's login did not run the command: it ended with status 1 before the command started; check the \
             account's login shell (/bin/false and nologin run nothing) and sshd's ForceCommand",
            "{expression}"
        );
        assert!(results[2].get("data").is_none(), "{expression}");
    }
}

#[test]
fn a_host_whose_output_does_not_read_fails_alone_with_the_file_and_line() {
    let mut hosts = TestHosts::start(3);
    // The last host's `df` prints a line no df prints; the others have the real one.
    let bin = hosts.dir().join("odd-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let df = bin.join("df");
    std::fs::write(
        &df,
        "#!/bin/sh\necho 'Filesystem 1024-blocks Used Available Capacity Mounted on'\necho '/dev/sda1 lots of space'\n",
    )
    .unwrap();
    std::fs::set_permissions(&df, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("SetEnv PATH={}:/usr/local/bin:/usr/bin:/bin", bin.display());
    hosts.sandbox.server_mut(2).configure(&path).expect("reconfigure sshd");
    let (code, results) = eval_json(&hosts, "disk(test)");
    assert_eq!(code, 1);
    let verdicts: Vec<&Value> = results.iter().map(|r| &r["ok"]).collect();
    assert_eq!(verdicts, [&Value::Bool(true), &Value::Bool(true), &Value::Bool(false)], "{results:?}");
    assert!(results[0]["data"]["filesystems"].is_array(), "{results:?}");
    assert_eq!(
        results[2]["error"],
        "`disk` cannot read df -P -k line 2: a filesystem line has a device, size, used and available in 1024-byte \
         blocks, the capacity (`41%`) and the mount point (the line reads `/dev/sda1 lots of space`)"
    );
}

#[test]
fn temperature_says_why_a_host_without_sensors_has_none() {
    let hosts = TestHosts::start(1);
    let (code, results) = eval_json(&hosts, "temperature(test)");
    // As the operation reads them: a thermal zone with a `temp`, or a hwmon chip with a `temp*_input`.
    let has = |dir: &str, wanted: &dyn Fn(&str) -> bool| {
        std::fs::read_dir(dir).is_ok_and(|d| {
            d.flatten().any(|e| {
                std::fs::read_dir(e.path())
                    .is_ok_and(|f| f.flatten().any(|f| wanted(&f.file_name().to_string_lossy())))
            })
        })
    };
    let sensors_here = has("/sys/class/thermal", &|f| f == "temp")
        || has("/sys/class/hwmon", &|f| f.starts_with("temp") && f.ends_with("_input"));
    if sensors_here {
        assert_eq!(code, 0, "{results:?}");
        assert!(results[0]["data"]["sensors"].as_array().is_some_and(|s| !s.is_empty()), "{results:?}");
    } else {
        assert_eq!(code, 1);
        let error = results[0]["error"].as_str().unwrap();
        assert!(error.starts_with("`temperature`: no sensors"), "{error}");
    }
}

#[test]
fn pretty_table_and_pick_on_a_typed_field_at_the_prompt() {
    let hosts = hosts_with_a_broken_login();
    let inventory = hosts.write_inventory(&[]);
    let script = hosts.dir().join("metrics.remote");
    let lines = [
        "cpu(test) | pretty",
        "disk(test) | table",
        // Every host has a filesystem more than 0% used, none one more than 100%.
        "disk(test) | pick(above(disk_used_percent, 0)) | pretty",
        "disk(test) | pick(above(disk_used_percent, 100)) | pretty",
    ];
    std::fs::write(&script, lines.join("\n")).unwrap();
    let out =
        remote(&["--inventory", inventory.to_str().unwrap(), "live", "--script", script.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let entries = hosts.sandbox.host_entries();
    // One line per host, the values named.
    assert!(out.stdout.contains(&format!("✔ {}  cpu  usr ", entries[0])), "{}", out.stdout);
    assert!(out.stdout.contains("%  idle "), "{}", out.stdout);
    // A table row for each working host's root filesystem, and the broken host named below it.
    assert!(out.stdout.contains("host") && out.stdout.contains("used_percent"), "{}", out.stdout);
    assert!(
        out.stdout.lines().any(|l| l.starts_with(&format!("  {}", entries[1])) && l.contains(" / ")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("without data: {} (the host's login did not run the command: ", entries[2])),
        "{}",
        out.stdout
    );
    // `pick` keeps the two working hosts, then none.
    assert!(out.stdout.contains("Run summary: disk on test (2 hosts: 2 ok, 0 failed"), "{}", out.stdout);
    assert!(out.stderr.contains("no hosts are left in the run"), "{}", out.stderr);

    // A typo in a field is refused with a suggestion, before anything runs.
    let out = remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "eval",
        "disk(test) | pick(above(disk_usd_percent, 85))",
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("unknown field `disk_usd_percent`")
            && out.stderr.contains("did you mean `disk_used_percent`?"),
        "{}",
        out.stderr
    );
    // A field of other data than the hosts carry would drop every host: refused, with the fields that fit.
    let out = remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "eval",
        "disk(test) | pretty | pick(above(used, 80))",
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("`used` is a field of ram data, but the hosts carry disk data here (from `disk`)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("help: the fields of disk data are: disk_used_percent"), "{}", out.stderr);

    // Output cut short by the budget is not read as if it were whole.
    let out = remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "eval",
        "processes(test)",
        "--max-output",
        "2k",
        "--json",
    ]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("`processes`: its output was cut short"), "{}", out.stdout);
}

#[test]
fn remote_list_shows_each_operation_with_its_fields() {
    let out = remote(&["list"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let after = |name: &str| {
        let lines: Vec<&str> = out.stdout.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("{name}: {}", out.stdout));
        lines[at + 1].trim().to_string()
    };
    assert_eq!(after("cpu(hs)"), "fields: usr nice sys idle iowait irq softirq steal busy");
    assert_eq!(after("disk(hs)"), "fields: disk_used_percent disk_used_bytes disk_available_bytes");
    assert!(
        out.stdout.contains("Fields (of typed data")
            && out.stdout.lines().any(
                |l| l.trim_start().starts_with("disk_used_percent") && l.contains("  disk: Space in use")
            ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("above(field: field, threshold: number)"), "{}", out.stdout);

    let out = remote(&["list", "--json"]);
    let entries: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    let ram = entries.iter().find(|e| e["name"] == "ram").unwrap();
    assert_eq!((ram["data"].clone(), ram["fields"][0].clone()), (Value::from("ram"), Value::from("used")));
    assert!(entries.iter().any(|e| e["name"] == "idle" && e["kind"] == "field"));
}

/// The seed's low-disk pipeline, in one line of Rust.
fn nearly_full(hs: &Hosts, percent: f64) -> Run {
    pipeline!(disk(hs) | pick(above(disk_used_percent, percent)))
}

#[test]
fn pick_on_a_typed_field_in_rust_and_data_by_type() {
    let hosts = hosts_with_a_broken_login();
    let runtime = tests::runtime();
    let world = SessionWorld::new(
        SessionPool::new(PoolConfig::default()),
        runtime.handle().clone(),
        ExecOptions::default(),
    );
    let driver = Driver::new(Arc::new(world), Arc::new(|_: &Report, _: View| {}));
    let inventory = Inventory::load(&hosts.write_inventory(&[])).unwrap();
    let group = inventory.group("test").unwrap();
    let hs = Hosts::new(&group.name, group.hosts.clone(), driver);

    let entries = hosts.sandbox.host_entries();
    let kept: Vec<String> = nearly_full(&hs, 0.0).results().iter().map(|r| r.host.clone()).collect();
    assert_eq!(kept, entries[..2]);
    assert!(nearly_full(&hs, 100.0).results().is_empty());

    // A step reads the value by type; the broken host has none.
    let run = cpu(&hs);
    let idle: Vec<Option<f64>> = run.results().iter().map(|r| r.data::<Cpu>().map(|c| c.idle)).collect();
    assert!(idle[..2].iter().all(|i| i.is_some_and(|i| (0.0..=100.0).contains(&i))), "{idle:?}");
    assert_eq!(idle[2], None);
    assert!(run.results()[0].data::<Ram>().is_none(), "a Cpu is not a Ram");
    let busy: Vec<f64> = run.results()[..2].iter().flat_map(|r| busy().of(r)).map(|(_, v)| v).collect();
    assert_eq!(busy.len(), 2);
}
