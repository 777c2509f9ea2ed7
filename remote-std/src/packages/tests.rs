//! What every manager shares, tested across them: detection, the commands' common rules, errors naming the
//! line, what changed between two listings, the names `pkg_install` and `pkg_remove` accept and how each
//! manager's are matched against what is installed. Also the helpers each manager's own parser tests use.

use super::Manager::{Apk, Apt, Dnf, Pacman, Yum, Zypper};
use super::*;

/// A file of `testdata/packages/`, recorded on a host.
macro_rules! recorded {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/packages/", $path))
    };
}
pub(super) use recorded;

/// An installed listing from (name, versions) rows.
pub(super) fn set(entries: &[(&str, &[&str])]) -> InstalledSet {
    entries
        .iter()
        .map(|(name, versions)| (name.to_string(), versions.iter().map(|v| v.to_string()).collect()))
        .collect()
}

/// Upgrades from (name, from, to) rows.
pub(super) fn upgrades(rows: &[(&str, &str, &str)]) -> Vec<Upgrade> {
    rows.iter()
        .map(|(name, from, to)| Upgrade {
            name: name.to_string(),
            from: from.to_string(),
            to: to.to_string(),
        })
        .collect()
}

/// Asserts that `manager`'s listing `text` reads as the `expected` installed set.
pub(super) fn check_installed(manager: Manager, text: &str, expected: &[(&str, &[&str])]) {
    assert_eq!(parse_installed(manager, text), Ok(set(expected)), "{text}");
}

/// Asserts that `manager`'s pending list `text` reads as the `expected` upgrades, given what is `installed`.
pub(super) fn check_pending(
    manager: Manager,
    text: &str,
    installed: &InstalledSet,
    expected: &[(&str, &str, &str)],
) {
    assert_eq!(parse_pending(manager, text, installed), Ok(upgrades(expected)), "{text}");
}

#[test]
fn managers_by_name_and_detection_order() {
    for manager in Manager::ALL {
        assert_eq!(Manager::from_name(manager.name()), Some(manager));
        assert_eq!(serde_json::to_value(manager).unwrap(), manager.name());
    }
    assert_eq!(Manager::from_name("pacman\n"), Some(Pacman));
    assert_eq!(Manager::from_name("none"), None);
    assert_eq!(Manager::from_name("APT"), None);
    // DETECT tries the managers in the order of `Manager::ALL`, and says `none` last.
    let echoed: Vec<&str> =
        DETECT.split("echo ").skip(1).map(|rest| rest.split_whitespace().next().unwrap()).collect();
    let mut expected: Vec<&str> = Manager::ALL.iter().map(|m| m.name()).collect();
    expected.push("none");
    assert_eq!(echoed, expected);
}

#[test]
fn commands_force_the_c_locale_and_change_nothing() {
    for manager in Manager::ALL {
        for command in [list_installed(manager), list_pending(manager)] {
            assert!(command.contains("LC_ALL=C "), "{command}");
            for word in [
                "sudo",
                "install",
                "remove",
                "refresh",
                "makecache",
                "update",
                "upgrade",
                "-Sy",
                "-Syu",
                "-y",
            ] {
                assert!(!command.split_whitespace().any(|w| w == word), "{command} has {word}");
            }
        }
    }
    assert!(list_pending(Apt).starts_with("LC_ALL=C apt-get -s "), "a simulation only");
    assert!(list_pending(Dnf).contains(" -C check-update || [ $? -eq 100 ]"));
    assert!(list_pending(Yum).contains(" -C check-update || [ $? -eq 100 ]"));
    assert!(list_pending(Zypper).contains("--no-refresh"));
}

