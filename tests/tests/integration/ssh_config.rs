//! The user's own SSH setup: `~/.ssh/config` (aliases, users, ports, identity files, jump hosts), keys tried
//! in OpenSSH's order, encrypted and unprotected keys, and `remote hosts` showing what will be used.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tests::{TestHosts, remote, remote_with_env};

/// An ssh_config file in the test's folder.
fn write_config(hosts: &TestHosts, text: &str) -> PathBuf {
    let path = hosts.dir().join("ssh_config");
    std::fs::write(&path, text).unwrap();
    path
}

/// An inventory with one group `test` of `entries`, reading `config`, with the sandbox's known_hosts and no
/// `key`.
fn inventory(hosts: &TestHosts, entries: &[&str], config: &Path, extra: &str) -> PathBuf {
    let list: Vec<String> = entries.iter().map(|e| format!("{e:?}")).collect();
    let text = format!(
        "[groups.test]\nhosts = [{}]\nknown_hosts = {:?}\nssh_config = {:?}\n{extra}",
        list.join(", "),
        hosts.sandbox.known_hosts().display().to_string(),
        config.display().to_string()
    );
    let path = hosts.dir().join("remote.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// A home folder without keys or config, so the machine's own `~/.ssh` plays no part.
fn empty_home(hosts: &TestHosts) -> PathBuf {
    let home = hosts.dir().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    home
}

#[test]
fn an_alias_resolves_through_ssh_config_and_the_inventory_wins() {
    let hosts = TestHosts::start(1);
    let address = hosts.sandbox.servers()[0].address;
    let key = hosts.sandbox.client_key();
    let config = write_config(
        &hosts,
        &format!(
            "Host web-*\n  User nobody-from-config\n\nHost web-1\n  HostName {}\n  Port {}\n  IdentityFile {}\n  IdentitiesOnly yes\n",
            address.ip(),
            address.port(),
            key.display()
        ),
    );
    let user = remote_config::local::current_user();
    let inventory = inventory(&hosts, &["web-1"], &config, &format!("user = {user:?}\n"));
    let home = empty_home(&hosts);
    let env = [("HOME", Some(home.as_path())), ("SSH_AUTH_SOCK", None)];
    let out = remote_with_env(
        &["--inventory", inventory.to_str().unwrap(), "--json", "exec", "test", "--", "true"],
        &env,
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    let shown = remote_with_env(&["--inventory", inventory.to_str().unwrap(), "hosts", "test"], &env);
    let expected = format!("web-1  {user}@{}:{}  no agent", address.ip(), address.port());
    assert!(
        shown.stdout.starts_with(&format!("web-1  {user}@{}:{}", address.ip(), address.port())),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains(&key.display().to_string()) && shown.stdout.contains("(IdentitiesOnly)"),
        "{expected}\n{}",
        shown.stdout
    );
}

/// The target can only be reached the way ssh_config says: through the jump host, over a `direct-tcpip`
/// channel of the jump host's own connection. The jump host's log shows the tunnel to the target; with the
/// jump host down, the target is unreachable and says why. OpenSSH's `ssh` on the same files takes the same
/// route.
#[test]
fn a_target_is_reached_through_its_jump_host() {
    let mut hosts = TestHosts::start(2);
    hosts.sandbox.server_mut(0).configure("LogLevel DEBUG1").expect("jump host with a verbose log");
    let (jump, target) = (hosts.sandbox.servers()[0].address, hosts.sandbox.servers()[1].address);
    let key = hosts.sandbox.client_key();
    let config = write_config(
        &hosts,
        &format!(
            "Host target\n  HostName {}\n  Port {}\n  ProxyJump jumper\n\nHost jumper\n  HostName {}\n  Port {}\n\n\
             Host *\n  IdentityFile {}\n  UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n",
            target.ip(),
            target.port(),
            jump.ip(),
            jump.port(),
            key.display(),
            hosts.sandbox.known_hosts().display()
        ),
    );
    let inventory = inventory(&hosts, &["target"], &config, "");
    let home = empty_home(&hosts);
    let env = [("HOME", Some(home.as_path())), ("SSH_AUTH_SOCK", None)];
    let args = [
        "--inventory",
        inventory.to_str().unwrap(),
        "--json",
        "exec",
        "test",
        "--",
        "sh",
        "-c",
        "echo $SSH_CONNECTION",
    ];
    let out = remote_with_env(&args, &env);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let answer = json(&out.stdout)["results"][0]["stdout"].as_str().unwrap().to_string();
    assert!(
        answer.contains(&format!(" {} {}", target.ip(), target.port())),
        "answered from elsewhere: {answer}"
    );
    let jump_log = hosts.sandbox.servers()[0].log();
    assert!(jump_log.contains("Accepted publickey"), "nobody logged in to the jump host:\n{jump_log}");
    let tunnel = format!(
        "server_request_direct_tcpip: originator 127.0.0.1 port 0, target {} port {}",
        target.ip(),
        target.port()
    );
    assert!(jump_log.contains(&tunnel), "no tunnel to the target in the jump host's log:\n{jump_log}");

    let shown = remote_with_env(&["--inventory", inventory.to_str().unwrap(), "hosts", "test"], &env);
    assert!(
        shown.stdout.contains(&format!(
            "via {}@{}:{}",
            remote_config::local::current_user(),
            jump.ip(),
            jump.port()
        )),
        "{}",
        shown.stdout
    );

    let shown =
        remote_with_env(&["--inventory", inventory.to_str().unwrap(), "--json", "hosts", "test"], &env);
    let document = json(&shown.stdout);
    let host = &document["hosts"][0];
    assert_eq!(
        (host["address"].as_str(), host["port"].as_u64()),
        (Some(target.ip().to_string().as_str()), Some(u64::from(target.port())))
    );
    assert_eq!(host["jumps"][0]["host"], "jumper", "{document}");
    assert_eq!(host["jumps"][0]["port"], u64::from(jump.port()), "{document}");

    // The oracle takes the same route with the same files.
    let ssh = Command::new("ssh")
        .args(["-F"])
        .arg(&config)
        .args(["-o", "BatchMode=yes", "target", "true"])
        .env("HOME", &home)
        .output()
        .expect("run ssh");
    assert!(
        ssh.status.success(),
        "ssh itself cannot use this config: {}",
        String::from_utf8_lossy(&ssh.stderr)
    );

    hosts.sandbox.server_mut(0).stop();
    let out = remote_with_env(&args, &env);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let error = json(&out.stdout)["results"][0]["error"].as_str().unwrap().to_string();
    assert!(error.starts_with("via jump host jumper: connection refused"), "{error}");
}

#[test]
fn keys_are_tried_in_openssh_order_and_unusable_ones_are_skipped_with_a_reason() {
    let hosts = TestHosts::start(1);
    let config = write_config(&hosts, "");
    let inventory = inventory(&hosts, &[&hosts.sandbox.host_entries()[0]], &config, "");
    let home = empty_home(&hosts);
    let ssh_dir = home.join(".ssh");
    // id_rsa comes first in OpenSSH's order: encrypted, it is skipped and id_ed25519 (the authorised key)
    // logs in.
    let encrypted = Command::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "2048", "-N", "s3cret-words", "-f"])
        .arg(ssh_dir.join("id_rsa"))
        .status()
        .unwrap();
    assert!(encrypted.success());
    std::fs::copy(hosts.sandbox.client_key(), ssh_dir.join("id_ed25519")).unwrap();
    let env = [("HOME", Some(home.as_path())), ("SSH_AUTH_SOCK", None)];
    let out =
        remote_with_env(&["--inventory", inventory.to_str().unwrap(), "exec", "test", "--", "true"], &env);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    // Now only the encrypted key is authorised: it works with the passphrase from the environment, never
    // shown.
    let authorized = hosts.sandbox.dir().join("authorized_keys");
    let original = std::fs::read(&authorized).unwrap();
    std::fs::copy(ssh_dir.join("id_rsa.pub"), &authorized).unwrap();
    let out = remote_with_env(
        &["--inventory", inventory.to_str().unwrap(), "--json", "exec", "test", "--", "true"],
        &env,
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let error = json(&out.stdout)["results"][0]["error"].as_str().unwrap().to_string();
    assert!(error.contains("id_rsa (skipped: it is encrypted; set REMOTE_KEY_PASSPHRASE"), "{error}");
    let passphrase = Path::new("s3cret-words");
    let with_passphrase = [
        ("HOME", Some(home.as_path())),
        ("SSH_AUTH_SOCK", None),
        ("REMOTE_KEY_PASSPHRASE", Some(passphrase)),
    ];
    let out = remote_with_env(
        &["--inventory", inventory.to_str().unwrap(), "--json", "exec", "test", "--", "true"],
        &with_passphrase,
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let wrong = [
        ("HOME", Some(home.as_path())),
        ("SSH_AUTH_SOCK", None),
        ("REMOTE_KEY_PASSPHRASE", Some(Path::new("not-it"))),
    ];
    let out = remote_with_env(
        &["--inventory", inventory.to_str().unwrap(), "--json", "exec", "test", "--", "true"],
        &wrong,
    );
    assert!(
        out.stdout.contains("does not open it")
            && !out.stdout.contains("not-it")
            && !out.stderr.contains("not-it"),
        "{}",
        out.stdout
    );
    std::fs::write(&authorized, original).unwrap();
}

#[test]
fn a_private_key_others_can_read_is_refused_as_openssh_refuses_it() {
    let hosts = TestHosts::start(1);
    let loose = hosts.dir().join("loose_key");
    std::fs::copy(hosts.sandbox.client_key(), &loose).unwrap();
    std::fs::set_permissions(&loose, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let inventory = hosts.write_inventory(&[("key", &format!("{:?}", loose.display().to_string()))]);
    let out = remote(&["--inventory", inventory.to_str().unwrap(), "exec", "test", "--", "true"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!(
            "permissions 0644 are too open: a private key must be readable by its owner only; run `chmod 600 {}`",
            loose.display()
        )),
        "{}",
        out.stdout
    );
    let ssh = Command::new("ssh")
        .args(["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i"])
        .arg(&loose)
        .args(["-o", &format!("UserKnownHostsFile={}", hosts.sandbox.known_hosts().display())])
        .args(["-p", &hosts.sandbox.servers()[0].address.port().to_string()])
        .arg(format!("{}@{}", remote_config::local::current_user(), hosts.sandbox.servers()[0].address.ip()))
        .arg("true")
        .output()
        .unwrap();
    assert!(
        !ssh.status.success()
            && String::from_utf8_lossy(&ssh.stderr).contains("UNPROTECTED PRIVATE KEY FILE"),
        "the oracle disagrees"
    );
}
