//! The package commands' parsers on recorded outputs: this machine's Debian 12 (`debian-12-*`), outputs quoted in
//! Ansible's yum tests and its issues, a zypper listing from a blog post, and lines written in each tool's format
//! from its source (apk-tools, pacman) for the rest.

use super::Manager::{Apk, Apt, Dnf, Pacman, Yum, Zypper};
use super::*;

macro_rules! recorded {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/packages/", $path))
    };
}

fn set(entries: &[(&str, &[&str])]) -> InstalledSet {
    entries.iter().map(|(name, versions)| (name.to_string(), versions.iter().map(|v| v.to_string()).collect())).collect()
}

fn upgrades(rows: &[(&str, &str, &str)]) -> Vec<Upgrade> {
    rows.iter().map(|(name, from, to)| Upgrade { name: name.to_string(), from: from.to_string(), to: to.to_string() }).collect()
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
    let echoed: Vec<&str> = DETECT.split("echo ").skip(1).map(|rest| rest.split_whitespace().next().unwrap()).collect();
    let mut expected: Vec<&str> = Manager::ALL.iter().map(|m| m.name()).collect();
    expected.push("none");
    assert_eq!(echoed, expected);
}

#[test]
fn commands_force_the_c_locale_and_change_nothing() {
    for manager in Manager::ALL {
        for command in [list_installed(manager), list_pending(manager)] {
            assert!(command.contains("LC_ALL=C "), "{command}");
            for word in ["sudo", "install", "remove", "refresh", "makecache", "update", "upgrade", "-Sy", "-Syu", "-y"] {
                assert!(!command.split_whitespace().any(|w| w == word), "{command} has {word}");
            }
        }
    }
    assert!(list_pending(Apt).starts_with("LC_ALL=C apt-get -s "), "a simulation only");
    assert!(list_pending(Dnf).contains(" -C check-update || [ $? -eq 100 ]"));
    assert!(list_pending(Yum).contains(" -C check-update || [ $? -eq 100 ]"));
    assert!(list_pending(Zypper).contains("--no-refresh"));
}

fn check_installed(manager: Manager, text: &str, expected: &[(&str, &[&str])]) {
    assert_eq!(parse_installed(manager, text), Ok(set(expected)), "{text}");
}

#[test]
fn installed_apt() {
    // `rc` (removed, configuration left) and `un`/`pn` (not installed) are not installed, nor are half-configured
    // (`iF`) or unpacked (`iU`) ones, which the manager must finish; held (`hi`) ones are. A foreign architecture is
    // named `name:arch`, as apt names it.
    check_installed(
        Apt,
        "amd64\nii \tadduser\tall\t3.134\nhi \tnginx\tamd64\t1.22.1-9\nrc \tapache2\tamd64\t2.4.57-2\nun \tfoo\t\t\n\
         pn \tbar\tamd64\t\niF \tpostgresql-15\tamd64\t15.5-0+deb12u1\nii \tlibc6\tamd64\t2.36-9+deb12u4\n\
         ii \tlibc6\ti386\t2.36-9+deb12u4\niU \tlibcap2\tamd64\t1:2.66-4\nii \tx11-common\tall\t1:7.7+23\n",
        &[
            ("adduser", &["3.134"]),
            ("libc6", &["2.36-9+deb12u4"]),
            ("libc6:i386", &["2.36-9+deb12u4"]),
            ("nginx", &["1.22.1-9"]),
            ("x11-common", &["1:7.7+23"]),
        ],
    );
    // On an arm64 host, amd64 is the foreign one.
    check_installed(
        Apt,
        "arm64\nii \tlibc6\tamd64\t2.36-9\nii \tlibc6\tarm64\t2.36-9\n",
        &[("libc6", &["2.36-9"]), ("libc6:amd64", &["2.36-9"])],
    );
    check_installed(Apt, "amd64\n", &[]);
    check_installed(Apt, "amd64\n\nii \tjq\tamd64\t1.6-2.1\n\n", &[("jq", &["1.6-2.1"])]);
}

#[test]
fn installed_apt_recorded() {
    let installed = parse_installed(Apt, recorded!("debian-12-installed")).unwrap();
    assert_eq!(installed.len(), 760);
    assert!(installed.values().all(|versions| versions.len() == 1));
    assert_eq!(installed["libcap2"], ["1:2.66-4+deb12u2+b2"]);
    assert_eq!(installed["adduser"], ["3.134"]);
    assert!(!installed.contains_key("nginx"));
}

