//! Security settings of ssh_config against `ssh` as the oracle, on the same files and the same sshd: each is
//! honoured as `ssh` honours it, or the host is refused. None may be read and then ignored, so that `remote`
//! connects where `ssh` would not.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tests::{TestHosts, generate_key, remote};

/// One row: the lines put before the common ones (which name the key and the sandbox's known_hosts), the user
/// the inventory and `ssh -l` give, whether both clients must connect, and what `remote`'s refusal must say.
struct Case {
    name: &'static str,
    config: &'static str,
    user: Option<&'static str>,
    connects: bool,
    says: &'static str,
}

const CASES: &[Case] = &[
    Case { name: "nothing special", config: "", user: None, connects: true, says: "" },
    Case {
        name: "RevokedHostKeys lists the host's key",
        config: "RevokedHostKeys {REVOKED}\nStrictHostKeyChecking no\n",
        user: None,
        connects: false,
        says: "(RevokedHostKeys) lists as revoked",
    },
    Case {
        name: "RevokedHostKeys lists another key",
        config: "RevokedHostKeys {OTHER}\n",
        user: None,
        connects: true,
        says: "",
    },
    Case {
        name: "RevokedHostKeys none",
        config: "RevokedHostKeys NONE\n",
        user: None,
        connects: true,
        says: "",
    },
    Case {
        name: "RevokedHostKeys names a missing file",
        config: "RevokedHostKeys {DIR}/missing\n",
        user: None,
        connects: false,
        says: "host key not checked against RevokedHostKeys",
    },
    Case {
        name: "HostKeyAlgorithms without the server's key type",
        config: "HostKeyAlgorithms ecdsa-sha2-nistp256,rsa-sha2-512\n",
        user: None,
        connects: false,
        says: "",
    },
    Case {
        name: "HostKeyAlgorithms of the server's type",
        config: "HostKeyAlgorithms ssh-ed25519\n",
        user: None,
        connects: true,
        says: "",
    },
    Case {
        name: "narrowed kex, cipher and MAC",
        config: "KexAlgorithms curve25519-sha256\nCiphers aes128-ctr\nMACs hmac-sha2-256\n",
        user: None,
        connects: true,
        says: "",
    },
    Case {
        name: "a cipher the server refuses",
        config: "Ciphers 3des-cbc\n",
        user: None,
        connects: false,
        says: "Ciphers 3des-cbc",
    },
    Case {
        name: "UserKnownHostsFile none under accept-new",
        config: "UserKnownHostsFile NONE\nStrictHostKeyChecking accept-new\n",
        user: None,
        connects: false,
        says: "has no known_hosts file to record keys in",
    },
    Case {
        name: "KnownHostsCommand under accept-new",
        config: "UserKnownHostsFile {DIR}/empty_known_hosts\nStrictHostKeyChecking accept-new\n\
                 KnownHostsCommand /bin/echo {NAME} {OTHER_KEY}\n",
        user: None,
        connects: false,
        says: "KnownHostsCommand /bin/echo",
    },
    Case {
        name: "a Match exec block that would route through a jump host",
        config: "Match exec true\n  ProxyJump 127.0.0.1:1\n",
        user: None,
        connects: false,
        says: "Match exec true cannot be evaluated by remote",
    },
    // The inventory's user reaches `Match user`: the block that turns checking off is not the one for `tb`.
    Case {
        name: "Match user of the local user, connecting as another",
        config: "Match user {ME}\n  StrictHostKeyChecking no\nHost *\n  UserKnownHostsFile {DIR}/empty_known_hosts\n",
        user: Some("tb"),
        connects: false,
        says: "host key unknown",
    },
];

struct Fixture {
    hosts: TestHosts,
    ip: String,
    port: u16,
    me: String,
}

impl Fixture {
    fn expand(&self, text: &str) -> String {
        let dir = self.hosts.dir();
        [
            ("{DIR}", dir.display().to_string()),
            ("{REVOKED}", dir.join("revoked").display().to_string()),
            ("{OTHER}", dir.join("other.pub").display().to_string()),
            (
                "{OTHER_KEY}",
                std::fs::read_to_string(dir.join("other.pub")).unwrap_or_default().trim().to_string(),
            ),
            ("{NAME}", format!("[{}]:{}", self.ip, self.port)),
            ("{ME}", self.me.clone()),
        ]
        .iter()
        .fold(text.to_string(), |text, (placeholder, value)| text.replace(placeholder, value))
    }

    /// The case's lines, then the key and the sandbox's known_hosts for every host (the first value wins).
    fn write_config(&self, case: &Case) -> PathBuf {
        let common = format!(
            "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  BatchMode yes\n",
            self.hosts.sandbox.client_key().display(),
            self.hosts.sandbox.known_hosts().display()
        );
        let path = self.hosts.dir().join("ssh_config");
        std::fs::write(&path, format!("{}{common}", self.expand(case.config))).expect("write ssh_config");
        path
    }

