//! The parsers dnf, yum and zypper share, on outputs quoted in Ansible's yum tests and its issues and on
//! listings written in rpm's format.

use crate::packages::Manager::{Dnf, Yum, Zypper};
use crate::packages::tests::{check_installed, check_pending, set};
use crate::packages::{InstalledSet, parse_pending};

#[test]
fn installed_rpm() {
    // Several kernels, glibc for two architectures, epochs (0 left out), a dotted name; signing keys left
    // out.
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
        (
            "kernel-core",
            &["5.14.0-362.24.1.el9_3.x86_64", "5.14.0-427.13.1.el9_4.x86_64", "5.14.0-427.16.1.el9_4.x86_64"],
        ),
        ("openssl", &["1:3.0.7-27.el9.x86_64"]),
        ("python3.11", &["3.11.7-1.el9.x86_64"]),
        ("tzdata", &["2024a-1.el9.noarch"]),
    ];
    for manager in [Dnf, Yum, Zypper] {
        check_installed(manager, listing, expected);
    }
    check_installed(Dnf, "", &[]);
    check_installed(
        Zypper,
        "libzypp\t0:17.31.27-150400.3.49.1.x86_64\n",
        &[("libzypp", &["17.31.27-150400.3.49.1.x86_64"])],
    );
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
    // From ansible/ansible#20608: a name too long for its column pushes the version, and then the repository,
    // to lines of their own.
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
        &[
            ("glibc", "2.17-157.el7.x86_64", "2.17-157.el7_3.1.x86_64"),
            ("xxxxxxxxxxxxxxxxxxxxxxxxxx", "", "1.16-1.noarch"),
        ],
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
        &[
            ("ceph", "1:10.2.5-0.el7.x86_64", "1:11.2.0-0.el7.x86_64"),
            ("ceph-base", "", "1:11.2.0-0.el7.x86_64"),
        ],
    );
    // Ansible's RHEL 7 output, with its wrapped plugin list and the "Obsoleting Packages" section (skipped,
    // the "Security:" lines with it).
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
    // Multilib: each architecture is its own row, `from` of the same architecture. Kernels: every installed
    // one.
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
        assert_eq!(
            parse_pending(Dnf, text, &InstalledSet::new()).map_err(|e| e.to_string()),
            Err(expected.to_string()),
            "{text}"
        );
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