#[test]
fn installed_garbage_is_an_error_naming_the_line() {
    let check = |manager: Manager, text: &str, expected: &str| {
        assert_eq!(
            parse_installed(manager, text).map_err(|e| e.to_string()),
            Err(expected.to_string()),
            "{text}"
        );
    };
    check(
        Apt,
        "",
        "the dpkg listing is empty, without even the host's architecture; run `dpkg --print-architecture` on the host to see why",
    );
    check(
        Apt,
        "ii \tjq\tamd64\t1.6\n",
        "cannot read line 1 of `dpkg-query`'s output: the first line is not the host's architecture (`dpkg --print-architecture`) (the line reads `ii ·jq·amd64·1.6`)",
    );
    check(
        Apt,
        "amd64\nii \tjq\tamd64\t1.6\nii  jq amd64 1.6\n",
        "cannot read line 3 of `dpkg-query`'s output: expected 4 tab-separated fields: status, name, architecture, version (the line reads `ii  jq amd64 1.6`)",
    );
    check(
        Apt,
        "amd64\nzz \tjq\tamd64\t1.6\n",
        "cannot read line 2 of `dpkg-query`'s output: `zz` is not a dpkg status (the line reads `zz ·jq·amd64·1.6`)",
    );
    check(
        Apt,
        "amd64\n\tjq\tamd64\t1.6\n",
        "cannot read line 2 of `dpkg-query`'s output: the status is not two letters such as `ii` (the line reads `·jq·amd64·1.6`)",
    );
    check(
        Apt,
        "amd64\nii \t\tamd64\t1.6\n",
        "cannot read line 2 of `dpkg-query`'s output: the name or the version is empty (the line reads `ii ··amd64·1.6`)",
    );
    check(
        Dnf,
        "bash\t0:5.1.8-9.el9.x86_64\nerror: rpmdb: damaged header #123 retrieved -- skipping.\n",
        "cannot read line 2 of `rpm -qa`'s output: expected a name, a tab, and `EPOCH:VERSION-RELEASE.ARCH` (the line reads `error: rpmdb: damaged header #123 retrieved -- skipping.`)",
    );
    check(
        Yum,
        "bash\t5.1.8-9.el9.x86_64\n",
        "cannot read line 1 of `rpm -qa`'s output: expected a name, a tab, and `EPOCH:VERSION-RELEASE.ARCH` (the line reads `bash·5.1.8-9.el9.x86_64`)",
    );
    check(
        Apk,
        "musl-1.2.4-r2\nmusl-1.2.4-r2 x86_64 {musl} (MIT) [installed]\n",
        "cannot read line 2 of `apk info -v`'s output: expected one `name-version` word such as `musl-1.2.4-r2` (the line reads `musl-1.2.4-r2 x86_64 {musl} (MIT) [installed]`)",
    );
    check(
        Apk,
        "busybox\n",
        "cannot read line 1 of `apk info -v`'s output: expected one `name-version` word such as `musl-1.2.4-r2` (the line reads `busybox`)",
    );
    check(
        Pacman,
        "lz4 1:1.9.2-1\nerror: could not open database\n",
        "cannot read line 2 of `pacman -Q`'s output: expected a name and a version (the line reads `error: could not open database`)",
    );
}

#[test]
fn long_lines_are_clipped_to_80_characters_in_errors() {
    let line = format!("{}\x1b[31m{}", "x".repeat(100), "y".repeat(100));
    let error = parse_installed(Pacman, &line).unwrap_err().to_string();
    let excerpt = error.split("(the line reads `").nth(1).unwrap().trim_end_matches("`)");
    assert_eq!(excerpt.chars().count(), 80);
    assert_eq!(excerpt, format!("{}…", "x".repeat(79)));
    // Control characters never reach the terminal.
    let error = parse_installed(Pacman, "a\x1b[2Jb c d").unwrap_err().to_string();
    assert!(error.ends_with("(the line reads `a·[2Jb c d`)"), "{error}");
}

/// Installed, upgraded and removed, as (name, version) and (name, from, to) rows.
type Expected<'a> = (&'a [(&'a str, &'a str)], &'a [(&'a str, &'a str, &'a str)], &'a [(&'a str, &'a str)]);

