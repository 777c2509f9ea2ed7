//! The metric parsers on recorded files: this machine's, busybox's, and made-up ones for what this machine
//! lacks (old kernels, many interfaces, mount points with spaces, counters that were reset).

use super::*;
use crate::probe::Parser;

macro_rules! recorded {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/", $path))
    };
}

/// Parses `files` as `operation`'s reading would hold them.
fn parse(operation: &'static str, parser: Parser, files: &[(&str, &str)]) -> Result<Data, HostError> {
    parser(&Reading::from_files(operation, files))
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 0.01
}

#[test]
fn cpu_shares_over_an_interval() {
    // (before, after, usr, sys, idle, iowait, steal): all in percent of the time that passed.
    let check = |before: &str, after: &str, expected: [f64; 5]| {
        let files = [
            ("/proc/uptime", "100.00 50.00"),
            ("/proc/stat", before),
            ("/proc/uptime", "101.00 51.00"),
            ("/proc/stat", after),
        ];
        let Ok(Data::Cpu(cpu)) = parse("cpu", parse_cpu, &files) else {
            panic!("{before} → {after} did not parse")
        };
        let got = [cpu.usr, cpu.sys, cpu.idle, cpu.iowait, cpu.steal];
        assert!(got.iter().zip(&expected).all(|(g, e)| close(*g, *e)), "{got:?} != {expected:?}");
        let sum = cpu.usr + cpu.nice + cpu.sys + cpu.idle + cpu.iowait + cpu.irq + cpu.softirq + cpu.steal;
        assert!(close(sum, 100.0), "{sum}");
        assert_eq!(cpu.interval_ms, 1000);
        assert!(cpu.cores.is_empty());
    };
    // A kernel before 2.6.11: no steal column (and no guest).
    check(
        recorded!("synthetic/stat-2.6.10.1"),
        recorded!("synthetic/stat-2.6.10.2"),
        [10.0, 5.0, 80.0, 5.0, 0.0],
    );
    // Steal and guest columns: guest is already inside user, so it is not counted twice.
    check(
        recorded!("synthetic/stat-steal-guest.1"),
        recorded!("synthetic/stat-steal-guest.2"),
        [10.0, 5.0, 65.0, 0.0, 20.0],
    );
    // This machine's.
    let files = [
        ("/proc/uptime", recorded!("this-machine/uptime.1")),
        ("/proc/stat", recorded!("this-machine/stat.1")),
        ("/proc/uptime", recorded!("this-machine/uptime.2")),
        ("/proc/stat", recorded!("this-machine/stat.2")),
    ];
    let Ok(Data::Cpu(cpu)) = parse("cpu", parse_cpu_cores, &files) else {
        panic!("this machine's /proc/stat")
    };
    assert_eq!(cpu.cores.iter().map(|c| c.core).collect::<Vec<_>>(), [0, 1]);
    assert!(
        cpu.cores
            .iter()
            .all(|c| close(c.usr + c.nice + c.sys + c.idle + c.iowait + c.irq + c.softirq + c.steal, 100.0))
    );
}

#[test]
fn cpu_failures_name_the_file_and_line() {
    let check = |before: &str, after: &str, expected: &str| {
        let files = [("/proc/stat", before), ("/proc/stat", after)];
        let err = parse("cpu", parse_cpu, &files).expect_err(before);
        assert_eq!(err.to_string(), expected);
    };
    check(
        "cpu  1 2 3 4\ncpu0 1 2 x 4",
        "cpu  1 2 3 5",
        "`cpu` cannot read /proc/stat line 2: the time counter `x` is not a number (the line reads `cpu0 1 2 x 4`)",
    );
    check(
        "cpu  1 2 3",
        "cpu  1 2 3 5",
        "`cpu` cannot read /proc/stat line 1: a cpu line needs at least user, nice, system and idle (the line reads `cpu  1 2 3`)",
    );
    check(
        "intr 5",
        "cpu  1 2 3 5",
        "`cpu` cannot read /proc/stat: it has no `cpu` line (the total of all cores)",
    );
    check(
        "cpu  1 2 3 4",
        "cpu  1 2 3 4",
        "`cpu`: no CPU time passed between the two readings of /proc/stat; give a longer interval",
    );
    // Counters near the top of u64 neither overflow nor panic.
    let files =
        [("/proc/stat", "cpu 0 0 0 0"), ("/proc/stat", "cpu 18446744073709551615 18446744073709551615 0 0")];
    let Ok(Data::Cpu(cpu)) = parse("cpu", parse_cpu, &files) else { panic!("huge counters") };
    assert!(close(cpu.usr, 50.0) && close(cpu.nice, 50.0), "{cpu:?}");
    let once = parse("cpu", parse_cpu, &[("/proc/stat", "cpu 1 2 3 4")]).expect_err("one reading");
    assert_eq!(once.to_string(), "`cpu`: the host printed /proc/stat fewer than two times");
}