#[test]
fn installed_rpm() {
    // Several kernels, glibc for two architectures, epochs (0 left out), a dotted name; signing keys left out.
    let listing = "\
bash\t0:5.1.8-9.el9.x86_64
kernel-core\t0:5.14.0-427.16.1.el9_4.x86_64
kernel-core\t0:5.14.0-362.24.1.el9_3.x86_64
kernel-core\t0:5.14.0-427.13.1.el9_4.x86_64
glibc\t0:2.34-100.el9.x86_64
glibc\t0:2.34-100.el9.i686
gpg-pubkey\t0:fd431d51-4ae0493b.(none)
gpg-pubkey\t0:5a6340b3-6229229e.(none)
openssl\t1:3.0.7-27.el9.x86_64
python3.11\t0:3.11.7-1.el9.x86_64
tzdata\t0:2024a-1.el9.noarch
";
    let expected: &[(&str, &[&str])] = &[
        ("bash", &["5.1.8-9.el9.x86_64"]),
        ("glibc", &["2.34-100.el9.i686", "2.34-100.el9.x86_64"]),
        ("kernel-core", &["5.14.0-362.24.1.el9_3.x86_64", "5.14.0-427.13.1.el9_4.x86_64", "5.14.0-427.16.1.el9_4.x86_64"]),
        ("openssl", &["1:3.0.7-27.el9.x86_64"]),
        ("python3.11", &["3.11.7-1.el9.x86_64"]),
        ("tzdata", &["2024a-1.el9.noarch"]),
    ];
    for manager in [Dnf, Yum, Zypper] {
        check_installed(manager, listing, expected);
    }
    check_installed(Dnf, "", &[]);
    check_installed(Zypper, "libzypp\t0:17.31.27-150400.3.49.1.x86_64\n", &[("libzypp", &["17.31.27-150400.3.49.1.x86_64"])]);
}

#[test]
fn installed_apk() {
    // The version is the last `-` piece, or the last two when the last is an `-rN` release; virtual packages have none.
    check_installed(
        Apk,
        "\
WARNING: Ignoring APKINDEX.00740ba1.tar.gz: No such file or directory
alpine-baselayout-3.4.3-r2
busybox-1.36.1-r15
libssl3-3.1.4-r5
py3-setuptools-68.2.2-r0
linux-firmware-rtl_nic-20220509-r1
gtk+3.0-3.24.41-r0
font-adobe-100dpi-1.0.4-r2
musl-1.2.4_git20230717-r4
.build-deps-20240215.101532
",
        &[
            (".build-deps", &["20240215.101532"]),
            ("alpine-baselayout", &["3.4.3-r2"]),
            ("busybox", &["1.36.1-r15"]),
            ("font-adobe-100dpi", &["1.0.4-r2"]),
            ("gtk+3.0", &["3.24.41-r0"]),
            ("libssl3", &["3.1.4-r5"]),
            ("linux-firmware-rtl_nic", &["20220509-r1"]),
            ("musl", &["1.2.4_git20230717-r4"]),
            ("py3-setuptools", &["68.2.2-r0"]),
        ],
    );
    check_installed(Apk, "", &[]);
}

#[test]
fn installed_pacman() {
    // pyinfra's recorded `pacman -Q` (tests/facts/pacman.PacmanPackages).
    check_installed(
        Pacman,
        "lz4 1:1.9.2-1\nncurses 6.1-6\nopenssl 1.1.1.d-1\np11-kit 0.23.18.1-1\npacman-mirrorlist 20191001-1\npambase 20190105.1-1\n",
        &[
            ("lz4", &["1:1.9.2-1"]),
            ("ncurses", &["6.1-6"]),
            ("openssl", &["1.1.1.d-1"]),
            ("p11-kit", &["0.23.18.1-1"]),
            ("pacman-mirrorlist", &["20191001-1"]),
            ("pambase", &["20190105.1-1"]),
        ],
    );
    check_installed(Pacman, "\n", &[]);
}

