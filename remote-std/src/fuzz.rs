//! Property tests of the parsers that read text a person wrote (package names) or a host printed (package
//! listings, `systemctl show`): recorded samples with text spliced in, cut out or duplicated never panic, and
//! every error that names a line names one of the input's. The splicing is shared with the property tests of
//! the probes (`probe/fuzz.rs`).

use proptest::prelude::*;

pub(crate) use remote_fuzz::{any_text, config, line_of, number_after, owned, spliced};

mod packages {
    use super::*;
    use crate::packages::{InstalledSet, Manager, parse_installed, parse_names, parse_pending};

    macro_rules! recorded {
        ($path:literal) => {
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/packages/", $path))
        };
    }

    // The managers that share a parser, for the tables below.
    const APT: &[Manager] = &[Manager::Apt];
    const RPM: &[Manager] = &[Manager::Dnf, Manager::Yum, Manager::Zypper];
    const YUM: &[Manager] = &[Manager::Dnf, Manager::Yum];
    const ZYPPER: &[Manager] = &[Manager::Zypper];
    const APK: &[Manager] = &[Manager::Apk];
    const PACMAN: &[Manager] = &[Manager::Pacman];

    /// `list_installed`'s output for the managers that read it alike, recorded (Debian) or from the package
    /// tests.
    const INSTALLED: &[(&[Manager], &str)] = &[
        (APT, recorded!("debian-12-installed")),
        (
            RPM,
            "bash\t0:5.1.8-9.el9.x86_64\nkernel-core\t0:5.14.0-427.16.1.el9_4.x86_64\nglibc\t0:2.34-100.el9.i686\n\
             gpg-pubkey\t0:fd431d51-4ae0493b.(none)\nopenssl\t1:3.0.7-27.el9.x86_64\ntzdata\t0:2024a-1.el9.noarch\n",
        ),
        (
            APK,
            "WARNING: Ignoring APKINDEX.00740ba1.tar.gz: No such file or directory\nalpine-baselayout-3.4.3-r2\n\
             busybox-1.36.1-r15\ngtk+3.0-3.24.41-r0\nmusl-1.2.4_git20230717-r4\n.build-deps-20240215.101532\n",
        ),
        (PACMAN, "lz4 1:1.9.2-1\nncurses 6.1-6\nopenssl 1.1.1.d-1\np11-kit 0.23.18.1-1\n"),
    ];

    /// `list_pending`'s output for the managers that read it alike, recorded (Debian) or from the package
    /// tests.
    const PENDING: &[(&[Manager], &str)] = &[
        (APT, recorded!("debian-12-dist-upgrade")),
        (
            YUM,
            "Loaded plugins: fastestmirror\nLoading mirror speeds from cached hostfile\n * base: mirror.corbina.net\n\n\
             empty-empty-empty-empty.x86_64\n                                    0.0.1-0\n\
             \x20                                                                        addons\n\
             libtiff.x86_64                      4.0.3-27.el7_3                       updates\n\
             \nObsoleting Packages\nddashboard.x86_64    0.2.0.1-1.el7_3   mhlavink-developerdashboard\n",
        ),
        (
            ZYPPER,
            "Loading repository data...\nReading installed packages...\n\
             S | Repository | Name             | Current Version | Available Version | Arch  \n\
             --+------------+------------------+-----------------+-------------------+-------\n\
             v | OSS        | coreutils        | 8.27-2.3        | 8.27-3.1          | x86_64\n",
        ),
        (
            APK,
            "busybox-1.36.1-r16 x86_64 {busybox} (GPL-2.0-only) [upgradable from: busybox-1.36.1-r15]\n\
             curl-8.5.0-r10 x86_64 {curl} (curl) [upgradable from: curl-8.5.0-r0]\n\
             curl-8.5.0-r9 x86_64 {curl} (curl) [upgradable from: curl-8.5.0-r0]\n",
        ),
        (
            PACMAN,
            "linux 6.7.4.arch1-1 -> 6.7.5.arch1-1\nlinux-lts 6.1.77-1 -> 6.1.78-1 [ignored]\nlz4 1:1.9.4-1 -> 1:1.9.4-2\n",
        ),
    ];

