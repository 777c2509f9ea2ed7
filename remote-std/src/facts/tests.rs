//! The fact parsers on recorded files: this machine's, busybox's, and made-up ones for machines this is not
//! (Alpine, a Raspberry Pi, a laptop with sensors).

use super::*;
use crate::probe::Parser;

macro_rules! recorded {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/", $path))
    };
}

fn parse(operation: &'static str, parser: Parser, files: &[(&str, &str)]) -> Result<Data, HostError> {
    parser(&Reading::from_files(operation, files))
}

#[test]
fn os_info_from_os_release_and_the_kernel() {
    let check = |release: &str, virt: &str, expected: (&str, &str, &str, Option<&str>)| {
        let files = [
            ("/etc/os-release", release),
            ("/proc/sys/kernel/hostname", "web-1\n"),
            ("/proc/sys/kernel/osrelease", "6.1.0-13-amd64\n"),
            ("uname -m", "x86_64\n"),
            ("/proc/uptime", "273600.25 100.0\n"),
            ("virtualization", virt),
        ];
        let Ok(Data::OsInfo(os)) = parse("os_info", parse_os_info, &files) else { panic!("{release}") };
        assert_eq!(
            (
                os.distribution.as_str(),
                os.version.as_str(),
                os.pretty_name.as_str(),
                os.virtualization.as_deref()
            ),
            expected
        );
        assert_eq!(
            (os.hostname.as_str(), os.kernel.as_str(), os.architecture.as_str(), os.uptime_seconds),
            ("web-1", "6.1.0-13-amd64", "x86_64", 273600.25)
        );
    };
    check(
        recorded!("this-machine/os-release"),
        "systemd docker\ncontainer docker\nflag hypervisor",
        ("debian", "12", "Debian GNU/Linux 12 (bookworm)", Some("docker")),
    );
    check(
        recorded!("synthetic/os-release-alpine"),
        "container docker\n",
        ("alpine", "3.19.1", "Alpine Linux v3.19", Some("docker")),
    );
    check(
        "ID='arch'\nPRETTY_NAME=\"Arch \\\"Linux\\\"\"",
        "vendor QEMU\nproduct Standard PC (Q35 + ICH9, 2009)\nflag hypervisor",
        ("arch", "", "Arch \"Linux\"", Some("qemu")),
    );
    check("", "systemd none\n", ("", "", "", Some("none")));
    check("", "flag hypervisor\n", ("", "", "", Some("vm (unknown hypervisor)")));
    check("", "vendor Dell Inc.\nproduct PowerEdge R640", ("", "", "", None));
}