#[test]
fn ram_from_meminfo() {
    let Ok(Data::Ram(ram)) = parse("ram", parse_ram, &[("/proc/meminfo", recorded!("this-machine/meminfo"))])
    else {
        panic!("this machine's meminfo")
    };
    assert!(
        ram.total_bytes > 0 && ram.used_bytes <= ram.total_bytes && ram.available_bytes <= ram.total_bytes
    );
    assert_eq!(ram.used_bytes, ram.total_bytes - ram.available_bytes);
    assert!(close(ram.used_percent, ram.used_bytes as f64 * 100.0 / ram.total_bytes as f64));

    // A kernel before 3.14 has no MemAvailable: free + buffers + cache stands in.
    let old = "MemTotal:        1000 kB\nMemFree:          100 kB\nBuffers:           50 kB\nCached:           250 kB\nSwapTotal:       2000 kB\nSwapFree:        1500 kB\n";
    let Ok(Data::Ram(ram)) = parse("ram", parse_ram, &[("/proc/meminfo", old)]) else {
        panic!("old meminfo")
    };
    let k = 1024;
    assert_eq!(
        (ram.total_bytes, ram.available_bytes, ram.used_bytes, ram.buffers_cache_bytes, ram.swap_used_bytes),
        (1000 * k, 400 * k, 600 * k, 300 * k, 500 * k)
    );
    assert!(close(ram.used_percent, 60.0));

    let huge = "MemTotal: 18446744073709551615 kB\nMemFree: 1 kB\n";
    let err = parse("ram", parse_ram, &[("/proc/meminfo", huge)]).expect_err("huge");
    assert_eq!(
        err.to_string(),
        "`ram` cannot read /proc/meminfo line 1: the size is too large to be real (the line reads `MemTotal: 18446744073709551615 kB`)"
    );
    let err = parse("ram", parse_ram, &[("/proc/meminfo", "MemFree: 1 kB\n")]).expect_err("no total");
    assert_eq!(err.to_string(), "`ram` cannot read /proc/meminfo: it has no `MemTotal:` line");
    let err = parse("ram", parse_ram, &[("/proc/meminfo", "MemTotal: lots kB\n")]).expect_err("not a number");
    assert_eq!(
        err.to_string(),
        "`ram` cannot read /proc/meminfo line 1: the size `lots` is not a number (the line reads `MemTotal: lots kB`)"
    );
}

#[test]
fn load_averages_and_cores() {
    let check = |loadavg: &str, stat: &str, expected: Load| {
        let Ok(Data::Load(load)) =
            parse("load", parse_load, &[("/proc/loadavg", loadavg), ("/proc/stat", stat)])
        else {
            panic!("{loadavg}")
        };
        assert_eq!(load, expected);
    };
    check(
        "0.52 0.40 0.33 2/345 6789",
        recorded!("this-machine/stat.1"),
        Load { load1: 0.52, load5: 0.40, load15: 0.33, cores: 2, running: 2, tasks: 345 },
    );
    check(
        "12.00 8.50 4.25 17/1024 1",
        recorded!("synthetic/stat-2.6.10.1"),
        Load { load1: 12.0, load5: 8.5, load15: 4.25, cores: 2, running: 17, tasks: 1024 },
    );
    let err = parse("load", parse_load, &[("/proc/loadavg", "0.1 0.2"), ("/proc/stat", "cpu 1 2 3 4")])
        .expect_err("short");
    assert_eq!(
        err.to_string(),
        "`load` cannot read /proc/loadavg line 1: the fourth word should be running/all tasks (the line reads `0.1 0.2`)"
    );
}