    /// What the listings give a meaning to.
    const SPECIAL: &[&str] = &[
        "\t",
        " ",
        "\n",
        "\r",
        "ii",
        "rc",
        "iU",
        ":",
        "-",
        "-r1",
        ".",
        "[",
        "]",
        "(",
        ")",
        "->",
        "|",
        "Inst ",
        "Remv ",
        "Conf ",
        "Obsoleting Packages",
        "[upgradable from: ",
        "WARNING: ",
        "\u{1b}[2J",
        "…",
        "\u{0}",
    ];

    /// A manager and a sample of its parser's, spliced.
    fn spliced_output(
        table: &'static [(&'static [Manager], &'static str)],
    ) -> impl Strategy<Value = (Manager, String)> {
        prop::sample::select(table).prop_flat_map(|(managers, text)| {
            (prop::sample::select(managers), spliced(owned(&[text]), SPECIAL))
        })
    }

    /// Any manager.
    fn manager() -> impl Strategy<Value = Manager> {
        prop::sample::select(vec![
            Manager::Apt,
            Manager::Dnf,
            Manager::Yum,
            Manager::Zypper,
            Manager::Apk,
            Manager::Pacman,
        ])
    }

    /// Checks that an error names a line of `text`.
    fn check<T, E: std::fmt::Display>(text: &str, result: Result<T, E>) -> Result<(), TestCaseError> {
        if let Err(message) = result.map_err(|e| e.to_string())
            && let Some(line) = number_after(&message, "cannot read line ")
        {
            prop_assert!(line_of(text, line), "{message} in {text:?}");
        }
        Ok(())
    }

    #[test]
    fn the_samples_parse() {
        for (managers, text) in INSTALLED {
            for manager in *managers {
                assert!(
                    parse_installed(*manager, text).is_ok(),
                    "{manager:?}: {:?}",
                    parse_installed(*manager, text)
                );
            }
        }
        for (managers, text) in PENDING {
            for manager in *managers {
                let parsed = parse_pending(*manager, text, &InstalledSet::new());
                assert!(parsed.is_ok(), "{manager:?}: {parsed:?}");
            }
        }
    }

    proptest! {
        #![proptest_config(config(128))]

        #[test]
        fn spliced_listings_are_read_or_refused_at_a_line_of_theirs((manager, text) in spliced_output(INSTALLED)) {
            let installed = parse_installed(manager, &text);
            check(&text, installed.clone())?;
            // The listing after an install is compared with the one before it.
            if let Ok(after) = installed {
                let _ = crate::packages::diff(&InstalledSet::new(), &after);
            }
        }

        #[test]
        fn spliced_upgrade_lists_are_read_or_refused_at_a_line_of_theirs((manager, text) in spliced_output(PENDING)) {
            // dnf and yum take the versions installed before from the installed listing.
            let installed = parse_installed(Manager::Dnf, INSTALLED[1].1).unwrap_or_default();
            check(&text, parse_pending(manager, &text, &installed))?;
        }

        #[test]
        fn any_output_is_read_or_refused_at_a_line_of_its(manager in manager(), text in any_text()) {
            check(&text, parse_installed(manager, &text))?;
            check(&text, parse_pending(manager, &text, &InstalledSet::new()))?;
        }

        /// The names argument of `pkg_install`: what it accepts, written back with spaces, reads as the same
        /// list.
        #[test]
        fn accepted_package_names_print_back_to_themselves(
            text in prop_oneof![
                any_text(),
                prop::collection::vec("[a-z0-9][a-z0-9.+_:@~=-]{0,8}|\\./[a-z]{1,4}\\.(deb|rpm)|[ ,\t\n]", 0..8)
                    .prop_map(|words| words.join(" ")),
            ],
            allow_files in any::<bool>(),
        ) {
            if let Ok(wanted) = parse_names(&text, allow_files) {
                let words: Vec<&str> = wanted.iter().map(|w| w.as_str()).collect();
                prop_assert_eq!(parse_names(&words.join(" "), allow_files), Ok(wanted.clone()), "{:?}", text);
                for manager in [Manager::Apt, Manager::Dnf, Manager::Apk, Manager::Pacman] {
                    let _ = crate::packages::missing(manager, &wanted, &InstalledSet::new());
                }
            }
        }
    }
}