fn check_diff(before: &[(&str, &[&str])], after: &[(&str, &[&str])], expected: Expected) {
    let packages = |rows: &[(&str, &str)]| -> Vec<Package> {
        rows.iter()
            .map(|(name, version)| Package { name: name.to_string(), version: version.to_string() })
            .collect()
    };
    let change = diff(&set(before), &set(after));
    let expected = Change {
        installed: packages(expected.0),
        upgraded: upgrades(expected.1),
        removed: packages(expected.2),
    };
    assert_eq!(change, expected, "{before:?} → {after:?}");
    assert_eq!(
        change.is_empty(),
        expected.installed.is_empty() && expected.upgraded.is_empty() && expected.removed.is_empty()
    );
}

#[test]
fn diffs() {
    let nginx: (&str, &[&str]) = ("nginx", &["1.22.1-9"]);
    check_diff(&[], &[], (&[], &[], &[]));
    check_diff(&[nginx], &[nginx], (&[], &[], &[]));
    check_diff(&[], &[nginx], (&[("nginx", "1.22.1-9")], &[], &[]));
    check_diff(&[nginx], &[], (&[], &[], &[("nginx", "1.22.1-9")]));
    check_diff(
        &[nginx],
        &[("nginx", &["1.22.1-9+deb12u1"])],
        (&[], &[("nginx", "1.22.1-9", "1.22.1-9+deb12u1")], &[]),
    );
    // A downgrade is an upgrade entry too.
    check_diff(&[("nginx", &["1.24.0-1"])], &[nginx], (&[], &[("nginx", "1.24.0-1", "1.22.1-9")], &[]));
    // A kernel installed beside the others, then the oldest removed as the next comes.
    let kernels: (&str, &[&str]) = ("kernel-core", &["5.14.0-362.el9.x86_64", "5.14.0-427.el9.x86_64"]);
    check_diff(
        &[kernels],
        &[("kernel-core", &["5.14.0-362.el9.x86_64", "5.14.0-427.el9.x86_64", "5.14.0-503.el9.x86_64"])],
        (&[("kernel-core", "5.14.0-503.el9.x86_64")], &[], &[]),
    );
    check_diff(
        &[kernels],
        &[("kernel-core", &["5.14.0-427.el9.x86_64", "5.14.0-503.el9.x86_64"])],
        (&[], &[("kernel-core", "5.14.0-362.el9.x86_64", "5.14.0-503.el9.x86_64")], &[]),
    );
    // Removing one architecture of a multilib package; upgrading both.
    let glibc: (&str, &[&str]) = ("glibc", &["2.34-100.el9.i686", "2.34-100.el9.x86_64"]);
    check_diff(
        &[glibc],
        &[("glibc", &["2.34-100.el9.x86_64"])],
        (&[], &[], &[("glibc", "2.34-100.el9.i686")]),
    );
    check_diff(
        &[glibc],
        &[("glibc", &["2.34-105.el9.i686", "2.34-105.el9.x86_64"])],
        (
            &[],
            &[("glibc", "2.34-100.el9.i686, 2.34-100.el9.x86_64", "2.34-105.el9.i686, 2.34-105.el9.x86_64")],
            &[],
        ),
    );
    // Everything at once, sorted by name.
    check_diff(
        &[("b", &["1"]), ("d", &["1"]), ("c", &["1"])],
        &[("c", &["2"]), ("a", &["1"]), ("b", &["1"])],
        (&[("a", "1")], &[("c", "1", "2")], &[("d", "1")]),
    );
}

#[test]
fn diff_of_recorded_listings() {
    // The recorded Debian listing before and after what `apt-get install nginx` simulated.
    let before = parse_installed(Apt, recorded!("debian-12-installed")).unwrap();
    let after_text = format!(
        "{}ii \tnginx-common\tall\t1.22.1-9+deb12u11\nii \tnginx\tamd64\t1.22.1-9+deb12u11\n",
        recorded!("debian-12-installed")
            .replace("ii \tjq\tamd64\t1.6-2.1+deb12u1\n", "rc \tjq\tamd64\t1.6-2.1+deb12u1\n")
    );
    let after = parse_installed(Apt, &after_text).unwrap();
    let change = diff(&before, &after);
    let names = |packages: &[Package]| packages.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    assert_eq!(
        (names(&change.installed), change.upgraded.len(), names(&change.removed)),
        (vec!["nginx".into(), "nginx-common".into()], 0, vec!["jq".to_string()])
    );
    assert!(diff(&before, &before).is_empty());
}