#[test]
fn hardware_from_cpuinfo_meminfo_and_block_devices() {
    type Disks<'a> = &'a [(&'a str, u64, Option<bool>)];
    let check = |cpuinfo: &str, block: &str, expected: (&str, u32, Disks)| {
        let files =
            [("/proc/cpuinfo", cpuinfo), ("/proc/meminfo", "MemTotal:  2048 kB\n"), ("/sys/block", block)];
        let Ok(Data::Hardware(hw)) = parse("hardware", parse_hardware, &files) else { panic!("{cpuinfo}") };
        let disks: Vec<(&str, u64, Option<bool>)> =
            hw.disks.iter().map(|d| (d.name.as_str(), d.size_bytes, d.rotational)).collect();
        assert_eq!((hw.cpu_model.as_str(), hw.cores, disks.as_slice()), expected);
        assert_eq!(hw.memory_bytes, 2048 * 1024);
    };
    // Loop devices and an unused zram device (size 0) are left out.
    check(
        recorded!("this-machine/cpuinfo"),
        recorded!("this-machine/block"),
        ("Intel(R) Xeon(R) Processor", 2, &[("vda", 536870912 * 512, Some(true))]),
    );
    check(
        recorded!("synthetic/cpuinfo-raspberry-pi"),
        "mmcblk0 62333952 0\nram0 8192 0\nsda 1000 -\n",
        ("BCM2835", 2, &[("mmcblk0", 62333952 * 512, Some(false)), ("sda", 512000, None)]),
    );
    let files = [("/proc/cpuinfo", ""), ("/proc/meminfo", "MemTotal: 1 kB"), ("/sys/block", "sda big 0")];
    let err = parse("hardware", parse_hardware, &files).expect_err("big");
    assert_eq!(
        err.to_string(),
        "`hardware` cannot read /sys/block line 1: the size in sectors `big` is not a number (the line reads `sda big 0`)"
    );
}

fn process_files<'a>(
    table: &'a str,
    own: &'a str,
    uptime: &'a str,
    passwd: &'a str,
) -> [(&'a str, &'a str); 5] {
    [
        ("/proc/uptime", uptime),
        ("clock ticks", "100\n"),
        ("/etc/passwd", passwd),
        ("self", own),
        ("processes", table),
    ]
}

#[test]
fn processes_from_proc() {
    for (table, own) in [
        (recorded!("this-machine/processes"), recorded!("this-machine/processes.self")),
        (recorded!("busybox/processes"), recorded!("busybox/processes.self")),
    ] {
        let files = process_files(
            table,
            own,
            recorded!("this-machine/processes.uptime"),
            recorded!("this-machine/passwd"),
        );
        let Ok(Data::Processes(list)) = parse("processes", parse_processes, &files) else {
            panic!("{table}")
        };
        let init = &list.processes[0];
        assert_eq!((init.pid, init.user.as_str()), (1, "root"));
        assert!(init.command.starts_with("/process_api --firecracker-init"), "{init:?}");
        assert!(init.memory_bytes > 0 && init.cpu_percent >= 0.0, "{init:?}");
        // Kernel threads have no command line: their name in brackets, as `ps` shows them.
        assert!(list.processes.iter().any(|p| p.command == "[kthreadd]"));
        // The script's own shell and its `tr` are not listed.
        let own: u32 = own.trim().parse().unwrap();
        assert!(list.processes.iter().all(|p| p.pid != own && !p.command.starts_with("tr ")), "{own}");
        assert!(list.processes.windows(2).all(|w| w[0].pid < w[1].pid));
    }
}

#[test]
fn odd_processes_do_not_fail_the_host() {
    let table = "\
P 42 (evil) name) R 1 42 42 0 -1 0 0 0 0 0 300 100 0 0 20 0 1 0 1000 0 0 0
U 1000 2048
C /usr/bin/evil --flag  with spaces
P 43 (cut
U 0 0
C stray
P 44 (sh) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 0 0
U 4242 10
C 
";
    let files = process_files(
        table,
        "99\n",
        "100.00 1.0\n",
        "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
    );
    let Ok(Data::Processes(list)) = parse("processes", parse_processes, &files) else { panic!() };
    let rows: Vec<(u32, &str, f64, u64, &str)> = list
        .processes
        .iter()
        .map(|p| (p.pid, p.user.as_str(), p.cpu_percent, p.memory_bytes, p.command.as_str()))
        .collect();
    // 400 ticks of CPU over the 90 s since it started at tick 1000: 4 s / 90 s.
    assert_eq!(rows[0].0, 42);
    assert!((rows[0].2 - 400.0 / 100.0 / 90.0 * 100.0).abs() < 1e-9);
    assert_eq!(
        rows,
        [
            (42, "alice", rows[0].2, 2048 * 1024, "/usr/bin/evil --flag  with spaces"),
            (44, "4242", 0.0, 10 * 1024, "[sh]")
        ]
    );
}

#[test]
fn temperature_sensors() {
    let Ok(Data::Temperature(t)) =
        parse("temperature", parse_temperature, &[("sensors", recorded!("synthetic/sensors"))])
    else {
        panic!()
    };
    let sensors: Vec<(&str, f64)> = t.sensors.iter().map(|s| (s.name.as_str(), s.celsius)).collect();
    assert_eq!(
        sensors,
        [
            ("nvme Composite", 38.85),
            ("coretemp Package id 0", 46.0),
            ("coretemp Core 0", -5.5),
            ("acpitz", 27.8),
            ("x86_pkg_temp", 45.0)
        ]
    );
    assert_eq!(t.sensors[0].source, "/sys/class/hwmon/hwmon0/temp1_input");
    let limits: Vec<(Option<f64>, Option<f64>)> =
        t.sensors.iter().map(|s| (s.high_celsius, s.critical_celsius)).collect();
    // hwmon's max and crit; a thermal zone's critical trip point (a passive one is not a limit).
    assert_eq!(
        limits,
        [(None, None), (Some(87.0), Some(105.0)), (None, None), (None, None), (None, Some(105.0))]
    );
    let err = parse("temperature", parse_temperature, &[("sensors", "")]).expect_err("a VM");
    assert!(
        err.to_string()
            .starts_with("`temperature`: no sensors: neither /sys/class/thermal nor /sys/class/hwmon"),
        "{err}"
    );
    let err =
        parse("temperature", parse_temperature, &[("sensors", "/sys/class/thermal/thermal_zone0/temp:hot")])
            .expect_err("hot");
    assert_eq!(
        err.to_string(),
        "`temperature` cannot read sensors line 1: the temperature `hot` is not a number (the line reads `/sys/class/thermal/thermal_zone0/temp:hot`)"
    );
}
