//! Packages against real sshd: a `.deb` the test builds with `dpkg-deb --build` installed for real on the
//! sandbox's host (this machine), run twice (the second says `unchanged`), upgraded, removed; dry runs that
//! leave it as it was.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tests::{TestHosts, remote};

const PACKAGE: &str = "remote-test-pkg";
/// A package that needs the first, so that removing the first takes it along.
const DEPENDENT: &str = "remote-test-dep";

/// Builds `remote-test-pkg` at `version` into `dir`, with one file that says its version.
fn build_deb(dir: &Path, version: &str) -> PathBuf {
    build(dir, PACKAGE, version, "")
}

/// Builds package `name` at `version`, with `depends` as its `Depends:` when not empty.
fn build(dir: &Path, name: &str, version: &str, depends: &str) -> PathBuf {
    let root = dir.join(format!("{name}-{version}"));
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(root.join(format!("usr/share/{name}"))).unwrap();
    let depends = if depends.is_empty() { String::new() } else { format!("Depends: {depends}\n") };
    std::fs::write(
        root.join("DEBIAN/control"),
        format!(
            "Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: remote tests <tests@example.org>\n\
             {depends}Description: a package the tests of remote install and remove\n"
        ),
    )
    .unwrap();
    std::fs::write(root.join(format!("usr/share/{name}/version")), format!("{version}\n")).unwrap();
    let deb = dir.join(format!("{name}_{version}_all.deb"));
    let out = Command::new("dpkg-deb")
        .args(["--root-owner-group", "--build"])
        .arg(&root)
        .arg(&deb)
        .output()
        .unwrap();
    assert!(out.status.success(), "dpkg-deb: {}", String::from_utf8_lossy(&out.stderr));
    deb
}

/// The version of the test package dpkg has installed here, if any.
fn installed_here() -> Option<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Abbrev} ${Version}", PACKAGE])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.strip_prefix("ii ").map(|v| v.trim().to_string())
}

/// Purges the test package whatever happened, so that no run leaves it on the machine.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["--purge", DEPENDENT, PACKAGE]).output();
    }
}

fn run(inventory: &str, expression: &str, check: bool) -> (i32, Value) {
    let mut args = vec!["--inventory", inventory, "--json"];
    if check {
        args.push("--check");
    }
    args.extend(["eval", expression]);
    let out = remote(&args);
    let document: Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", out.stdout, out.stderr));
    (out.code, document["results"][0].clone())
}