mod services {
    use super::*;
    use crate::services::{Action, needed, parse_show};

    /// `systemctl show` of a running, a never-started and a crashed unit, and one made up from a typo.
    const SAMPLES: &[&str] = &[
        "MainPID=1021\nResult=success\nNRestarts=0\nMemoryCurrent=8458240\nId=nginx.service\n\
         Description=A high performance web server and a reverse proxy server\nLoadState=loaded\nActiveState=active\n\
         SubState=running\nUnitFileState=enabled\nActiveEnterTimestamp=Mon 2024-05-13 09:12:44 UTC\n",
        "MainPID=0\nResult=success\nNRestarts=0\nMemoryCurrent=[not set]\nId=apache2.service\n\
         Description=The Apache HTTP Server\nLoadState=loaded\nActiveState=inactive\nSubState=dead\n\
         UnitFileState=disabled\nActiveEnterTimestamp=\n",
        "MainPID=0\nResult=exit-code\nNRestarts=5\nMemoryCurrent=[not set]\nId=worker.service\n\
         Description=Queue worker (queue=high, threads=4)\nLoadState=loaded\nActiveState=failed\nSubState=failed\n\
         UnitFileState=enabled\nActiveEnterTimestamp=Tue 2024-05-14 02:00:03 UTC\n",
        "MainPID=0\nResult=success\nNRestarts=\nMemoryCurrent=18446744073709551615\nId=ngnix.service\nDescription=ngnix.service\n\
         LoadState=not-found\nActiveState=inactive\nSubState=dead\nUnitFileState=\nActiveEnterTimestamp=n/a\n",
    ];

    /// What `systemctl show` gives a meaning to.
    const SPECIAL: &[&str] = &[
        "=",
        "==",
        "\n",
        " ",
        "Id=",
        "MainPID=",
        "NRestarts=",
        "-1",
        "4294967296",
        "[unprintable]",
        "\u{0}",
    ];

    /// Every action, each checked against what a show output says.
    const ACTIONS: [Action; 7] = [
        Action::Start,
        Action::Stop,
        Action::Restart,
        Action::Reload,
        Action::Enable,
        Action::Disable,
        Action::Status,
    ];

    /// Checks that an error names a line of `text`, and that every action can be judged against what parses.
    fn check(text: &str) -> Result<(), TestCaseError> {
        match parse_show(text) {
            Ok(service) => {
                for action in ACTIONS {
                    let _ = needed(action, &service);
                }
            }
            Err(error) => {
                let message = error.to_string();
                if let Some(line) = number_after(&message, "`systemctl show` line ") {
                    prop_assert!(line_of(text, line), "{message} in {text:?}");
                }
            }
        }
        Ok(())
    }

    #[test]
    fn the_samples_parse() {
        for sample in SAMPLES {
            assert!(parse_show(sample).is_ok(), "{sample}");
        }
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn spliced_show_outputs_are_read_or_refused_at_a_line_of_theirs(text in spliced(owned(SAMPLES), SPECIAL)) {
            check(&text)?;
        }

        #[test]
        fn any_output_is_read_or_refused_at_a_line_of_its(text in any_text()) {
            check(&text)?;
        }

        /// An action is named by its word in any case; what is accepted is that word.
        #[test]
        fn an_action_is_its_name(
            text in prop_oneof![any_text(), "[ \t]{0,2}(start|STOP|Restart|reload|enable|disable|status|x)[ \t]{0,2}"]
        ) {
            if let Ok(action) = Action::parse(&text) {
                prop_assert_eq!(action.name(), text.trim().to_ascii_lowercase());
                prop_assert_eq!(Action::parse(action.name()), Ok(action));
            }
        }
    }
}