#[test]
fn installed_garbage_is_an_error_naming_the_line() {
    let check = |manager: Manager, text: &str, expected: &str| {
        assert_eq!(parse_installed(manager, text), Err(expected.to_string()), "{text}");
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
    let error = parse_installed(Pacman, &line).unwrap_err();
    let excerpt = error.split("(the line reads `").nth(1).unwrap().trim_end_matches("`)");
    assert_eq!(excerpt.chars().count(), 80);
    assert_eq!(excerpt, format!("{}…", "x".repeat(79)));
    // Control characters never reach the terminal.
    let error = parse_installed(Pacman, "a\x1b[2Jb c d").unwrap_err();
    assert!(error.ends_with("(the line reads `a·[2Jb c d`)"), "{error}");
}

#[test]
fn split_apk_names() {
    let check = |word: &str, expected: Option<(&str, &str)>| assert_eq!(split_apk(word), expected, "{word}");
    check("py3-setuptools-68.2.2-r0", Some(("py3-setuptools", "68.2.2-r0")));
    check("libssl3-3.1.4-r5", Some(("libssl3", "3.1.4-r5")));
    check("linux-firmware-rtl_nic-20220509-r1", Some(("linux-firmware-rtl_nic", "20220509-r1")));
    check("font-adobe-100dpi-1.0.4-r2", Some(("font-adobe-100dpi", "1.0.4-r2")));
    check(".build-deps-20240215.101532", Some((".build-deps", "20240215.101532")));
    check("busybox-1.36.1-r15", Some(("busybox", "1.36.1-r15")));
    check("busybox", None);
    check("busybox-r1", None);
    check("-1.0-r0", None);
    check("foo-bar-r1", None);
    check("foo-bar", None);
}

fn check_pending(manager: Manager, text: &str, installed: &InstalledSet, expected: &[(&str, &str, &str)]) {
    assert_eq!(parse_pending(manager, text, installed), Ok(upgrades(expected)), "{text}");
}

#[test]
fn pending_apt_recorded() {
    let pending = parse_pending(Apt, recorded!("debian-12-dist-upgrade"), &InstalledSet::new()).unwrap();
    assert_eq!(pending.len(), 124, "the `124 upgraded` apt announced");
    // Each `from` is what the listing recorded on the same machine says is installed.
    let installed = parse_installed(Apt, recorded!("debian-12-installed")).unwrap();
    for upgrade in &pending {
        assert_eq!(installed[&upgrade.name], std::slice::from_ref(&upgrade.from), "{upgrade:?}");
    }
    let find = |name: &str| pending.iter().find(|u| u.name == name).unwrap();
    assert_eq!(find("libcap2"), &upgrades(&[("libcap2", "1:2.66-4+deb12u2+b2", "1:2.66-4+deb12u3+b1")])[0]);
    // Two origins and a trailing `[]`.
    assert_eq!(find("libgcrypt20-dev").to, "1.10.1-3+deb12u1");
    assert!(pending.windows(2).all(|w| w[0].name < w[1].name));
}

#[test]
fn pending_apt() {
    let none = InstalledSet::new();
    // Recorded on the same machine: `apt-get -s install nginx` adds two packages…
    check_pending(
        Apt,
        "\
The following NEW packages will be installed:
  nginx nginx-common
0 upgraded, 2 newly installed, 0 to remove and 124 not upgraded.
Inst nginx-common (1.22.1-9+deb12u11 Debian-Security:12/oldstable-security [all])
Inst nginx (1.22.1-9+deb12u11 Debian-Security:12/oldstable-security [amd64])
Conf nginx-common (1.22.1-9+deb12u11 Debian-Security:12/oldstable-security [all])
Conf nginx (1.22.1-9+deb12u11 Debian-Security:12/oldstable-security [amd64])
",
        &none,
        &[("nginx", "", "1.22.1-9+deb12u11"), ("nginx-common", "", "1.22.1-9+deb12u11")],
    );
    // …and `apt-get -s remove --purge jq` removes two.
    check_pending(
        Apt,
        "The following packages will be REMOVED:\n  jq* yq*\nPurg yq [3.1.0-3]\nPurg jq [1.6-2.1+deb12u1]\n",
        &none,
        &[("jq", "1.6-2.1+deb12u1", ""), ("yq", "3.1.0-3", "")],
    );
    // A foreign architecture, a kernel pulled in, a package removed, a broken-dependency note.
    check_pending(
        Apt,
        "\
NOTE: This is only a simulation!
      apt-get needs root privileges for real execution.
Inst libc6:i386 [2.36-9+deb12u3] (2.36-9+deb12u4 Debian:12.5/stable [i386]) [libc6:amd64 ]
Inst libc6 [2.36-9+deb12u3] (2.36-9+deb12u4 Debian:12.5/stable [amd64])
Inst linux-image-6.1.0-18-amd64 (6.1.76-1 Debian-Security:12/stable-security [amd64])
Remv linux-image-6.1.0-13-amd64 [6.1.55-1]
Conf libc6 (2.36-9+deb12u4 Debian:12.5/stable [amd64])
",
        &none,
        &[
            ("libc6", "2.36-9+deb12u3", "2.36-9+deb12u4"),
            ("libc6:i386", "2.36-9+deb12u3", "2.36-9+deb12u4"),
            ("linux-image-6.1.0-13-amd64", "6.1.55-1", ""),
            ("linux-image-6.1.0-18-amd64", "", "6.1.76-1"),
        ],
    );
    check_pending(Apt, "Reading package lists...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n", &none, &[]);
    check_pending(Apt, "", &none, &[]);
}

/// The installed versions the dnf and yum cases take `from` out of.
fn rpm_installed() -> InstalledSet {
    set(&[
        ("ceph", &["1:10.2.5-0.el7.x86_64"]),
        ("glibc", &["2.17-157.el7.i686", "2.17-157.el7.x86_64"]),
        ("kernel", &["3.10.0-327.22.2.el7.x86_64", "3.10.0-327.28.2.el7.x86_64"]),
        ("libtiff", &["4.0.3-27.el7_3.x86_64"]),
        ("tzdata", &["2016j-1.el7.noarch"]),
    ])
}

#[test]
fn pending_yum_wrapped_rows() {
    // From ansible/ansible#20608: a name too long for its column pushes the version, and then the repository, to
    // lines of their own.
    check_pending(
        Yum,
        "\
Loaded plugins: fastestmirror
Loading mirror speeds from cached hostfile
 * base: mirror.corbina.net
 * extras: mirror.corbina.net
 * updates: mirror.corbina.net

empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty.x86_64
                                    0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1-0
                                                                         addons
libtiff.x86_64                      4.0.3-27.el7_3                       updates
",
        &rpm_installed(),
        &[
            (
                "empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty-empty",
                "",
                "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1-0.x86_64",
            ),
            ("libtiff", "4.0.3-27.el7_3.x86_64", "4.0.3-27.el7_3.x86_64"),
        ],
    );
    // From ansible/ansible-modules-core#4318: the version fits, the repository wraps.
    check_pending(
        Yum,
        "\
ipxe-roms-qemu.noarch                 20160127-1.git6366fa7a.el7
                                                            rhelosp-9.0-director-puddle
quota.x86_64                          1:4.01-11.el7_2.1     rhelosp-rhel-7.2-z
screen.x86_64                         4.1.0-0.23.20120314git3c2946.el7_2
                                                            rhelosp-rhel-7.2-z
",
        &rpm_installed(),
        &[
            ("ipxe-roms-qemu", "", "20160127-1.git6366fa7a.el7.noarch"),
            ("quota", "", "1:4.01-11.el7_2.1.x86_64"),
            ("screen", "", "4.1.0-0.23.20120314git3c2946.el7_2.x86_64"),
        ],
    );
    // Ansible's `longname` case: a repository name that fills the line.
    check_pending(
        Yum,
        "\
Loaded plugins: fastestmirror, priorities, rhnplugin
This system is receiving updates from RHN Classic or Red Hat Satellite.
Loading mirror speeds from cached hostfile

xxxxxxxxxxxxxxxxxxxxxxxxxx.noarch
                        1.16-1            xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
glibc.x86_64            2.17-157.el7_3.1  xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        &rpm_installed(),
        &[("glibc", "2.17-157.el7.x86_64", "2.17-157.el7_3.1.x86_64"), ("xxxxxxxxxxxxxxxxxxxxxxxxxx", "", "1.16-1.noarch")],
    );
}

#[test]
fn pending_dnf_and_yum() {
    let installed = rpm_installed();
    // From ansible/ansible#20608: epochs.
    check_pending(
        Yum,
        "\
Loaded plugins: fastestmirror, langpacks
Loading mirror speeds from cached hostfile

ceph.x86_64                               1:11.2.0-0.el7                    ceph
ceph-base.x86_64                          1:11.2.0-0.el7                    ceph
",
        &installed,
        &[("ceph", "1:10.2.5-0.el7.x86_64", "1:11.2.0-0.el7.x86_64"), ("ceph-base", "", "1:11.2.0-0.el7.x86_64")],
    );
    // Ansible's RHEL 7 output, with its wrapped plugin list and the "Obsoleting Packages" section (skipped, the
    // "Security:" lines with it).
    check_pending(
        Yum,
        "\n\
Loaded plugins: etckeeper, product-id, search-disabled-repos, subscription-
              : manager
This system is not registered to Red Hat Subscription Management. You can use subscription-manager to register.

NetworkManager-openvpn.x86_64         1:1.2.6-1.el7           epel
cabal-install.x86_64                  1.16.1.0-2.el7          epel
python34-libs.x86_64                  3.4.5-3.el7             epel

Obsoleting Packages
ddashboard.x86_64                     0.2.0.1-1.el7_3         mhlavink-developerdashboard
    developerdashboard.x86_64         0.1.12.2-1.el7_2        @mhlavink-developerdashboard
python-bugzilla.noarch                1.2.2-3.el7_2.1         mhlavink-developerdashboard
    python-bugzilla-develdashboardfixes.noarch
                                      1.2.2-3.el7             @mhlavink-developerdashboard
Security: kernel-3.10.0-327.28.2.el7.x86_64 is an installed security update
Security: kernel-3.10.0-327.22.2.el7.x86_64 is the currently running version
",
        &installed,
        &[
            ("NetworkManager-openvpn", "", "1:1.2.6-1.el7.x86_64"),
            ("cabal-install", "", "1.16.1.0-2.el7.x86_64"),
            ("python34-libs", "", "3.4.5-3.el7.x86_64"),
        ],
    );
    // Multilib: each architecture is its own row, `from` of the same architecture. Kernels: every installed one.
    check_pending(
        Dnf,
        "\
glibc.i686                    2.17-196.el7             base
glibc.x86_64                  2.17-196.el7             base
kernel.x86_64                 3.10.0-693.el7           base
tzdata.noarch                 2017b-1.el7              updates
",
        &installed,
        &[
            ("glibc", "2.17-157.el7.i686", "2.17-196.el7.i686"),
            ("glibc", "2.17-157.el7.x86_64", "2.17-196.el7.x86_64"),
            ("kernel", "3.10.0-327.22.2.el7.x86_64, 3.10.0-327.28.2.el7.x86_64", "3.10.0-693.el7.x86_64"),
            ("tzdata", "2016j-1.el7.noarch", "2017b-1.el7.noarch"),
        ],
    );
    // dnf 5 (Fedora 41) calls its section "Obsoleting packages"; a dotted name keeps its dots.
    check_pending(
        Dnf,
        "\
python3.11.x86_64     3.11.9-2.fc40     updates
Obsoleting packages
python3-dnf.noarch    4.21.1-1.fc41     updates
",
        &set(&[("python3.11", &["3.11.7-1.fc40.x86_64"])]),
        &[("python3.11", "3.11.7-1.fc40.x86_64", "3.11.9-2.fc40.x86_64")],
    );
    check_pending(Dnf, "", &installed, &[]);
    check_pending(Yum, "\nLoaded plugins: fastestmirror\n\n", &installed, &[]);
}

#[test]
fn pending_dnf_garbage_is_an_error() {
    let check = |text: &str, expected: &str| {
        assert_eq!(parse_pending(Dnf, text, &InstalledSet::new()), Err(expected.to_string()), "{text}");
    };
    check(
        "bash.x86_64  5.2.26-3.fc40  updates\nError: Failed to download metadata for repo 'fedora'\n",
        "cannot read line 2 of `check-update`'s output: expected `NAME.ARCH VERSION REPOSITORY` (the line reads `Error: Failed to download metadata for repo 'fedora'`)",
    );
    check(
        "bash  5.2.26-3.fc40  updates\n",
        "cannot read line 1 of `check-update`'s output: expected `NAME.ARCH VERSION REPOSITORY` (the line reads `bash  5.2.26-3.fc40  updates`)",
    );
    check(
        "bash.x86_64  5.2.26-3.fc40  updates  extra\n",
        "cannot read line 1 of `check-update`'s output: expected `NAME.ARCH VERSION REPOSITORY` (the line reads `bash.x86_64  5.2.26-3.fc40  updates  extra`)",
    );
    check(
        "a-very-long-name.x86_64\nbash.x86_64  5.2.26-3.fc40  updates\n",
        "cannot read line 1 of `check-update`'s output: the row stops before its version and repository (the line reads `a-very-long-name.x86_64`)",
    );
    check(
        "bash.x86_64  5.2.26-3.fc40  updates\na-very-long-name.x86_64\n      1.0-1\n",
        "cannot read line 2 of `check-update`'s output: the output ends before the row's version and repository (the line reads `a-very-long-name.x86_64`)",
    );
    check(
        "    1.0-1     updates\n",
        "cannot read line 1 of `check-update`'s output: expected `NAME.ARCH VERSION REPOSITORY` (the line reads `    1.0-1     updates`)",
    );
}

#[test]
fn pending_zypper() {
    let none = InstalledSet::new();
    // From a blog post's `zypper lu` on openSUSE Tumbleweed (the heading padded with trailing spaces).
    check_pending(
        Zypper,
        "\
Loading repository data...
Reading installed packages...
S | Repository | Name             | Current Version | Available Version | Arch  
--+------------+------------------+-----------------+-------------------+-------
v | OSS        | coreutils        | 8.27-2.3        | 8.27-3.1          | x86_64
v | OSS        | libzypp          | 16.14.0-1.1     | 16.15.3-1.1       | x86_64
v | OSS        | openSUSE-release | 20170816-1.2    | 20170821-1.2      | x86_64
",
        &none,
        &[
            ("coreutils", "8.27-2.3.x86_64", "8.27-3.1.x86_64"),
            ("libzypp", "16.14.0-1.1.x86_64", "16.15.3-1.1.x86_64"),
            ("openSUSE-release", "20170816-1.2.x86_64", "20170821-1.2.x86_64"),
        ],
    );
    // Columns are found by their heading, and a repository name may be long.
    check_pending(
        Zypper,
        "\
S  | Repository             | Name          | Current Version       | Available Version     | Arch
---+------------------------+---------------+-----------------------+-----------------------+-------
v  | Main Update Repository | libopenssl1_1 | 1.1.1l-150500.17.34.1 | 1.1.1l-150500.17.37.1 | x86_64
v  | Main Update Repository | tzdata        | 2024a-150000.75.28.1  | 2024b-150000.75.31.1  | noarch
",
        &none,
        &[
            ("libopenssl1_1", "1.1.1l-150500.17.34.1.x86_64", "1.1.1l-150500.17.37.1.x86_64"),
            ("tzdata", "2024a-150000.75.28.1.noarch", "2024b-150000.75.31.1.noarch"),
        ],
    );
    check_pending(Zypper, "Loading repository data...\nReading installed packages...\nNo updates found.\n", &none, &[]);
    let check_err = |text: &str, expected: &str| assert_eq!(parse_pending(Zypper, text, &none), Err(expected.to_string()));
    check_err(
        "v | OSS | vim | 9.0-1.1 | 9.1-1.1 | x86_64\n",
        "cannot read line 1 of `zypper list-updates`'s output: a table row comes before the heading that names its columns (the line reads `v | OSS | vim | 9.0-1.1 | 9.1-1.1 | x86_64`)",
    );
    check_err(
        "S | Repository | Name | Current Version | Available Version | Arch\nv | OSS | vim | 9.0-1.1\n",
        "cannot read line 2 of `zypper list-updates`'s output: expected a name, the current and available versions and an architecture (the line reads `v | OSS | vim | 9.0-1.1`)",
    );
}

#[test]
fn pending_apk() {
    let none = InstalledSet::new();
    check_pending(
        Apk,
        "\
WARNING: Ignoring APKINDEX.d8b2a6f4.tar.gz: No such file or directory
busybox-1.36.1-r16 x86_64 {busybox} (GPL-2.0-only) [upgradable from: busybox-1.36.1-r15]
libcrypto3-3.1.4-r6 x86_64 {openssl} (Apache-2.0) [upgradable from: libcrypto3-3.1.4-r5]
py3-setuptools-68.2.2-r1 noarch {py3-setuptools} (MIT) [upgradable from: py3-setuptools-68.2.2-r0]
musl-utils-1.2.4_git20230717-r5 x86_64 {musl} (MIT AND BSD-2-Clause AND GPL-2.0-or-later) [upgradable from: musl-utils-1.2.4_git20230717-r4]
",
        &none,
        &[
            ("busybox", "1.36.1-r15", "1.36.1-r16"),
            ("libcrypto3", "3.1.4-r5", "3.1.4-r6"),
            ("musl-utils", "1.2.4_git20230717-r4", "1.2.4_git20230717-r5"),
            ("py3-setuptools", "68.2.2-r0", "68.2.2-r1"),
        ],
    );
    // Two newer versions (the cache's and the repository's): the higher one, by number, not by text.
    check_pending(
        Apk,
        "\
curl-8.5.0-r10 x86_64 {curl} (curl) [upgradable from: curl-8.5.0-r0]
curl-8.5.0-r9 x86_64 {curl} (curl) [upgradable from: curl-8.5.0-r0]
",
        &none,
        &[("curl", "8.5.0-r0", "8.5.0-r10")],
    );
    check_pending(Apk, "", &none, &[]);
    assert_eq!(
        parse_pending(Apk, "busybox-1.36.1-r16 x86_64 {busybox} (GPL-2.0-only) [installed]\n", &none),
        Err("cannot read line 1 of `apk list -u`'s output: expected `NAME-VERSION ARCH {ORIGIN} (LICENSE) [upgradable from: NAME-VERSION]` (the line reads `busybox-1.36.1-r16 x86_64 {busybox} (GPL-2.0-only) [installed]`)".into())
    );
}

#[test]
fn pending_pacman() {
    let none = InstalledSet::new();
    // A package `IgnorePkg` holds back is no pending upgrade.
    check_pending(
        Pacman,
        "\
linux 6.7.4.arch1-1 -> 6.7.5.arch1-1
linux-lts 6.1.77-1 -> 6.1.78-1 [ignored]
lz4 1:1.9.4-1 -> 1:1.9.4-2
openssl 3.2.0-1 -> 3.2.1-1
",
        &none,
        &[("linux", "6.7.4.arch1-1", "6.7.5.arch1-1"), ("lz4", "1:1.9.4-1", "1:1.9.4-2"), ("openssl", "3.2.0-1", "3.2.1-1")],
    );
    check_pending(Pacman, "", &none, &[]);
    assert_eq!(
        parse_pending(Pacman, "linux 6.7.4.arch1-1 6.7.5.arch1-1\n", &none),
        Err("cannot read line 1 of `pacman -Qu`'s output: expected `NAME OLD-VERSION -> NEW-VERSION` (the line reads `linux 6.7.4.arch1-1 6.7.5.arch1-1`)".into())
    );
}

#[test]
fn pending_apt_garbage_is_an_error() {
    let check = |text: &str, expected: &str| {
        assert_eq!(parse_pending(Apt, text, &InstalledSet::new()), Err(expected.to_string()), "{text}");
    };
    check(
        "Inst nginx\n",
        "cannot read line 1 of `apt-get -s`'s output: expected `Inst NAME [VERSION] (NEW-VERSION …)` (the line reads `Inst nginx`)",
    );
    check(
        "Inst nginx [1.0 (2.0 Debian:12/stable [amd64])\n",
        "cannot read line 1 of `apt-get -s`'s output: expected `Inst NAME [VERSION] (NEW-VERSION …)` (the line reads `Inst nginx [1.0 (2.0 Debian:12/stable [amd64])`)",
    );
    check(
        "Remv nginx\n",
        "cannot read line 1 of `apt-get -s`'s output: expected `Remv NAME [VERSION]` (the line reads `Remv nginx`)",
    );
    check(
        "Remv nginx [1.0\n",
        "cannot read line 1 of `apt-get -s`'s output: the installed version's `[` is not closed (the line reads `Remv nginx [1.0`)",
    );
}

#[test]
fn versions_compare_by_number() {
    let check = |a: &str, b: &str, expected: Ordering| assert_eq!(compare_versions(a, b), expected, "{a} {b}");
    check("8.5.0-r10", "8.5.0-r9", Ordering::Greater);
    check("1.36.1-r16", "1.36.1-r16", Ordering::Equal);
    check("1.10", "1.9", Ordering::Greater);
    check("2.0", "10.0", Ordering::Less);
    check("1.2.4_git20230717-r5", "1.2.4_git20230717-r4", Ordering::Greater);
    check("1.2", "1.2.1", Ordering::Less);
}

/// Installed, upgraded and removed, as (name, version) and (name, from, to) rows.
type Expected<'a> = (&'a [(&'a str, &'a str)], &'a [(&'a str, &'a str, &'a str)], &'a [(&'a str, &'a str)]);

