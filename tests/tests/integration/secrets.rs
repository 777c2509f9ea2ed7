//! Secrets given in the environment (the key's passphrase, the sudo and SMTP passwords) are taken out of it
//! at start, whatever else is given: no child process (cargo and its build scripts under `remote live`) and
//! no `/proc/PID/environ` of a running `remote` shows them.

use std::process::{Command, Stdio};

use tests::{TestHosts, remote_bin};

const SECRETS: [(&str, &str); 3] = [
    ("REMOTE_KEY_PASSPHRASE", "pp-secret-0917"),
    ("REMOTE_BECOME_PASSWORD", "become-secret-0917"),
    ("REMOTE_SMTP_PASSWORD", "smtp-secret-0917"),
];

/// `remote live` inside a workspace with `ops/` runs cargo; a stand-in for cargo records the environment it
/// got.
#[test]
fn no_child_of_remote_live_gets_a_secret() {
    let dir = tempfile::tempdir().expect("temporary folder");
    std::fs::write(dir.path().join("Cargo.toml"), "").expect("write");
    std::fs::create_dir_all(dir.path().join("ops").join("src")).expect("mkdir");
    std::fs::write(dir.path().join("ops").join("Cargo.toml"), "").expect("write");
    let seen = dir.path().join("cargo-environment");
    let cargo = dir.path().join("fake-cargo");
    std::fs::write(&cargo, format!("#!/bin/sh\nenv >> '{}'\nexit 1\n", seen.display())).expect("write");
    std::fs::set_permissions(&cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let script = dir.path().join("script");
    std::fs::write(&script, "help\n").expect("write");
    std::fs::write(dir.path().join("remote.toml"), "[groups.none]\nhosts = [\"127.0.0.1\"]\n")
        .expect("write");

    let mut command = Command::new(remote_bin());
    command.args(["live", "--no-hub", "--script"]).arg(&script).current_dir(dir.path()).env("CARGO", &cargo);
    for (name, value) in SECRETS {
        command.env(name, value);
    }
    let output = command.stdin(Stdio::null()).output().expect("run remote live");
    let environment = std::fs::read_to_string(&seen).unwrap_or_else(|e| {
        panic!(
            "cargo was not run ({e}):\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert!(environment.contains("PATH="), "{environment}");
    for (name, value) in SECRETS {
        assert!(
            !environment.contains(name) && !environment.contains(value),
            "cargo was given {name}:\n{environment}"
        );
    }
}

/// With a key file (not `REMOTE_KEY`), its passphrase is gone from the environment the running process shows.
#[test]
fn the_passphrase_of_a_key_file_is_not_in_proc_environ() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let tag = std::process::id() % 1000;
    let marker = format!("5.{tag}0917");
    let mut command = Command::new(remote_bin());
    command
        .args(["--inventory", inventory.to_str().unwrap(), "exec", "test", "--", "sh", "-c"])
        .arg(format!("sleep 5.$(({tag}))0917"));
    for (name, value) in SECRETS {
        command.env(name, value);
    }
    let environ = tests::environ_while_running(&mut command, &marker);
    // A process holding a secret is not dumpable, so only root can read its environment: as another user,
    // nothing can be read, which is the point.
    let root = remote_config::local::current_user() == "root";
    assert!(!root || environ.contains("PATH="), "the process's environment was read: {environ}");
    for (name, value) in SECRETS {
        assert!(!environ.contains(value), "{name}'s value is in /proc/PID/environ");
    }
}
