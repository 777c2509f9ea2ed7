//! Security settings of ssh_config against `ssh` as the oracle, on the same files and the same sshd: each is
//! honoured as `ssh` honours it, or the host is refused. None may be read and then ignored, so that `remote`
//! connects where `ssh` would not.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tests::{TestHosts, generate_key, remote};

/// One row: the lines put before the common ones (which name the key and the sandbox's known_hosts), the user the
/// inventory and `ssh -l` give, whether both clients must connect, and what `remote`'s refusal must say.
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
    Case { name: "RevokedHostKeys lists another key", config: "RevokedHostKeys {OTHER}\n", user: None, connects: true, says: "" },
    Case {
        name: "RevokedHostKeys names a missing file",
        config: "RevokedHostKeys {DIR}/missing\n",
        user: None,
        connects: false,
        says: "the RevokedHostKeys file could not be checked",
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
            ("{OTHER_KEY}", std::fs::read_to_string(dir.join("other.pub")).unwrap_or_default().trim().to_string()),
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
        let out = remote(&["--inventory", inventory.to_str().unwrap(), "--json", "exec", "test", "--", "true"]);
        // Refused when the inventory is read: exit 2 and the reason on stderr.
        if out.code == 2 {
            return (false, out.stderr);
        }
        let document: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", out.stdout, out.stderr));
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
    let fixture = Fixture { hosts, ip, port, me: remote_core::inventory::current_user() };
    let mut failures = Vec::new();
    for case in CASES {
        let config = fixture.write_config(case);
        let user = case.user.unwrap_or(&fixture.me);
        let (ssh_connected, ssh_said) = fixture.ssh(&config, user);
        let (ours_connected, ours_said) = fixture.remote(&config, user);
        let verdict = |connected: bool| if connected { "connected" } else { "refused" };
        if (ssh_connected, ours_connected) != (case.connects, case.connects) || !ours_said.contains(case.says) {
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
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}
