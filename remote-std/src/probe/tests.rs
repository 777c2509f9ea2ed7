//! Every operation's script run on this machine, by its own shell and by a busybox userland (busybox's `sh`
//! with only busybox's applets on the `PATH`), and parsed: the scripts need nothing more than that.

use std::path::Path;
use std::process::Command;

use super::*;
use crate::{facts, metrics};

/// Each operation's probe, with a short interval where it has one.
fn probes() -> Vec<(&'static str, Probe)> {
    vec![
        ("cpu", metrics::cpu_probe(0.2, true)),
        ("ram", metrics::ram_probe()),
        ("load", metrics::load_probe()),
        ("net", metrics::net_probe(0.2)),
        ("disk", metrics::disk_probe(false)),
        ("disk_all", metrics::disk_probe(true)),
        ("entropy", metrics::entropy_probe()),
        ("os_info", facts::os_info_probe()),
        ("hardware", facts::hardware_probe()),
        ("processes", facts::processes_probe()),
        ("temperature", facts::temperature_probe()),
    ]
}

/// Values every Linux machine has, so a script that reads a file wrong (a byte at a time, say) is caught.
fn sane(data: &Data) -> bool {
    match data {
        Data::Cpu(cpu) => {
            (cpu.usr + cpu.nice + cpu.sys + cpu.idle + cpu.iowait + cpu.irq + cpu.softirq + cpu.steal - 100.0)
                .abs()
                < 0.5
        }
        Data::Ram(ram) => ram.total_bytes > 1 << 20 && ram.used_bytes <= ram.total_bytes,
        Data::Load(load) => load.cores >= 1 && load.tasks >= 1,
        Data::Net(net) => net.interfaces.iter().any(|i| i.name == "lo"),
        Data::Disk(disk) => disk.filesystems.iter().all(|f| f.used_bytes <= f.size_bytes),
        Data::Entropy(entropy) => entropy.pool_size_bits >= 256,
        Data::OsInfo(os) => !os.hostname.is_empty() && os.kernel.contains('.') && os.architecture.len() > 2,
        Data::Hardware(hardware) => {
            hardware.cores >= 1 && hardware.memory_bytes > 1 << 20 && hardware.cpu_model.len() > 1
        }
        Data::Processes(list) => list.processes.iter().any(|p| p.pid == 1),
        Data::Temperature(t) => !t.sensors.is_empty(),
        // Not read by these probes: `service` and `pkg_*` change hosts.
        Data::Service(_) | Data::Packages(_) => false,
    }
}

/// `shell -c` with `path` as the only `PATH`, or the inherited one.
fn shell(program: &str, args: &[&str], path: Option<&Path>) -> Command {
    let mut command = Command::new(program);
    command.args(args).arg("-c");
    if let Some(path) = path {
        command.env_clear().env("PATH", path);
    }
    command
}

fn check(userland: &str, make_shell: impl Fn() -> Command) {
    for (name, probe) in probes() {
        match (name, probe.run_locally(make_shell())) {
            (_, Ok(data)) => {
                assert_eq!(data.kind(), name.trim_end_matches("_all"), "{userland}");
                assert!(sane(&data), "{name} with {userland}: {data:?}");
            }
            // A machine without sensors says so; it is not a broken script.
            ("temperature", Err(err)) if err.contains("no sensors") => {}
            (_, Err(err)) => panic!("{name} with {userland}: {err}"),
        }
    }
}

#[test]
fn the_scripts_run_with_this_machines_shell() {
    check("sh", || shell("sh", &[], None));
}

#[test]
fn the_scripts_run_with_a_busybox_userland() {
    // `.ci/run` installs busybox; without it this test cannot tell anything, so it fails rather than pass.
    let busybox = ["/usr/bin/busybox", "/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox is not installed: `apt-get install busybox` (the test runs the scripts with busybox's applets only)");
    let applets = tempfile::tempdir().expect("temporary folder");
    let installed =
        Command::new(busybox).arg("--install").arg("-s").arg(applets.path()).status().expect("run busybox");
    assert!(installed.success(), "busybox --install -s failed");
    assert!(
        !applets.path().join("getconf").exists(),
        "busybox has getconf now: the fallback is no longer tested"
    );
    check("busybox", || shell(busybox, &["sh"], Some(applets.path())));
}

#[test]
fn a_missing_required_file_fails_the_script_in_both_shells() {
    let probe = Script::new()
        .read("/proc/does-not-exist")
        .read("/proc/uptime")
        .parsed_by("uptime", |_| unreachable!());
    for command in [shell("sh", &[], None), shell("busybox", &["sh"], None)] {
        let err = probe.run_locally(command).expect_err("a missing file");
        assert!(err.contains("exit status: 1") && err.contains("/proc/does-not-exist"), "{err}");
    }
}
