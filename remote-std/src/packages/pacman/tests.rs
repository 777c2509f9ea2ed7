//! pacman's parsers on pyinfra's recorded `pacman -Q` and on lines written in pacman's format from its
//! source.

use crate::packages::InstalledSet;
use crate::packages::Manager::Pacman;
use crate::packages::parse_pending;
use crate::packages::tests::{check_installed, check_pending};

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
        &[
            ("linux", "6.7.4.arch1-1", "6.7.5.arch1-1"),
            ("lz4", "1:1.9.4-1", "1:1.9.4-2"),
            ("openssl", "3.2.0-1", "3.2.1-1"),
        ],
    );
    check_pending(Pacman, "", &none, &[]);
    assert_eq!(
        parse_pending(Pacman, "linux 6.7.4.arch1-1 6.7.5.arch1-1\n", &none).map_err(|e| e.to_string()),
        Err("cannot read line 1 of `pacman -Qu`'s output: expected `NAME OLD-VERSION -> NEW-VERSION` (the line reads `linux 6.7.4.arch1-1 6.7.5.arch1-1`)".into())
    );
}
