//! zypper's parser on a `zypper list-updates` from a blog post and on tables written in zypper's format, with
//! the errors it gives for rows it cannot read.

use crate::packages::InstalledSet;
use crate::packages::Manager::Zypper;
use crate::packages::parse_pending;
use crate::packages::tests::check_pending;

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
    check_pending(
        Zypper,
        "Loading repository data...\nReading installed packages...\nNo updates found.\n",
        &none,
        &[],
    );
    let check_err = |text: &str, expected: &str| {
        assert_eq!(parse_pending(Zypper, text, &none).map_err(|e| e.to_string()), Err(expected.to_string()))
    };
    check_err(
        "v | OSS | vim | 9.0-1.1 | 9.1-1.1 | x86_64\n",
        "cannot read line 1 of `zypper list-updates`'s output: a table row comes before the heading that names its columns (the line reads `v | OSS | vim | 9.0-1.1 | 9.1-1.1 | x86_64`)",
    );
    check_err(
        "S | Repository | Name | Current Version | Available Version | Arch\nv | OSS | vim | 9.0-1.1\n",
        "cannot read line 2 of `zypper list-updates`'s output: expected a name, the current and available versions and an architecture (the line reads `v | OSS | vim | 9.0-1.1`)",
    );
}
