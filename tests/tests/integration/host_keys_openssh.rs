//! Host-key verification against the real OpenSSH client as the oracle: the same known_hosts files must give
//! the same verdict.
//!
//! Each case writes a user file F and a global file G, runs `ssh` on them, puts both back as they were, then
//! runs `remote` on them. Both must connect or both must refuse, and both must leave F alike: under
//! accept-new that means the same appended line. The few places where `remote` refuses on purpose while `ssh`
//! connects are tested apart.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use serde_json::Value;
use tests::{TestHosts, fingerprint, generate_key, remote};

/// How strictly both clients check host keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Policy {
    Strict,
    AcceptNew,
    Off,
}

use Policy::{AcceptNew, Off, Strict};

/// Most cases run under both policies, since accept-new differs from strict only for unknown hosts.
const BOTH: &[Policy] = &[Strict, AcceptNew];

impl Policy {
    /// The value of ssh's `StrictHostKeyChecking`.
    fn ssh(self) -> &'static str {
        match self {
            Strict => "yes",
            AcceptNew => "accept-new",
            Off => "no",
        }
    }

    /// The inventory's `host_key_checking`, as a TOML value.
    fn inventory(self) -> &'static str {
        match self {
            Strict => "\"strict\"",
            AcceptNew => "\"accept-new\"",
            Off => "\"off\"",
        }
    }
}

/// One row of the table: the starting content of F and G, written with the placeholders of
/// [`Fixture::expand`].
#[derive(Clone, Copy)]
struct Case {
    name: &'static str,
    user: &'static str,
    global: &'static str,
    /// F's names are hashed with `ssh-keygen -H` after it is written, and ssh records new keys hashed as
    /// well.
    hashed: bool,
    policies: &'static [Policy],
}

const fn case(name: &'static str, user: &'static str) -> Case {
    Case { name, user, global: "", hashed: false, policies: BOTH }
}

impl Case {
    const fn global(self, global: &'static str) -> Self {
        Case { global, ..self }
    }

    const fn hashed(self) -> Self {
        Case { hashed: true, ..self }
    }

    const fn only(self, policies: &'static [Policy]) -> Self {
        Case { policies, ..self }
    }
}

/// The cases where `remote` must do what OpenSSH 9.2 does, under every policy a case lists.
const CASES: &[Case] = &[
    case("unknown host", ""),
    case("same key", "{NAME} {K}\n"),
    case(
        "same key, comment, tabs and several spaces",
        "{NAME}\t  {K_TYPE} \t {K_B64}\t  a comment  with spaces\n",
    ),
    case("leading blanks and a CRLF line end", "  \t{NAME} {K}\r\n"),
    case("several keys for the host, the right one second", "{NAME} {X}\n{NAME} {K}\n"),
    case("changed key of the same type", "# a comment\n\n{NAME} {X}\n"),
    case("only an RSA key recorded", "{NAME} {R}\n"),
    case("changed ed25519 key and an RSA key", "{NAME} {X}\n{NAME} {R}\n"),
    case("revoked key, also recorded plainly", "@revoked {NAME} {K}\n{NAME} {K}\n"),
    case("revoked for every host in G, recorded in F", "{NAME} {K}\n").global("@revoked * {K}\n"),
    case("revoked for another host only", "@revoked other.example {K}\n"),
    case("another key revoked, own key recorded", "@revoked * {X}\n{NAME} {K}\n"),
    // OpenSSH ends a marker at the line's first space, so a tab after `@revoked` makes that line invalid, not
    // a revocation.
    case("marker followed by a tab is no marker", "@revoked\t{NAME} {K}\n{NAME} {K}\n"),
    // Under accept-new ssh records the plain key beside a CA line; `remote` refuses, tested in the
    // deviations.
    case("only a @cert-authority line", "@cert-authority {NAME} {X}\n").only(&[Strict]),
    case("wildcard *", "[{IP3}*]:{PORT} {K}\n"),
    case("wildcard ?", "[{IP?}]:{PORT?} {K}\n"),
    case("a lone *", "* {K}\n"),
    case("negation of both name forms", "*,!*{IP}* {K}\n"),
    // ssh retries the plain IP, which the negation of the bracketed name does not exclude.
    case("negation of the bracketed name only", "*,!{NAME} {K}\n"),
    case("negation of the bracketed name, another key", "*,!{NAME} {X}\n"),
    case("comma list", "other.example,{NAME} {K}\n"),
    case("same IP, another port", "[{IP}]:{OTHER_PORT} {K}\n"),
    case("hashed entry of the right key", "{NAME} {K}\n").hashed(),
    case("hashed entry of a different key", "{NAME} {X}\n").hashed(),
    case("hashed plain IP entry of the right key", "{IP} {K}\n").hashed(),
    case("hashed entry for another host only", "other.example {X}\n").hashed(),
    case("key only in G", "").global("{NAME} {K}\n"),
    case("different key in F, right key in G", "{NAME} {X}\n").global("{NAME} {K}\n"),
    case("plain IP entry while the port is not 22", "{IP} {K}\n"),
    case("plain IP entry with a different key", "{IP} {X}\n"),
    // Under accept-new ssh warns about the revocation, then records and connects; `remote` refuses, tested in
    // the deviations.
    case("revoked plain IP entry", "@revoked {IP} {K}\n").only(&[Strict]),
    case("malformed line before the good one", "{NAME} ssh-ed25519 AAAA\n{NAME} {K}\n"),
    case("ed25519 key data labelled ssh-rsa", "{NAME} ssh-rsa {K_B64}\n"),
];