fn check_diff(before: &[(&str, &[&str])], after: &[(&str, &[&str])], expected: Expected) {
    let packages = |rows: &[(&str, &str)]| -> Vec<Package> {
        rows.iter().map(|(name, version)| Package { name: name.to_string(), version: version.to_string() }).collect()
    };
    let change = diff(&set(before), &set(after));
    let expected = Change { installed: packages(expected.0), upgraded: upgrades(expected.1), removed: packages(expected.2) };
    assert_eq!(change, expected, "{before:?} → {after:?}");
    assert_eq!(change.is_empty(), expected.installed.is_empty() && expected.upgraded.is_empty() && expected.removed.is_empty());
}

#[test]
fn diffs() {
    let nginx: (&str, &[&str]) = ("nginx", &["1.22.1-9"]);
    check_diff(&[], &[], (&[], &[], &[]));
    check_diff(&[nginx], &[nginx], (&[], &[], &[]));
    check_diff(&[], &[nginx], (&[("nginx", "1.22.1-9")], &[], &[]));
    check_diff(&[nginx], &[], (&[], &[], &[("nginx", "1.22.1-9")]));
    check_diff(&[nginx], &[("nginx", &["1.22.1-9+deb12u1"])], (&[], &[("nginx", "1.22.1-9", "1.22.1-9+deb12u1")], &[]));
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
    check_diff(&[glibc], &[("glibc", &["2.34-100.el9.x86_64"])], (&[], &[], &[("glibc", "2.34-100.el9.i686")]));
    check_diff(
        &[glibc],
        &[("glibc", &["2.34-105.el9.i686", "2.34-105.el9.x86_64"])],
        (&[], &[("glibc", "2.34-100.el9.i686, 2.34-100.el9.x86_64", "2.34-105.el9.i686, 2.34-105.el9.x86_64")], &[]),
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
        recorded!("debian-12-installed").replace("ii \tjq\tamd64\t1.6-2.1+deb12u1\n", "rc \tjq\tamd64\t1.6-2.1+deb12u1\n")
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
    words.iter().map(|w| if w.contains('/') { Wanted::File(w.to_string()) } else { Wanted::Name(w.to_string()) }).collect()
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
        assert_eq!(parse_names(text, allow_files), Err(expected.to_string()), "{text}");
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
    check("nginx 'curl'", false, "`'curl'` (word 2) is not a package name: a name starts with a letter or a digit");
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
    let error = parse_names(&long, false).unwrap_err();
    assert!(error.starts_with(&format!("`{}` (word 1) is not a package name", "a".repeat(80))), "{error}");
}

#[test]
fn base_names() {
    let check =
        |manager: Manager, wanted: &str, expected: &str| assert_eq!(base_name(manager, wanted), expected, "{manager:?} {wanted}");
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
    let installed =
        set(&[("nginx", &["1.22.1-9"]), ("libc6", &["2.36-9"]), ("libc6:i386", &["2.36-9"]), ("zlib1g", &["1:1.2.13"])]);
    let check = |which, words: &[&str], expected: &[&str]| check_wanted(which, Apt, &installed, words, expected);
    check(missing, &["nginx", "curl"], &["curl"]);
    check(missing, &["nginx=1.22.1-9", "nginx=1.22.1-10", "nginx=1.22.1"], &["nginx=1.22.1-10", "nginx=1.22.1"]);
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
        let check = |which, words: &[&str], expected: &[&str]| check_wanted(which, manager, &installed, words, expected);
        check(missing, &["glibc", "glibc.x86_64", "glibc.i686", "htop"], &["glibc.i686", "htop"]);
        check(
            missing,
            &["nginx-1.20.1", "nginx-1.20.1-14.el9", "nginx-1:1.20.1-14.el9.x86_64", "nginx-1.20.2", "nginx-1.20.1-14.el9.i686"],
            &["nginx-1.20.2", "nginx-1.20.1-14.el9.i686"],
        );
        check(missing, &["kernel-core-5.14.0-362.el9", "kernel-core-5.14.0-503.el9"], &["kernel-core-5.14.0-503.el9"]);
        check(missing, &["python3.11", "python3.12"], &["python3.12"]);
        check(missing, &["/tmp/foo-1.0-1.el9.x86_64.rpm"], &["/tmp/foo-1.0-1.el9.x86_64.rpm"]);
        check(present, &["glibc", "glibc.i686", "nginx-9.9", "htop", "kernel-core"], &["glibc", "nginx-9.9", "kernel-core"]);
    }
    let check = |which, words: &[&str], expected: &[&str]| check_wanted(which, Zypper, &installed, words, expected);
    check(missing, &["nginx=1.20.1", "nginx=1:1.20.1-14.el9", "nginx=1.20", "glibc.i586"], &["nginx=1.20", "glibc.i586"]);
    check(present, &["nginx=0.1", "glibc.x86_64", "glibc.i586"], &["nginx=0.1", "glibc.x86_64"]);
}

#[test]
fn missing_and_present_apk_and_pacman() {
    let alpine = set(&[("nginx", &["1.24.0-r7"]), ("py3-setuptools", &["68.2.2-r0"])]);
    let check = |which, words: &[&str], expected: &[&str]| check_wanted(which, Apk, &alpine, words, expected);
    check(missing, &["nginx", "nginx@edge", "nginx=1.24.0-r7", "nginx=1.24.0", "nginx~1.24", "curl"], &["nginx=1.24.0", "curl"]);
    check(present, &["nginx@edge", "py3-setuptools", "py3-pip"], &["nginx@edge", "py3-setuptools"]);
    let arch = set(&[("linux", &["6.7.4.arch1-1"]), ("lz4", &["1:1.9.4-1"])]);
    let check = |which, words: &[&str], expected: &[&str]| check_wanted(which, Pacman, &arch, words, expected);
    check(missing, &["linux", "lz4=1:1.9.4-1", "lz4=1.9.4-1", "vim"], &["lz4=1.9.4-1", "vim"]);
    check(present, &["linux", "vim"], &["linux"]);
}