fn names(words: &[&str]) -> Vec<Wanted> {
    words
        .iter()
        .map(|w| if w.contains('/') { Wanted::File(w.to_string()) } else { Wanted::Name(w.to_string()) })
        .collect()
}

#[test]
fn names_accepted() {
    let check = |text: &str, allow_files: bool, expected: &[&str]| {
        assert_eq!(parse_names(text, allow_files), Ok(names(expected)), "{text}");
    };
    check("nginx", false, &["nginx"]);
    check("nginx curl", false, &["nginx", "curl"]);
    check("nginx,curl", false, &["nginx", "curl"]);
    check(" nginx , curl,,\n\thtop ", false, &["nginx", "curl", "htop"]);
    check("nginx nginx,nginx", false, &["nginx"]);
    check(
        "nginx=1.22.1-9 libc6:i386 g++ libstdc++6 py3-setuptools nginx@edge glibc.i686 1password nginx~1.24 x11-common=1:7.7+23 fonts-dejavu-core=2.37-6~bpo11+1",
        false,
        &[
            "nginx=1.22.1-9",
            "libc6:i386",
            "g++",
            "libstdc++6",
            "py3-setuptools",
            "nginx@edge",
            "glibc.i686",
            "1password",
            "nginx~1.24",
            "x11-common=1:7.7+23",
            "fonts-dejavu-core=2.37-6~bpo11+1",
        ],
    );
    check("./nginx_1.22.1-9_amd64.deb", true, &["./nginx_1.22.1-9_amd64.deb"]);
    check("nginx /tmp/pkgs/foo-1.0-1.el9.x86_64.rpm", true, &["nginx", "/tmp/pkgs/foo-1.0-1.el9.x86_64.rpm"]);
    // A file may hold what a shell would read: it is quoted when used.
    check("/tmp/it's-$(reboot);`x`.deb", true, &["/tmp/it's-$(reboot);`x`.deb"]);
}

#[test]
fn names_refused() {
    let check = |text: &str, allow_files: bool, expected: &str| {
        assert_eq!(
            parse_names(text, allow_files).map_err(|e| e.to_string()),
            Err(expected.to_string()),
            "{text}"
        );
    };
    let empty = "no package names given: list them separated by spaces or commas, e.g. `nginx curl`";
    check("", true, empty);
    check(" , \n", false, empty);
    check(
        "nginx openssh-server-",
        true,
        "`openssh-server-` (word 2) ends with `-`, which apt reads as \"remove this package\"; give the package's full name",
    );
    check(
        "-y",
        false,
        "`-y` (word 1) starts with `-`, so the package manager would take it for an option; give package names only",
    );
    check(
        "nginx --purge",
        false,
        "`--purge` (word 2) starts with `-`, so the package manager would take it for an option; give package names only",
    );
    check(
        "-x/a.deb",
        true,
        "`-x/a.deb` (word 1) starts with `-`, so the package manager would take it for an option; write the path as `./…`",
    );
    check(
        "nginx;reboot",
        false,
        "`nginx;reboot` (word 1) is not a package name: `;` is not allowed; names use letters, digits and `.+_:@~=-`",
    );
    check(
        "nginx$(id)",
        true,
        "`nginx$(id)` (word 1) is not a package name: `$` is not allowed; names use letters, digits and `.+_:@~=-`",
    );
    check(
        "nginx 'curl'",
        false,
        "`'curl'` (word 2) is not a package name: a name starts with a letter or a digit",
    );
    check(
        "@development-tools",
        false,
        "`@development-tools` (word 1) is not a package name: a name starts with a letter or a digit",
    );
    check(
        "ngin\u{1b}x",
        false,
        "`ngin·x` (word 1) is not a package name: `·` is not allowed; names use letters, digits and `.+_:@~=-`",
    );
    check("a\0b", false, "`a·b` (word 1) contains a NUL byte, which no shell can pass on; remove it");
    check(
        "nginx ./nginx.deb",
        false,
        "`./nginx.deb` (word 2) is a path, and removing takes the names of installed packages: give a name such as `nginx`",
    );
    check(
        "/etc/passwd",
        true,
        "`/etc/passwd` (word 1) contains `/` but is not a .deb or .rpm file: give a package name, or the path of a local .deb or .rpm file (repository prefixes such as `extra/nginx` are not supported)",
    );
    check(
        "extra/nginx",
        true,
        "`extra/nginx` (word 1) contains `/` but is not a .deb or .rpm file: give a package name, or the path of a local .deb or .rpm file (repository prefixes such as `extra/nginx` are not supported)",
    );
    check(
        "nginx.deb",
        true,
        "`nginx.deb` (word 1) looks like a package file but has no `/`, so it would be taken for a name: write it as `./nginx.deb`",
    );
    let long = format!("{};", "a".repeat(200));
    let error = parse_names(&long, false).unwrap_err().to_string();
    assert!(error.starts_with(&format!("`{}` (word 1) is not a package name", "a".repeat(80))), "{error}");
}

