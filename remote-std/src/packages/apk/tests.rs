//! apk's parsers and version order on lines written in apk's format from apk-tools' source.

use super::*;
use crate::packages::Manager::Apk;
use crate::packages::parse_pending;
use crate::packages::tests::{check_installed, check_pending};

#[test]
fn installed_apk() {
    // The version is the last `-` piece, or the last two when the last is an `-rN` release; virtual packages
    // have none.
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
        parse_pending(Apk, "busybox-1.36.1-r16 x86_64 {busybox} (GPL-2.0-only) [installed]\n", &none)
            .map_err(|e| e.to_string()),
        Err("cannot read line 1 of `apk list -u`'s output: expected `NAME-VERSION ARCH {ORIGIN} (LICENSE) [upgradable from: NAME-VERSION]` (the line reads `busybox-1.36.1-r16 x86_64 {busybox} (GPL-2.0-only) [installed]`)".into())
    );
}

#[test]
fn versions_compare_by_number() {
    let check =
        |a: &str, b: &str, expected: Ordering| assert_eq!(compare_versions(a, b), expected, "{a} {b}");
    check("8.5.0-r10", "8.5.0-r9", Ordering::Greater);
    check("1.36.1-r16", "1.36.1-r16", Ordering::Equal);
    check("1.10", "1.9", Ordering::Greater);
    check("2.0", "10.0", Ordering::Less);
    check("1.2.4_git20230717-r5", "1.2.4_git20230717-r4", Ordering::Greater);
    check("1.2", "1.2.1", Ordering::Less);
}
