//! Property tests of every probe's parser, which reads whatever a host printed: a recorded output (marker
//! lines and files, as the script prints them) with text spliced in, cut out or duplicated gives data or an
//! error, never a panic, and an error that names a line of a file names one the host printed, or the line
//! just after it.

use proptest::prelude::*;

use super::*;
use crate::fuzz::{any_text, config, spliced};
use crate::{facts, metrics};

macro_rules! recorded {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/", $path))
    };
}

/// The marker token of the recorded outputs; a probe's own is random, but the parser is told which to split
/// at.
const TOKEN: &str = "0123456789abcdef";

/// A probe and recorded files in the order its script prints them, from the metric and fact tests'
/// recordings.
type Sample = (fn() -> Probe, &'static [(&'static str, &'static str)]);

const UPTIME_1: &str = recorded!("this-machine/uptime.1");
const UPTIME_2: &str = recorded!("this-machine/uptime.2");
const STAT_1: &str = recorded!("this-machine/stat.1");
const STAT_2: &str = recorded!("this-machine/stat.2");
const MEMINFO: &str = recorded!("this-machine/meminfo");

/// Every probe's parser on what a host printed, some on two hosts' (an old kernel, busybox, a Raspberry Pi).
const SAMPLES: &[Sample] = &[
    (
        || metrics::cpu_probe(0.2, false),
        &[
            ("/proc/uptime", UPTIME_1),
            ("/proc/stat", STAT_1),
            ("/proc/uptime", UPTIME_2),
            ("/proc/stat", STAT_2),
        ],
    ),
    (
        || metrics::cpu_probe(0.2, true),
        &[
            ("/proc/uptime", "100.00 50.00\n"),
            ("/proc/stat", recorded!("synthetic/stat-steal-guest.1")),
            ("/proc/uptime", "101.00 51.00\n"),
            ("/proc/stat", recorded!("synthetic/stat-steal-guest.2")),
        ],
    ),
    (metrics::ram_probe, &[("/proc/meminfo", MEMINFO)]),
    (
        metrics::load_probe,
        &[
            ("/proc/loadavg", recorded!("this-machine/loadavg")),
            ("/proc/stat", recorded!("synthetic/stat-2.6.10.1")),
        ],
    ),
    (
        || metrics::net_probe(0.2),
        &[
            ("/proc/uptime", UPTIME_1),
            ("/proc/net/dev", recorded!("this-machine/net_dev.1")),
            ("/proc/uptime", UPTIME_2),
            ("/proc/net/dev", recorded!("this-machine/net_dev.2")),
            ("/proc/net/route", recorded!("this-machine/net_route")),
            ("/proc/net/ipv6_route", recorded!("this-machine/net_ipv6_route")),
        ],
    ),
    (
        || metrics::net_probe(0.2),
        &[
            ("/proc/uptime", "1000.00 1.0\n"),
            ("/proc/net/dev", recorded!("synthetic/net_dev.1")),
            ("/proc/uptime", "1002.00 1.0\n"),
            ("/proc/net/dev", recorded!("synthetic/net_dev.2")),
            ("/proc/net/route", recorded!("synthetic/net_route")),
            ("/proc/net/ipv6_route", ""),
        ],
    ),
    (
        || metrics::disk_probe(false),
        &[("/proc/mounts", recorded!("synthetic/mounts")), ("df -P -k", recorded!("synthetic/df"))],
    ),
    (
        || metrics::disk_probe(true),
        &[("/proc/mounts", recorded!("this-machine/mounts")), ("df -P -k", recorded!("this-machine/df"))],
    ),
    (
        || metrics::disk_probe(false),
        &[("/proc/mounts", recorded!("this-machine/mounts")), ("df -P -k", recorded!("busybox/df"))],
    ),
    (
        metrics::entropy_probe,
        &[
            ("/proc/sys/kernel/random/entropy_avail", recorded!("this-machine/entropy_avail")),
            ("/proc/sys/kernel/random/poolsize", recorded!("this-machine/poolsize")),
        ],
    ),
    (
        facts::os_info_probe,
        &[
            ("/etc/os-release", recorded!("this-machine/os-release")),
            ("/proc/sys/kernel/hostname", recorded!("this-machine/hostname")),
            ("/proc/sys/kernel/osrelease", "6.1.0-13-amd64\n"),
            ("uname -m", "x86_64\n"),
            ("/proc/uptime", UPTIME_1),
            ("virtualization", "systemd docker\ncontainer docker\nflag hypervisor\n"),
        ],
    ),
    (
        facts::os_info_probe,
        &[
            ("/etc/os-release", recorded!("synthetic/os-release-alpine")),
            ("/proc/sys/kernel/hostname", "pi\n"),
            ("/proc/sys/kernel/osrelease", "6.6.31+rpt-rpi-v8\n"),
            ("uname -m", "aarch64\n"),
            ("/proc/uptime", "5.25 1.00\n"),
            ("virtualization", "vendor QEMU\nproduct Standard PC (Q35 + ICH9, 2009)\nflag hypervisor\n"),
        ],
    ),
    (
        facts::hardware_probe,
        &[
            ("/proc/cpuinfo", recorded!("this-machine/cpuinfo")),
            ("/proc/meminfo", MEMINFO),
            ("/sys/block", recorded!("this-machine/block")),
        ],
    ),
    (
        facts::hardware_probe,
        &[
            ("/proc/cpuinfo", recorded!("synthetic/cpuinfo-raspberry-pi")),
            ("/proc/meminfo", "MemTotal:  2048 kB\n"),
            ("/sys/block", "mmcblk0 62333952 0\nram0 8192 0\nsda 1000 -\n"),
        ],
    ),
    (
        facts::processes_probe,
        &[
            ("/proc/uptime", recorded!("this-machine/processes.uptime")),
            ("clock ticks", "100\n"),
            ("/etc/passwd", recorded!("this-machine/passwd")),
            ("self", recorded!("this-machine/processes.self")),
            ("processes", recorded!("this-machine/processes")),
        ],
    ),
    (
        facts::processes_probe,
        &[
            ("/proc/uptime", recorded!("this-machine/processes.uptime")),
            ("clock ticks", "100\n"),
            ("/etc/passwd", recorded!("this-machine/passwd")),
            ("self", recorded!("busybox/processes.self")),
            ("processes", recorded!("busybox/processes")),
        ],
    ),
    (facts::temperature_probe, &[("sensors", recorded!("synthetic/sensors"))]),
];

/// What the files of the host's own kernel and tools give a meaning to.
const SPECIAL: &[&str] = &[
    " ",
    "\t",
    "\n",
    ":",
    "|",
    "/",
    "(",
    ")",
    "%",
    "-",
    "kB",
    "\\040",
    "\\012",
    "cpu",
    "cpu0",
    "MemTotal:",
    "P ",
    "U ",
    "C ",
    "18446744073709551615",
    "4294967296",
    "-1",
    "1e309",
    "NaN",
    "inf",
    "0",
    "@@0123456789abcdef ",
    "@@0123456789abcdef /proc/stat",
    "\u{1b}[2J",
    "\u{0}",
];

/// `files` as the script prints them: a login banner, then each file after its marker line.
fn printed(files: &[(&str, &str)]) -> String {
    let mut out = String::from("Welcome to the host\n");
    for (file, contents) in files {
        out.push_str(&format!("@@{TOKEN} {file}\n{contents}"));
        if !contents.is_empty() && !contents.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// Parses `stdout` with the parser of sample `index`'s probe and checks that an error names a line of a file
/// it read.
fn check(index: usize, stdout: &str) -> Result<(), TestCaseError> {
    let probe = (SAMPLES[index].0)();
    let reading = Reading::parse(probe.operation, TOKEN, stdout);
    if let Err(HostError::Unreadable { file, line, .. }) = (probe.parse)(&reading) {
        // Line 0 is the file as a whole, in which something is missing.
        let longest = reading.sections(&file).iter().map(|section| section.lines.len()).max();
        match longest {
            Some(lines) => prop_assert!(line <= lines + 1, "{file} line {line} of {lines}, in {stdout:?}"),
            None => {
                prop_assert!(line == 0, "{file} line {line}, which the host did not print, in {stdout:?}")
            }
        }
    }
    Ok(())
}

#[test]
fn the_samples_parse() {
    for (index, (probe, files)) in SAMPLES.iter().enumerate() {
        let probe = probe();
        let parsed = (probe.parse)(&Reading::parse(probe.operation, TOKEN, &printed(files)));
        assert!(parsed.is_ok(), "sample {index} ({}): {:?}", probe.operation, parsed.err());
    }
}

/// Which sample, and its output spliced.
fn spliced_sample() -> impl Strategy<Value = (usize, String)> {
    (0..SAMPLES.len()).prop_flat_map(|index| (Just(index), spliced(vec![printed(SAMPLES[index].1)], SPECIAL)))
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn spliced_outputs_give_data_or_an_error_at_a_line_the_host_printed((index, stdout) in spliced_sample()) {
        check(index, &stdout)?;
    }

    /// Any text in place of one of the files, the markers kept.
    #[test]
    fn any_file_gives_data_or_an_error_at_a_line_the_host_printed(
        (index, file) in (0..SAMPLES.len()).prop_flat_map(|index| (Just(index), 0..SAMPLES[index].1.len())),
        text in any_text(),
    ) {
        let mut files: Vec<(&str, &str)> = SAMPLES[index].1.to_vec();
        files[file].1 = &text;
        check(index, &printed(&files))?;
    }
}