#[test]
fn a_deb_is_installed_once_upgraded_and_removed_and_dry_runs_change_nothing() {
    let _purge = Purge;
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let (v1, v2) = (build_deb(hosts.dir(), "1.0"), build_deb(hosts.dir(), "1.1"));
    let install = |deb: &Path| format!("pkg_install(test, \"{}\")", deb.display());
    let said = |result: &Value| result["stdout"].as_str().unwrap_or_default().trim().to_string();
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        // Installing needs root: without `become`, the host's package manager refuses, and the host says so.
        let (code, result) = run(inventory, &install(&v1), false);
        assert_eq!((code, result["ok"].clone()), (1, Value::from(false)), "{result}");
        assert!(result["stderr"].as_str().unwrap().contains("ermission denied"), "{result}");
        return;
    }
    assert_eq!(installed_here(), None, "the test package is installed already: `dpkg --purge {PACKAGE}`");

    let (code, result) = run(inventory, &install(&v1), true);
    assert_eq!((code, result["changed"].clone()), (0, Value::from(true)), "{result}");
    assert_eq!(said(&result), format!("would install {}", v1.display()));
    assert_eq!(result["data"]["manager"], "apt", "{result}");
    assert_eq!(installed_here(), None, "a dry run installed it");

    let (code, result) = run(inventory, &install(&v1), false);
    assert_eq!((code, result["changed"].clone()), (0, Value::from(true)), "{result}");
    assert_eq!(said(&result), format!("installed {PACKAGE} 1.0"));
    assert_eq!(
        result["data"]["installed"],
        serde_json::json!([{"name": PACKAGE, "version": "1.0"}]),
        "{result}"
    );
    assert_eq!(installed_here().as_deref(), Some("1.0"));
    assert_eq!(std::fs::read_to_string("/usr/share/remote-test-pkg/version").unwrap(), "1.0\n");

    // Again, by file and by name: nothing to do, and no package manager run.
    let (code, result) = run(inventory, &install(&v1), false);
    assert_eq!((code, result["changed"].clone()), (0, Value::from(false)), "{result}");
    assert_eq!(said(&result), format!("unchanged: {} installed already", v1.display()));
    let (_, result) = run(inventory, &format!("pkg_install(test, \"{PACKAGE}\")"), false);
    assert_eq!(result["changed"], Value::from(false), "{result}");

    // A newer file: a dry run says it would install it, then it is upgraded for real.
    let (_, result) = run(inventory, &install(&v2), true);
    assert_eq!(result["changed"], Value::from(true), "{result}");
    assert_eq!(installed_here().as_deref(), Some("1.0"), "a dry run upgraded it");
    let (code, result) = run(inventory, &install(&v2), false);
    assert_eq!((code, said(&result)), (0, format!("upgraded 1: {PACKAGE} 1.0 → 1.1")), "{result}");
    assert_eq!(
        result["data"]["upgraded"],
        serde_json::json!([{"name": PACKAGE, "from": "1.0", "to": "1.1"}])
    );
    assert_eq!(installed_here().as_deref(), Some("1.1"));

    // A package that needs it: removing the one takes the other, and the dry run says so (apt's own
    // simulation).
    let dependent = build(hosts.dir(), DEPENDENT, "2.0", PACKAGE);
    let (code, result) = run(inventory, &install(&dependent), false);
    assert_eq!((code, said(&result)), (0, format!("installed {DEPENDENT} 2.0")), "{result}");
    let remove = format!("pkg_remove(test, \"{PACKAGE}\")");
    let (_, result) = run(inventory, &remove, true);
    let both = format!("{DEPENDENT} 2.0, {PACKAGE} 1.1");
    assert_eq!(
        (result["changed"].clone(), said(&result)),
        (Value::from(true), format!("would remove {both}"))
    );
    assert_eq!(installed_here().as_deref(), Some("1.1"), "a dry run removed it");
    let (code, result) = run(inventory, &remove, false);
    assert_eq!((code, said(&result)), (0, format!("removed {both}")), "{result}");
    assert_eq!(installed_here(), None);
    let (_, result) = run(inventory, &remove, false);
    assert_eq!(
        (result["changed"].clone(), said(&result)),
        (Value::from(false), format!("unchanged: {PACKAGE} not installed"))
    );

    // A package no source has: the manager's own words come back.
    let (code, result) = run(inventory, "pkg_install(test, \"remote-test-no-such-package\")", false);
    assert_eq!((code, result["ok"].clone()), (1, Value::from(false)), "{result}");
    assert!(
        result["stderr"].as_str().unwrap().contains("Unable to locate package remote-test-no-such-package"),
        "{result}"
    );

    // A dry run asks apt only about what the host needs: an installed package stays unchanged even when the
    // index offers a newer one, and removing what is not there changes nothing.
    let (code, result) = run(inventory, "pkg_install(test, \"dpkg\")", true);
    assert_eq!(
        (code, result["changed"].clone(), said(&result)),
        (0, Value::from(false), "unchanged: dpkg installed already".into())
    );
    let (code, result) = run(inventory, "pkg_remove(test, \"remote-test-no-such-package\")", true);
    assert_eq!((code, result["changed"].clone()), (0, Value::from(false)), "{result}");

    // What the index offers, without changing anything (no network needed).
    let (code, result) = run(inventory, "pkg_upgrade(test)", true);
    assert_eq!(code, 0, "{result}");
    assert!(result["data"]["pending"].is_array(), "{result}");
    let (code, result) = run(inventory, "pkg_update(test)", true);
    assert_eq!((code, result["changed"].clone()), (0, Value::Null), "{result}");
    assert!(said(&result).starts_with("would refresh the package index;"), "{result}");

    // Names that could be options or shell are refused before any host is reached.
    let (code, result) = run(inventory, "pkg_install(test, \"-oAPT::x=1\")", false);
    assert_eq!((code, result["ok"].clone()), (1, Value::from(false)), "{result}");
}