#[test]
fn base_names() {
    let check = |manager: Manager, wanted: &str, expected: &str| {
        assert_eq!(base_name(manager, wanted), expected, "{manager:?} {wanted}")
    };
    check(Apt, "nginx", "nginx");
    check(Apt, "nginx=1.22.1-9", "nginx");
    check(Apt, "x11-common=1:7.7+23", "x11-common");
    check(Apt, "libc6:i386", "libc6:i386");
    check(Apt, "libc6:i386=2.36-9", "libc6:i386");
    check(Apk, "nginx@edge", "nginx");
    check(Apk, "nginx=1.24.0-r7", "nginx");
    check(Apk, "nginx~1.24", "nginx");
    check(Apk, "py3-setuptools", "py3-setuptools");
    check(Pacman, "linux=6.7.4.arch1-1", "linux");
    check(Pacman, "lib32-glibc", "lib32-glibc");
    check(Zypper, "vim=9.0.2103", "vim");
    check(Zypper, "glibc.i586", "glibc");
    check(Zypper, "libopenssl1_1", "libopenssl1_1");
    check(Dnf, "glibc.i686", "glibc");
    check(Dnf, "python3.11", "python3.11");
    check(Dnf, "python3.11.x86_64", "python3.11");
    check(Dnf, "nginx-1.20.1", "nginx");
    check(Dnf, "nginx-1.20.1-10.el9", "nginx");
    check(Dnf, "nginx-1:1.20.1-10.el9.x86_64", "nginx");
    check(Yum, "gcc-toolset-12", "gcc-toolset-12");
    check(Yum, "java-17-openjdk", "java-17-openjdk");
    check(Yum, "java-1.8.0-openjdk", "java-1.8.0-openjdk");
    check(Yum, "java-1.8.0-openjdk-1.8.0.392.b08-4.el9", "java-1.8.0-openjdk");
    check(Yum, "kernel-5.14.0-427.el9", "kernel");
}

fn check_wanted(
    which: for<'a> fn(Manager, &'a [Wanted], &InstalledSet) -> Vec<&'a Wanted>,
    manager: Manager,
    installed: &InstalledSet,
    words: &[&str],
    expected: &[&str],
) {
    let wanted = names(words);
    let found: Vec<&str> = which(manager, &wanted, installed).into_iter().map(Wanted::as_str).collect();
    assert_eq!(found, expected, "{manager:?} {words:?}");
}