/// Connected or refused, with what the client said about it.
struct Verdict {
    connected: bool,
    /// ssh's stderr, or `remote`'s error text for the host.
    text: String,
}

impl Verdict {
    fn word(&self) -> &'static str {
        if self.connected { "connected" } else { "refused" }
    }
}

/// One test sshd, the keys the cases refer to, and one lane's files F and G that every case rewrites.
#[derive(Clone)]
struct Fixture {
    hosts: Arc<TestHosts>,
    user_file: PathBuf,
    global_file: PathBuf,
    /// Inventories naming F and G, strict and accept-new: written once, as `write_inventory` always writes
    /// one path.
    inventories: [PathBuf; 3],
    /// The server's host key as `type base64`.
    host_key: String,
    /// Another ed25519 key as `type base64`, and its public key file.
    other_key: String,
    other_public: PathBuf,
    rsa_key: String,
    ip: String,
    port: u16,
}

/// The `type base64` part of a public key file.
fn public_key(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let fields: Vec<&str> = text.split_whitespace().take(2).collect();
    assert_eq!(fields.len(), 2, "{} is not a public key: {text:?}", path.display());
    fields.join(" ")
}

/// `text` with its last character replaced by `?`.
fn last_unknown(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    chars.pop();
    chars.push('?');
    chars.into_iter().collect()
}

impl Fixture {
    fn start() -> Self {
        let hosts = TestHosts::start(1);
        let server = &hosts.sandbox.servers()[0];
        let host_key = public_key(&server.host_key_public());
        let (ip, port) = (server.address.ip().to_string(), server.address.port());
        assert_ne!(port, 22, "the cases rely on the bracketed name [IP]:PORT");
        let other = hosts.dir().join("other_ed25519");
        generate_key(&other);
        let rsa = hosts.dir().join("other_rsa");
        let status = Command::new("ssh-keygen")
            .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"])
            .arg(&rsa)
            .status()
            .expect("run ssh-keygen -t rsa");
        assert!(status.success(), "ssh-keygen -t rsa failed: {status}");
        Self {
            user_file: PathBuf::new(),
            global_file: PathBuf::new(),
            inventories: [PathBuf::new(), PathBuf::new(), PathBuf::new()],
            other_key: public_key(&other.with_extension("pub")),
            other_public: other.with_extension("pub"),
            rsa_key: public_key(&rsa.with_extension("pub")),
            host_key,
            ip,
            port,
            hosts: Arc::new(hosts),
        }
        .with_files("first")
    }

    /// The same server and keys with files of their own, so that cases can run on it side by side.
    fn lane(&self, name: &str) -> Self {
        self.clone().with_files(name)
    }

    fn with_files(mut self, lane: &str) -> Self {
        self.user_file = self.hosts.dir().join(format!("{lane}_known_hosts"));
        self.global_file = self.hosts.dir().join(format!("{lane}_global_known_hosts"));
        let quoted = |path: &Path| format!("\"{}\"", path.display());
        for policy in [Strict, AcceptNew, Off].iter() {
            let written = self.hosts.write_inventory(&[
                ("known_hosts", &quoted(&self.user_file)),
                ("global_known_hosts", &format!("[{}]", quoted(&self.global_file))),
                ("host_key_checking", policy.inventory()),
            ]);
            let inventory = self.hosts.dir().join(format!("{lane}_{}.toml", policy.ssh()));
            std::fs::rename(&written, &inventory).expect("move the inventory to the lane's own name");
            self.inventories[*policy as usize] = inventory;
        }
        self
    }

    /// The name both clients look up and record: `[IP]:PORT`.
    fn name(&self) -> String {
        format!("[{}]:{}", self.ip, self.port)
    }

