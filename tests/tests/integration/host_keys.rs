//! Trust: host keys under strict / accept-new / off, and client keys the server refuses.

use remote_core::{HostError, HostResult, HostSpec};
use remote_ssh::pool::{ExecOptions, PoolConfig, SessionPool};
use tests::{TestHosts, fingerprint, generate_key, runtime};

fn run_true(spec: &HostSpec) -> HostResult {
    let pool = SessionPool::new(PoolConfig::default());
    runtime().block_on(pool.exec_on(spec, "true", &ExecOptions::default()))
}

fn quoted(path: &std::path::Path) -> String {
    format!("\"{}\"", path.display())
}

#[test]
fn unknown_host_key_is_refused_under_strict_with_its_fingerprint() {
    let hosts = TestHosts::start(1);
    let empty = hosts.dir().join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let result = run_true(&hosts.specs_with(&[("known_hosts", &quoted(&empty))])[0]);
    assert!(matches!(result.outcome, Err(HostError::HostKeyUnknown { .. })), "{result:?}");
    let message = result.error_text().unwrap();
    let server = &hosts.sandbox.servers()[0];
    assert!(message.starts_with("host key unknown"), "{message}");
    assert!(message.contains(&fingerprint(&server.host_key_public())), "{message}");
    assert!(message.contains(&server.address.ip().to_string()), "{message}");
}

#[test]
fn accept_new_records_an_unknown_key_then_strict_trusts_it() {
    let hosts = TestHosts::start(1);
    let known_hosts = hosts.dir().join("learned_known_hosts");
    let result = run_true(
        &hosts.specs_with(&[("known_hosts", &quoted(&known_hosts)), ("host_key_checking", "\"accept-new\"")])
            [0],
    );
    assert!(result.ok(), "{result:?}");
    let recorded = std::fs::read_to_string(&known_hosts).unwrap();
    let server = &hosts.sandbox.servers()[0];
    let entry = format!("[{}]:{} ssh-ed25519 ", server.address.ip(), server.address.port());
    assert!(recorded.lines().any(|line| line.starts_with(&entry)), "{recorded}");
    let again = run_true(&hosts.specs_with(&[("known_hosts", &quoted(&known_hosts))])[0]);
    assert!(again.ok(), "{again:?}");
}

#[test]
fn changed_host_key_is_refused_under_strict_and_accept_new() {
    let mut hosts = TestHosts::start(1);
    assert!(run_true(&hosts.specs()[0]).ok());
    let recorded = std::fs::read_to_string(hosts.sandbox.known_hosts()).unwrap();
    hosts.sandbox.server_mut(0).change_host_key().unwrap();
    let new_fingerprint = fingerprint(&hosts.sandbox.servers()[0].host_key_public());
    for policy in ["\"strict\"", "\"accept-new\""] {
        let result = run_true(&hosts.specs_with(&[("host_key_checking", policy)])[0]);
        assert!(
            matches!(result.outcome, Err(HostError::HostKeyMismatch { line: 1, .. })),
            "{policy}: {result:?}"
        );
        let message = result.error_text().unwrap();
        assert!(message.starts_with("host key mismatch"), "{message}");
        assert!(message.contains(&new_fingerprint), "{message}");
        assert!(message.contains("ssh-keygen -R"), "{message}");
    }
    assert_eq!(
        std::fs::read_to_string(hosts.sandbox.known_hosts()).unwrap(),
        recorded,
        "known_hosts must not change"
    );
    let unchecked = run_true(&hosts.specs_with(&[("host_key_checking", "\"off\"")])[0]);
    assert!(unchecked.ok(), "{unchecked:?}");
}

#[test]
fn wrong_client_key_is_an_authentication_error() {
    let hosts = TestHosts::start(2);
    let stranger = hosts.dir().join("stranger_key");
    generate_key(&stranger);
    let run: Vec<HostResult> =
        hosts.specs_with(&[("key", &quoted(&stranger))]).iter().map(run_true).collect();
    for result in &run {
        assert!(matches!(result.outcome, Err(HostError::Auth { .. })), "{result:?}");
        let message = result.error_text().unwrap();
        assert!(message.starts_with("authentication failed for user"), "{message}");
        assert!(message.contains("stranger_key"), "{message}");
    }
}

#[test]
fn missing_key_file_is_named() {
    let hosts = TestHosts::start(1);
    let missing = hosts.dir().join("no_such_key");
    let result = run_true(&hosts.specs_with(&[("key", &quoted(&missing))])[0]);
    assert!(matches!(result.outcome, Err(HostError::KeyFile { .. })), "{result:?}");
    assert!(result.error_text().unwrap().contains("no_such_key"));
}

/// Several `remote` processes meeting the same new hosts at once under accept-new: each key is recorded once
/// (the lookup is repeated under the file's lock), into a file whose missing folder is created private.
#[test]
fn concurrent_accept_new_records_each_host_once() {
    use std::os::unix::fs::PermissionsExt;
    let hosts = TestHosts::start(3);
    let known_hosts = hosts.dir().join("fresh-ssh-dir").join("known_hosts");
    let value = format!("{:?}", known_hosts.display().to_string());
    let inventory =
        hosts.write_inventory(&[("known_hosts", &value), ("host_key_checking", "\"accept-new\"")]);
    let runs: Vec<_> = (0..4)
        .map(|_| {
            tests::spawn_remote(&["--inventory", inventory.to_str().unwrap(), "exec", "test", "--", "true"])
        })
        .collect();
    for run in runs {
        let out = run.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    }
    let text = std::fs::read_to_string(&known_hosts).unwrap();
    assert_eq!(text.lines().count(), 3, "each host once:\n{text}");
    for server in hosts.sandbox.servers() {
        let name = format!("[{}]:{} ", server.address.ip(), server.address.port());
        assert_eq!(text.lines().filter(|l| l.starts_with(&name)).count(), 1, "{name}\n{text}");
    }
    let mode = std::fs::metadata(known_hosts.parent().unwrap()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the created folder is private");
}