#[test]
fn missing_and_present_apt() {
    let installed = set(&[
        ("nginx", &["1.22.1-9"]),
        ("libc6", &["2.36-9"]),
        ("libc6:i386", &["2.36-9"]),
        ("zlib1g", &["1:1.2.13"]),
    ]);
    let check =
        |which, words: &[&str], expected: &[&str]| check_wanted(which, Apt, &installed, words, expected);
    check(missing, &["nginx", "curl"], &["curl"]);
    check(
        missing,
        &["nginx=1.22.1-9", "nginx=1.22.1-10", "nginx=1.22.1"],
        &["nginx=1.22.1-10", "nginx=1.22.1"],
    );
    check(missing, &["zlib1g=1:1.2.13", "zlib1g=1.2.13"], &["zlib1g=1.2.13"]);
    // The host's own architecture named is counted missing, and apt finds it there: no change, no harm.
    check(missing, &["libc6:i386", "libc6:armhf", "libc6:amd64"], &["libc6:armhf", "libc6:amd64"]);
    check(missing, &["./nginx.deb", "nginx"], &["./nginx.deb"]);
    check(present, &["nginx", "curl", "nginx=9"], &["nginx", "nginx=9"]);
    check(present, &["libc6:i386", "libc6:amd64", "curl:amd64"], &["libc6:i386", "libc6:amd64"]);
    check(present, &["./nginx.deb"], &[]);
}

#[test]
fn missing_and_present_rpm() {
    let installed = set(&[
        ("glibc", &["2.34-100.el9.x86_64"]),
        ("nginx", &["1:1.20.1-14.el9.x86_64"]),
        ("kernel-core", &["5.14.0-362.el9.x86_64", "5.14.0-427.el9.x86_64"]),
        ("python3.11", &["3.11.7-1.el9.x86_64"]),
    ]);
    for manager in [Dnf, Yum] {
        let check = |which, words: &[&str], expected: &[&str]| {
            check_wanted(which, manager, &installed, words, expected)
        };
        check(missing, &["glibc", "glibc.x86_64", "glibc.i686", "htop"], &["glibc.i686", "htop"]);
        check(
            missing,
            &[
                "nginx-1.20.1",
                "nginx-1.20.1-14.el9",
                "nginx-1:1.20.1-14.el9.x86_64",
                "nginx-1.20.2",
                "nginx-1.20.1-14.el9.i686",
            ],
            &["nginx-1.20.2", "nginx-1.20.1-14.el9.i686"],
        );
        check(
            missing,
            &["kernel-core-5.14.0-362.el9", "kernel-core-5.14.0-503.el9"],
            &["kernel-core-5.14.0-503.el9"],
        );
        check(missing, &["python3.11", "python3.12"], &["python3.12"]);
        check(missing, &["/tmp/foo-1.0-1.el9.x86_64.rpm"], &["/tmp/foo-1.0-1.el9.x86_64.rpm"]);
        check(
            present,
            &["glibc", "glibc.i686", "nginx-9.9", "htop", "kernel-core"],
            &["glibc", "nginx-9.9", "kernel-core"],
        );
    }
    let check =
        |which, words: &[&str], expected: &[&str]| check_wanted(which, Zypper, &installed, words, expected);
    check(
        missing,
        &["nginx=1.20.1", "nginx=1:1.20.1-14.el9", "nginx=1.20", "glibc.i586"],
        &["nginx=1.20", "glibc.i586"],
    );
    check(present, &["nginx=0.1", "glibc.x86_64", "glibc.i586"], &["nginx=0.1", "glibc.x86_64"]);
}

#[test]
fn missing_and_present_apk_and_pacman() {
    let alpine = set(&[("nginx", &["1.24.0-r7"]), ("py3-setuptools", &["68.2.2-r0"])]);
    let check = |which, words: &[&str], expected: &[&str]| check_wanted(which, Apk, &alpine, words, expected);
    check(
        missing,
        &["nginx", "nginx@edge", "nginx=1.24.0-r7", "nginx=1.24.0", "nginx~1.24", "curl"],
        &["nginx=1.24.0", "curl"],
    );
    check(present, &["nginx@edge", "py3-setuptools", "py3-pip"], &["nginx@edge", "py3-setuptools"]);
    let arch = set(&[("linux", &["6.7.4.arch1-1"]), ("lz4", &["1:1.9.4-1"])]);
    let check =
        |which, words: &[&str], expected: &[&str]| check_wanted(which, Pacman, &arch, words, expected);
    check(missing, &["linux", "lz4=1:1.9.4-1", "lz4=1.9.4-1", "vim"], &["lz4=1.9.4-1", "vim"]);
    check(present, &["linux", "vim"], &["linux"]);
}
