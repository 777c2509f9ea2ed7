//! apt's parsers on recorded outputs: a Debian 12 machine's listing and `apt-get -s dist-upgrade`
//! (`debian-12-*`), and simulations of an install, a purge and an upgrade recorded or written in apt's
//! format.

use crate::packages::Manager::Apt;
use crate::packages::tests::{check_installed, check_pending, recorded, upgrades};
use crate::packages::{InstalledSet, parse_installed, parse_pending};

#[test]
fn installed_apt() {
    // `rc` (removed, configuration left) and `un`/`pn` (not installed) are not installed, nor are
    // half-configured (`iF`) or unpacked (`iU`) ones, which the manager must finish; held (`hi`) ones are. A
    // foreign architecture is named `name:arch`, as apt names it.
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
    check_pending(
        Apt,
        "Reading package lists...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n",
        &none,
        &[],
    );
    check_pending(Apt, "", &none, &[]);
}

#[test]
fn pending_apt_garbage_is_an_error() {
    let check = |text: &str, expected: &str| {
        assert_eq!(
            parse_pending(Apt, text, &InstalledSet::new()).map_err(|e| e.to_string()),
            Err(expected.to_string()),
            "{text}"
        );
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