#[test]
fn net_rates_per_interface() {
    let files = [
        ("/proc/uptime", "1000.00 1.0"),
        ("/proc/net/dev", recorded!("synthetic/net_dev.1")),
        ("/proc/uptime", "1002.00 1.0"),
        ("/proc/net/dev", recorded!("synthetic/net_dev.2")),
        ("/proc/net/route", recorded!("synthetic/net_route")),
        ("/proc/net/ipv6_route", ""),
    ];
    let Ok(Data::Net(net)) = parse("net", parse_net, &files) else { panic!("many interfaces") };
    assert_eq!(net.interval_ms, 2000);
    let rows: Vec<_> = net
        .interfaces
        .iter()
        .map(|i| {
            (i.name.as_str(), i.default_route, i.rx_bytes_per_sec, i.tx_bytes_per_sec, i.rx_packets_per_sec)
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("lo", false, 0.0, 0.0, 0.0),
            ("eth0", false, 0.0, 0.0, 0.0),
            ("wlan0", true, 100_000.0, 10_000.0, 1000.0),
            ("docker0", false, 0.0, 0.0, 0.0),
            ("vethab12cd", false, 500.0, 500.0, 5.0),
            ("bond0", false, 0.0, 0.0, 0.0),
            // Its counter went down (the interface was re-created): no rate rather than a huge one.
            ("wg0", false, 0.0, 0.0, 0.0),
            // New since the first reading.
            ("br-1f2e3d4c", false, 0.0, 0.0, 0.0),
        ]
    );

    // This machine's, with its IPv6 default route through eth0.
    let files = [
        ("/proc/uptime", recorded!("this-machine/uptime.1")),
        ("/proc/net/dev", recorded!("this-machine/net_dev.1")),
        ("/proc/uptime", recorded!("this-machine/uptime.2")),
        ("/proc/net/dev", recorded!("this-machine/net_dev.2")),
        ("/proc/net/route", ""),
        ("/proc/net/ipv6_route", recorded!("this-machine/net_ipv6_route")),
    ];
    let Ok(Data::Net(net)) = parse("net", parse_net, &files) else { panic!("this machine's") };
    let defaults: Vec<&str> =
        net.interfaces.iter().filter(|i| i.default_route).map(|i| i.name.as_str()).collect();
    assert_eq!(defaults, ["eth0"]);

    let files = [
        ("/proc/uptime", "5.0 1"),
        ("/proc/net/dev", "eth0: 1 2 3"),
        ("/proc/uptime", "6.0 1"),
        ("/proc/net/dev", ""),
    ];
    let err = parse("net", parse_net, &files).expect_err("short line");
    assert_eq!(
        err.to_string(),
        "`net` cannot read /proc/net/dev line 1: an interface line has 16 counters, this one 3 (the line reads `eth0: 1 2 3`)"
    );
}

#[test]
fn disk_space_per_filesystem() {
    let check = |mounts: &str, df: &str, all: bool, expected: &[(&str, &str, &str, f64)]| {
        let parser = if all { parse_disk_all } else { parse_disk };
        let Ok(Data::Disk(disk)) = parse("disk", parser, &[("/proc/mounts", mounts), ("df -P -k", df)])
        else {
            panic!("{df}")
        };
        let rows: Vec<(&str, &str, &str, f64)> = disk
            .filesystems
            .iter()
            .map(|f| {
                (
                    f.device.as_str(),
                    f.mount.as_str(),
                    f.fs_type.as_str(),
                    (f.used_percent * 10.0).round() / 10.0,
                )
            })
            .collect();
        assert_eq!(rows, expected);
        assert!(disk.filesystems.iter().all(|f| f.used_bytes <= f.size_bytes));
    };
    // Spaces and a tab in mount points; tmpfs, squashfs and proc left out.
    check(
        recorded!("synthetic/mounts"),
        recorded!("synthetic/df"),
        false,
        &[
            ("/dev/sda2", "/", "ext4", 85.6),
            ("/dev/sda1", "/boot/efi", "vfat", 1.2),
            ("/dev/sdb1", "/mnt/my disk", "ext4", 90.0),
            ("server:/export", "/mnt/nfs share\ttab", "nfs4", 10.0),
            ("overlay", "/var/lib/docker/overlay2/abc/merged", "overlay", 85.6),
        ],
    );
    // This machine's df (GNU) and busybox's on the same mounts: only the root filesystem holds data.
    for df in [recorded!("this-machine/df"), recorded!("busybox/df")] {
        let mounts = recorded!("this-machine/mounts");
        let Ok(Data::Disk(disk)) = parse("disk", parse_disk, &[("/proc/mounts", mounts), ("df -P -k", df)])
        else {
            panic!("{df}")
        };
        assert_eq!(disk.filesystems.iter().map(|f| f.mount.as_str()).collect::<Vec<_>>(), ["/"], "{df}");
        let Ok(Data::Disk(all)) =
            parse("disk", parse_disk_all, &[("/proc/mounts", mounts), ("df -P -k", df)])
        else {
            panic!()
        };
        assert_eq!(all.filesystems.len(), df.lines().count() - 1);
    }
    let check_error = |df: &str, expected: &str| {
        let err = parse("disk", parse_disk, &[("/proc/mounts", ""), ("df -P -k", df)]).expect_err(df);
        assert_eq!(err.to_string(), expected);
    };
    check_error(
        "Filesystem\n/dev/sda1 10 5 x 50% /",
        "`disk` cannot read df -P -k line 2: a filesystem line has a device, size, used and available in 1024-byte \
         blocks, the capacity (`41%`) and the mount point (the line reads `/dev/sda1 10 5 x 50% /`)",
    );
    check_error(
        "Filesystem\n/dev/sda1 18446744073709551615 5 5 50% /",
        "`disk` cannot read df -P -k line 2: the size is too large to be real (the line reads \
         `/dev/sda1 18446744073709551615 5 5 50% /`)",
    );
}