    /// `text` with `{K}` (the server's key), `{K_TYPE}`, `{K_B64}`, `{X}` (another ed25519 key), `{R}` (an
    /// RSA key), `{NAME}`, `{IP}`, `{IP3}` (the IP up to its last octet), `{IP?}`, `{PORT}`, `{PORT?}` and
    /// `{OTHER_PORT}` filled in.
    fn expand(&self, text: &str) -> String {
        let (key_type, key_b64) = self.host_key.split_once(' ').expect("a public key has two fields");
        let ip3 = &self.ip[..=self.ip.rfind('.').expect("an IPv4 address")];
        let other_port = if self.port == u16::MAX { self.port - 1 } else { self.port + 1 };
        [
            ("{K}", self.host_key.clone()),
            ("{K_TYPE}", key_type.to_string()),
            ("{K_B64}", key_b64.to_string()),
            ("{X}", self.other_key.clone()),
            ("{R}", self.rsa_key.clone()),
            ("{NAME}", self.name()),
            ("{IP}", self.ip.clone()),
            ("{IP3}", ip3.to_string()),
            ("{IP?}", last_unknown(&self.ip)),
            ("{PORT}", self.port.to_string()),
            ("{PORT?}", last_unknown(&self.port.to_string())),
            ("{OTHER_PORT}", other_port.to_string()),
        ]
        .iter()
        .fold(text.to_string(), |text, (placeholder, value)| text.replace(placeholder, value))
    }

    /// Writes the case's F and G (hashing F's names when the case says so) and returns F's starting content.
    fn write_case(&self, case: &Case) -> String {
        let _ = std::fs::remove_dir(&self.user_file);
        std::fs::write(&self.user_file, self.expand(case.user)).expect("write F");
        std::fs::write(&self.global_file, self.expand(case.global)).expect("write G");
        if case.hashed {
            let output = Command::new("ssh-keygen")
                .arg("-H")
                .arg("-f")
                .arg(&self.user_file)
                .output()
                .expect("run ssh-keygen -H");
            assert!(output.status.success(), "ssh-keygen -H: {}", String::from_utf8_lossy(&output.stderr));
            let _ = std::fs::remove_file(self.user_file.with_extension("old"));
        }
        self.user_text()
    }

    /// Puts F and G back as the case started, so the second client sees what the first one saw.
    fn restore(&self, case: &Case, user: &str) {
        std::fs::write(&self.user_file, user).expect("restore F");
        std::fs::write(&self.global_file, self.expand(case.global)).expect("restore G");
    }

    fn user_text(&self) -> String {
        std::fs::read_to_string(&self.user_file).unwrap_or_else(|e| format!("(unreadable: {e})"))
    }