    fn ssh(&self, config: &Path, user: &str) -> (bool, String) {
        let output = Command::new("ssh")
            .arg("-F")
            .arg(config)
            .args(["-l", user, "-p", &self.port.to_string(), &self.ip, "true"])
            .stdin(Stdio::null())
            .output()
            .expect("run ssh");
        (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
    }

    fn remote(&self, config: &Path, user: &str) -> (bool, String) {
        let inventory = self.hosts.dir().join("remote.toml");
        let text = format!(
            "[groups.test]\nhosts = [\"{user}@{}:{}\"]\nssh_config = {:?}\nsystem_ssh_config = \"none\"\n",
            self.ip,
            self.port,
            config.display().to_string()
        );
        std::fs::write(&inventory, text).expect("write the inventory");
        let out =
            remote(&["--inventory", inventory.to_str().unwrap(), "--json", "exec", "test", "--", "true"]);
        // Refused when the inventory is read: exit 2 and the reason on stderr.
        if out.code == 2 {
            return (false, out.stderr);
        }
        let document: Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", out.stdout, out.stderr));
        let result = &document["results"][0];
        (result["ok"].as_bool().unwrap_or(false), result["error"].as_str().unwrap_or_default().to_string())
    }
}

#[test]
fn security_settings_are_honoured_or_refused_as_ssh_does() {
    let hosts = TestHosts::start(1);
    let server = &hosts.sandbox.servers()[0];
    let (ip, port) = (server.address.ip().to_string(), server.address.port());
    let dir = hosts.dir().to_path_buf();
    std::fs::copy(server.host_key_public(), dir.join("revoked")).expect("copy the host's public key");
    generate_key(&dir.join("other"));
    std::fs::write(dir.join("empty_known_hosts"), "").expect("write");
    let fixture = Fixture { hosts, ip, port, me: remote_config::local::current_user() };
    let mut failures = Vec::new();
    for case in CASES {
        let config = fixture.write_config(case);
        let user = case.user.unwrap_or(&fixture.me);
        let (ssh_connected, ssh_said) = fixture.ssh(&config, user);
        let (ours_connected, ours_said) = fixture.remote(&config, user);
        let verdict = |connected: bool| if connected { "connected" } else { "refused" };
        if (ssh_connected, ours_connected) != (case.connects, case.connects) || !ours_said.contains(case.says)
        {
            failures.push(format!(
                "{}: expected both {}, ours to say {:?}\n  ssh {}: {}\n  remote {}: {ours_said}",
                case.name,
                verdict(case.connects),
                case.says,
                verdict(ssh_connected),
                ssh_said.trim_end(),
                verdict(ours_connected),
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// A server that signs only with `ssh-rsa` (RSA over SHA-1), which OpenSSH 9.2 no longer accepts by default:
/// `remote` refuses it as `ssh` does, and connects, as `ssh` does, once ssh_config names it (`+ssh-rsa`).
#[test]
fn rsa_over_sha1_is_offered_only_when_asked_for() {
    let mut hosts = TestHosts::start(1);
    let dir = hosts.dir().to_path_buf();
    let rsa = dir.join("host_rsa_key");
    let made =
        Command::new("ssh-keygen").args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"]).arg(&rsa).status();
    assert!(made.expect("run ssh-keygen").success());
    let server = hosts.sandbox.server_mut(0);
    server.configure(&format!("HostKey {}", rsa.display())).expect("an RSA host key");
    server.configure("HostKeyAlgorithms ssh-rsa").expect("ssh-rsa signatures only");
    let (ip, port) = (server.address.ip().to_string(), server.address.port());
    let public = std::fs::read_to_string(rsa.with_extension("pub")).expect("read the public key");
    let public: Vec<&str> = public.split_whitespace().take(2).collect();
    let known_hosts = dir.join("rsa_known_hosts");
    std::fs::write(&known_hosts, format!("[{ip}]:{port} {}\n", public.join(" "))).expect("write");
    let fixture = Fixture { hosts, ip, port, me: remote_config::local::current_user() };
    for (extra, connects) in
        [("", false), ("HostKeyAlgorithms -ecdsa*\n", false), ("HostKeyAlgorithms +ssh-rsa\n", true)]
    {
        let config = fixture.hosts.dir().join("ssh_config");
        let text = format!(
            "{extra}Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  BatchMode yes\n",
            fixture.hosts.sandbox.client_key().display(),
            known_hosts.display()
        );
        std::fs::write(&config, text).expect("write ssh_config");
        let (ssh_connected, ssh_said) = fixture.ssh(&config, &fixture.me);
        let (ours_connected, ours_said) = fixture.remote(&config, &fixture.me);
        assert_eq!(
            (ssh_connected, ours_connected),
            (connects, connects),
            "{extra:?}\nssh: {ssh_said}\nremote: {ours_said}"
        );
    }
}

/// `~/.ssh/config` that others could have written is refused, as `ssh` refuses it ("Bad owner or
/// permissions"), rather than obeyed: it could turn host-key checking off.
#[test]
fn a_user_config_others_can_write_is_refused() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let ssh_dir = dir.path().join(".ssh");
    std::fs::create_dir_all(&ssh_dir).expect("mkdir");
    let config = ssh_dir.join("config");
    std::fs::write(&config, "StrictHostKeyChecking no\n").expect("write");
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o666)).expect("chmod");
    let inventory = dir.path().join("remote.toml");
    std::fs::write(&inventory, "[groups.test]\nhosts = [\"web\"]\nsystem_ssh_config = \"none\"\n")
        .expect("write");
    let env = [("HOME", Some(dir.path()))];
    let out = tests::remote_with_env(
        &["--inventory", inventory.to_str().unwrap(), "hosts", "test", "--json"],
        &env,
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("\"Bad owner or permissions\""), "{}", out.stderr);
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
    let out = tests::remote_with_env(
        &["--inventory", inventory.to_str().unwrap(), "hosts", "test", "--json"],
        &env,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("\"host_key_checking\":\"off\""), "{}", out.stdout);
}

/// `HashKnownHosts yes` (Debian's system default): accept-new records the host under a hashed name, as `ssh`
/// records it, in a file that held no hashed line before.
#[test]
fn hash_known_hosts_is_honoured_under_accept_new() {
    let hosts = TestHosts::start(1);
    let server = &hosts.sandbox.servers()[0];
    let (ip, port) = (server.address.ip().to_string(), server.address.port());
    let fixture = Fixture { hosts, ip, port, me: remote_config::local::current_user() };
    let dir = fixture.hosts.dir().to_path_buf();
    let mut lines = Vec::new();
    for client in ["ssh", "remote"] {
        let recorded = dir.join(format!("{client}_known_hosts"));
        std::fs::write(&recorded, "# no hashed line yet\n").expect("write");
        let config = dir.join("ssh_config");
        let text = format!(
            "Host *\n  StrictHostKeyChecking accept-new\n  HashKnownHosts yes\n  UserKnownHostsFile {}\n  IdentityFile {}\n  \
             IdentitiesOnly yes\n  BatchMode yes\n",
            recorded.display(),
            fixture.hosts.sandbox.client_key().display()
        );
        std::fs::write(&config, text).expect("write ssh_config");
        let (connected, said) = if client == "ssh" {
            fixture.ssh(&config, &fixture.me)
        } else {
            fixture.remote(&config, &fixture.me)
        };
        assert!(connected, "{client}: {said}");
        let written = std::fs::read_to_string(&recorded).expect("read");
        lines.push(
            written
                .lines()
                .last()
                .unwrap_or_default()
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string(),
        );
    }
    assert!(lines.iter().all(|name| name.starts_with("|1|")), "names recorded by ssh and remote: {lines:?}");
}

/// A host refused for its ssh_config fails on its own: the other hosts of its group run, other groups are not
/// touched, and `remote hosts` says why.
#[test]
fn a_refused_host_never_stops_the_others() {
    let hosts = TestHosts::start(1);
    let server = hosts.sandbox.servers()[0].address;
    let config = hosts.dir().join("ssh_config");
    std::fs::write(
        &config,
        "Host legacy\n  ProxyCommand nc %h %p\nHost scripted\n  KnownHostsCommand /bin/true\n",
    )
    .unwrap();
    let inventory = hosts.dir().join("refused.toml");
    let common = format!(
        "known_hosts = {:?}\nkey = {:?}\nssh_config = {:?}\nsystem_ssh_config = \"none\"\n",
        hosts.sandbox.known_hosts().display().to_string(),
        hosts.sandbox.client_key().display().to_string(),
        config.display().to_string()
    );
    let good = format!("{}:{}", server.ip(), server.port());
    let text = format!(
        "[groups.mixed]\nhosts = [\"legacy\", \"{good}\", \"scripted\"]\n{common}\n[groups.fine]\nhosts = [\"{good}\"]\n{common}"
    );
    std::fs::write(&inventory, text).unwrap();
    let inventory = inventory.to_str().unwrap();

    let out = remote(&["--inventory", inventory, "--json", "exec", "mixed", "--", "echo", "hi"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let document: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    let results = document["results"].as_array().unwrap();
    assert_eq!(results[1]["stdout"], "hi\n", "{document}");
    let legacy = results[0]["error"].as_str().unwrap();
    assert!(legacy.contains("ProxyCommand nc %h %p") && legacy.contains("ssh_config:2"), "{legacy}");
    assert!(results[2]["error"].as_str().unwrap().contains("KnownHostsCommand /bin/true"), "{document}");

    let out = remote(&["--inventory", inventory, "exec", "fine", "--", "true"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let out = remote(&["--inventory", inventory, "hosts", "mixed"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.lines().next().unwrap_or_default().starts_with("legacy  refused: ssh_config gives"),
        "{}",
        out.stdout
    );
}