#[test]
fn odd_devices_and_mount_points() {
    // (mounts, df, expected (device, mount, type) of every filesystem listed)
    let check = |mounts: &str, df: &str, expected: &[(&str, &str, &str)]| {
        let Ok(Data::Disk(disk)) =
            parse("disk", parse_disk_all, &[("/proc/mounts", mounts), ("df -P -k", df)])
        else {
            panic!("{df}")
        };
        let rows: Vec<(&str, &str, &str)> = disk
            .filesystems
            .iter()
            .map(|f| (f.device.as_str(), f.mount.as_str(), f.fs_type.as_str()))
            .collect();
        assert_eq!(rows, expected, "{df}");
    };
    let header = "Filesystem 1024-blocks Used Available Capacity Mounted on\n";
    // A CIFS share with a space in its name, as GNU and busybox df print it.
    check(
        "//nas/Shared\\040Docs /mnt/docs cifs rw 0 0",
        &format!("{header}//nas/Shared Docs 100 40 60 40% /mnt/docs\n"),
        &[("//nas/Shared Docs", "/mnt/docs", "cifs")],
    );
    // busybox prints a line break in a mount point as it is; the name goes on on the next line.
    check(
        "/dev/sdc1 /mnt/two\\012lines ext4 rw 0 0\n/dev/sda1 / ext4 rw 0 0",
        &format!("{header}/dev/sdc1 100 1 99 1% /mnt/two\nlines\n/dev/sda1 100 50 50 50% /\n"),
        &[("/dev/sdc1", "/mnt/two\nlines", "ext4"), ("/dev/sda1", "/", "ext4")],
    );
    // GNU df shows control characters as `?`; the type is still found.
    check(
        "/dev/sdc1 /mnt/bell\\007 ext4 rw 0 0",
        &format!("{header}/dev/sdc1 100 1 99 1% /mnt/bell?\n"),
        &[("/dev/sdc1", "/mnt/bell?", "ext4")],
    );
    // `df -a` style lines without sizes.
    check("proc /proc proc rw 0 0", &format!("{header}proc - - - - /proc\n"), &[("proc", "/proc", "proc")]);
}

#[test]
fn mount_points_unescaped() {
    let check = |input: &str, expected: &str| assert_eq!(unescape_mount(input), expected, "{input}");
    check("/", "/");
    check("/mnt/my\\040disk", "/mnt/my disk");
    check("/a\\011b\\012c\\134d", "/a\tb\nc\\d");
    check("/odd\\9", "/odd\\9");
    check("/end\\04", "/end\\04");
}

#[test]
fn entropy_bits() {
    let files = [
        ("/proc/sys/kernel/random/entropy_avail", recorded!("this-machine/entropy_avail")),
        ("/proc/sys/kernel/random/poolsize", recorded!("this-machine/poolsize")),
    ];
    let Ok(Data::Entropy(entropy)) = parse("entropy", parse_entropy, &files) else { panic!() };
    assert!(entropy.available_bits > 0 && entropy.pool_size_bits >= 256, "{entropy:?}");
    let files =
        [("/proc/sys/kernel/random/entropy_avail", "lots"), ("/proc/sys/kernel/random/poolsize", "256")];
    let err = parse("entropy", parse_entropy, &files).expect_err("lots");
    assert_eq!(
        err.to_string(),
        "`entropy` cannot read /proc/sys/kernel/random/entropy_avail line 1: the available entropy `lots` is not a number (the line reads `lots`)"
    );
}

#[test]
fn the_host_output_splits_at_its_own_markers_only() {
    let stdout = "banner from .profile\n@@abc /proc/loadavg\n0.1 0.2 0.3 1/2 3\n@@xyz /proc/stat\n@@abc /proc/stat\ncpu 1 2 3 4\n";
    let reading = Reading::parse("load", "abc", stdout);
    let Ok(Data::Load(load)) = parse_load(&reading) else { panic!() };
    assert_eq!((load.load1, load.cores), (0.1, 1));
    assert_eq!(
        reading.section("/proc/loadavg").map(|s| s.lines.clone()).ok(),
        Some(vec!["0.1 0.2 0.3 1/2 3", "@@xyz /proc/stat"])
    );
}