    /// Runs `ssh … true` on F and G; `hash` makes it record new keys hashed.
    fn ssh(&self, policy: Policy, hash: bool) -> Verdict {
        let option = |name: &str, value: &str| ["-o".to_string(), format!("{name}={value}")];
        let output = Command::new("ssh")
            .args(["-F", "/dev/null"])
            .args(option("BatchMode", "yes"))
            .args(option("StrictHostKeyChecking", policy.ssh()))
            .args(option("UserKnownHostsFile", &self.user_file.display().to_string()))
            .args(option("GlobalKnownHostsFile", &self.global_file.display().to_string()))
            .args(option("HashKnownHosts", if hash { "yes" } else { "no" }))
            // Off already when UserKnownHostsFile is set; said here so that ssh can never rewrite F on its
            // own.
            .args(option("UpdateHostKeys", "no"))
            .args(option("IdentitiesOnly", "yes"))
            .args(option("ConnectTimeout", "10"))
            .arg("-i")
            .arg(self.hosts.sandbox.client_key())
            .args(["-p", &self.port.to_string()])
            .arg(format!("{}@{}", remote_config::local::current_user(), self.ip))
            .arg("true")
            .stdin(Stdio::null())
            .output()
            .expect("run ssh");
        Verdict {
            connected: output.status.success(),
            text: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs `remote --json exec test -- true` on F and G; an answer without a host result is an error.
    fn remote(&self, policy: Policy) -> Result<Verdict, String> {
        let inventory = self.inventories[policy as usize].display().to_string();
        let out = remote(&["--inventory", &inventory, "--json", "exec", "test", "--", "true"]);
        let document: Value = serde_json::from_str(&out.stdout).map_err(|e| {
            format!(
                "remote exited with {} without a JSON report ({e}):\n{}{}",
                out.code, out.stdout, out.stderr
            )
        })?;
        let result = &document["results"][0];
        let connected = result["ok"]
            .as_bool()
            .ok_or_else(|| format!("remote reported no results[0].ok:\n{}{}", out.stdout, out.stderr))?;
        Ok(Verdict { connected, text: result["error"].as_str().unwrap_or_default().to_string() })
    }
}

/// Runs `case` under `policy` with both clients; `Err` says how they differed.
fn check(fixture: &Fixture, case: &Case, policy: Policy) -> Result<(), String> {
    let start = fixture.write_case(case);
    let ssh = fixture.ssh(policy, case.hashed);
    let after_ssh = fixture.user_text();
    fixture.restore(case, &start);
    let ours = fixture.remote(policy).map_err(|e| format!("{} under {policy:?}: {e}", case.name))?;
    let after_ours = fixture.user_text();
    let differ = |why: &str| {
        format!(
            "{} under {policy:?}: {why}\n  ssh {}: {}\n  remote {}: {}\n  \
             F at the start:\n{start}\n  F after ssh:\n{after_ssh}\n  F after remote:\n{after_ours}",
            case.name,
            ssh.word(),
            ssh.text.trim_end(),
            ours.word(),
            ours.text,
        )
    };
    // A refusal for any other reason, such as a bad login, would make the oracle agree with any refusing
    // product.
    if !ssh.connected && !ssh.text.contains("Host key verification failed") {
        return Err(differ("ssh refused for a reason other than the host key"));
    }
    if ssh.connected != ours.connected {
        return Err(differ("the verdicts differ"));
    }
    if !case.hashed || after_ssh == start {
        // Both wrote nothing, or both appended `[IP]:PORT type base64`, which must be the very same line.
        return if after_ssh == after_ours { Ok(()) } else { Err(differ("F differs after the two runs")) };
    }
    // F holds only hashed names, so both must append a hashed line with a salt of their own: compare its
    // form, not its text.
    let recorded = format!(" {}", fixture.host_key);
    for (who, after) in [("ssh", &after_ssh), ("remote", &after_ours)] {
        let line = after.strip_prefix(start.as_str()).unwrap_or_default();
        if !(line.starts_with("|1|") && line.lines().count() == 1 && line.trim_end().ends_with(&recorded)) {
            return Err(differ(&format!("{who} did not append one hashed line with the server's key")));
        }
    }
    let again =
        fixture.remote(Strict).map_err(|e| format!("{}: strict run after accept-new: {e}", case.name))?;
    if !again.connected {
        return Err(differ(&format!("a strict run on remote's own hashed line refused: {}", again.text)));
    }
    Ok(())
}

#[test]
fn host_key_verdicts_match_openssh() {
    let fixture = Fixture::start();
    let runs: Vec<(&Case, Policy)> =
        CASES.iter().flat_map(|case| case.policies.iter().map(move |policy| (case, *policy))).collect();
    // Two lanes on the one server halve the wall time: each run mostly waits for a handshake.
    let lanes = [fixture.lane("a"), fixture.lane("b")];
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = lanes
            .iter()
            .enumerate()
            .map(|(n, lane)| {
                let mine = runs.iter().skip(n).step_by(lanes.len());
                scope.spawn(move || {
                    mine.filter_map(|(case, policy)| check(lane, case, *policy).err()).collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|worker| worker.join().expect("a lane panicked")).collect()
    });
    assert!(failures.is_empty(), "{} case(s) differ from ssh:\n\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn deliberate_deviations_from_openssh() {
    let fixture = Fixture::start();
    let user_file = fixture.user_file.display().to_string();

    // An unreadable F hides whatever it records, so accepting a key that it may call changed is refused.
    let _ = std::fs::remove_file(&fixture.user_file);
    std::fs::create_dir(&fixture.user_file).expect("make F a directory");
    std::fs::write(&fixture.global_file, "").expect("write G");
    assert!(fixture.ssh(AcceptNew, false).connected, "ssh under accept-new connects past a directory F");
    for policy in BOTH {
        let ours = fixture.remote(*policy).unwrap_or_else(|e| panic!("F a directory, {policy:?}: {e}"));
        assert!(!ours.connected, "F a directory, {policy:?}: remote connected");
        assert!(
            ours.text.contains(&user_file),
            "F a directory, {policy:?}: the error does not name {user_file}: {}",
            ours.text
        );
    }
    std::fs::remove_dir(&fixture.user_file).expect("F was left an empty directory");

    // `remote` negotiates no host certificates, so a CA line cannot vouch for the host and accept-new must
    // not override it.
    let ca_only = case("only a @cert-authority line", "@cert-authority {NAME} {X}\n");
    let start = fixture.write_case(&ca_only);
    let ssh = fixture.ssh(AcceptNew, false);
    assert!(ssh.connected, "ssh under accept-new records the plain key beside a CA line: {}", ssh.text);
    assert_ne!(fixture.user_text(), start, "ssh recorded the plain key");
    fixture.restore(&ca_only, &start);
    let ours = fixture.remote(AcceptNew).unwrap_or_else(|e| panic!("CA line only: {e}"));
    let text = ours.text.to_lowercase();
    assert!(!ours.connected, "CA line only, accept-new: remote connected");
    assert!(
        text.contains("host certificate") && (text.contains("not support") || text.contains("unsupported")),
        "CA line only: the error does not say host certificates are not supported: {}",
        ours.text
    );
    assert_eq!(fixture.user_text(), start, "CA line only: remote must not append to F");

    // ssh finds the revocation only in its quiet retry of the plain IP, warns and still records the key; a
    // revoked key is never to be trusted, whichever of the host's names the revocation is written for.
    let revoked_ip = case("revoked plain IP entry", "@revoked {IP} {K}\n");
    let start = fixture.write_case(&revoked_ip);
    let ssh = fixture.ssh(AcceptNew, false);
    assert!(ssh.connected, "ssh under accept-new records a key revoked for the plain IP: {}", ssh.text);
    fixture.restore(&revoked_ip, &start);
    let ours = fixture.remote(AcceptNew).unwrap_or_else(|e| panic!("revoked plain IP: {e}"));
    assert!(!ours.connected, "revoked plain IP, accept-new: remote connected");
    assert!(ours.text.contains("revoked"), "revoked plain IP: no `revoked` in: {}", ours.text);
    assert_eq!(fixture.user_text(), start, "revoked plain IP: remote must not append to F");
}

#[test]
fn refusals_name_the_keys_and_the_line() {
    let fixture = Fixture::start();
    let presented = fingerprint(&fixture.hosts.sandbox.servers()[0].host_key_public());
    let recorded = fingerprint(&fixture.other_public);
    let place = format!("{}:3", fixture.user_file.display());
    for policy in BOTH {
        fixture.write_case(&case("changed key", "# a comment\n\n{NAME} {X}\n"));
        let changed = fixture.remote(*policy).unwrap_or_else(|e| panic!("changed key, {policy:?}: {e}"));
        assert!(!changed.connected, "changed key, {policy:?}: remote connected");
        for needed in [&presented, &recorded, &place] {
            assert!(
                changed.text.contains(needed.as_str()),
                "changed key, {policy:?}: no {needed} in: {}",
                changed.text
            );
        }
        // Advice to scan the host again or to accept new keys would help an attacker who changed the key.
        for forbidden in ["ssh-keyscan", "accept-new"] {
            assert!(
                !changed.text.contains(forbidden),
                "changed key, {policy:?}: {forbidden} in: {}",
                changed.text
            );
        }

        fixture.write_case(&case("revoked key", "@revoked {NAME} {K}\n{NAME} {K}\n"));
        let revoked = fixture.remote(*policy).unwrap_or_else(|e| panic!("revoked key, {policy:?}: {e}"));
        assert!(!revoked.connected, "revoked key, {policy:?}: remote connected");
        assert!(
            revoked.text.contains("revoked"),
            "revoked key, {policy:?}: no `revoked` in: {}",
            revoked.text
        );
    }
}

/// `off` is OpenSSH's `StrictHostKeyChecking no`: it connects wherever that does, unknown, changed,
/// other-type and revoked keys alike (OpenSSH's "continue unsafe"). Unlike ssh, `remote` records nothing
/// under `off`.
#[test]
fn off_connects_wherever_ssh_no_does() {
    let fixture = Fixture::start();
    let cases = [
        case("unknown host", ""),
        case("changed key", "{NAME} {X}\n"),
        case("only an RSA key recorded", "{NAME} {R}\n"),
        case("revoked key", "@revoked {NAME} {K}\n{NAME} {K}\n"),
    ];
    for case in &cases {
        let start = fixture.write_case(case);
        let ssh = fixture.ssh(Off, false);
        fixture.restore(case, &start);
        let ours = fixture.remote(Off).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(
            ours.connected, ssh.connected,
            "{}: ssh connected {}, remote {}: {}",
            case.name, ssh.connected, ours.connected, ours.text
        );
        assert!(ours.connected, "{}: {}", case.name, ours.text);
        assert_eq!(fixture.user_text(), start, "{}: remote wrote to known_hosts under off", case.name);
    }
}
