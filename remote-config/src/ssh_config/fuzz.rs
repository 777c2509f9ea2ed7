//! Property tests of the ssh_config reader, which reads files people write by hand: configurations with text
//! spliced in, cut out or duplicated load or are refused at one of their lines, and what loads resolves for
//! any host without a panic, its warnings and refusals naming lines of the file.

use proptest::prelude::*;

use super::*;
use crate::fuzz::{any_text, config, line_of, number_after, owned, spliced};

/// Where the configurations claim to come from.
const PATH: &str = "/cfg";

/// Configurations in the shapes the resolver's tests use. None has an `Include`, so nothing is read from
/// disk.
const SAMPLES: &[&str] = &[
    "Host web-* db?\n  HostName %h.internal\n  User deploy\n  Port 2222\n  IdentityFile ~/.ssh/id_ed25519\n  IdentitiesOnly yes\n\
     \x20 StrictHostKeyChecking accept-new\n  UserKnownHostsFile ~/.ssh/known_hosts ~/.ssh/known_hosts2\n  ConnectTimeout 10\n\
     \x20 ServerAliveInterval 1m30s\n  ProxyJump bastion,ops@jump.example.org:2200\n\nHost bastion\n  HostName 203.0.113.7\n\
     \x20 User ops\n\nHost *\n  HashKnownHosts yes\n  KexAlgorithms +diffie-hellman-group14-sha256\n  Ciphers -aes128-cbc\n",
    "# Keywords ignore case, and `=` may stand between a keyword and its value.\nhOsTnAmE=x\nUSER = bob\nport=\t22\n\
     IgnoreUnknown UseKeychain,AddKeysToAgent\nUseKeychain yes\nHost !bad.example.com *.example.com\n  \
     IdentityFile \"~/.ssh/my key\"\n  IdentityAgent none\n  GlobalKnownHostsFile /etc/ssh/ssh_known_hosts\n",
    "Match host *.example.com user root\n  IdentityAgent SSH_AUTH_SOCK\n  HostKeyAlias shared\n\
     Match originalhost db localuser me\n  ProxyCommand ssh -W %h:%p bastion\nMatch exec \"test -f /etc/x\"\n  User never\n\
     Match canonical final\n  Port 2022\nMatch all\n  CheckHostIP no\n  CanonicalizeHostname no\n\
     \x20 RevokedHostKeys ~/.ssh/revoked\n",
    "Host a\n  ProxyJump ssh://jump@jump.example.org:2222,ops@[2001:db8::1]:22\nHost b\n  ProxyJump none\n\
     \x20 HostKeyAlgorithms ^ssh-ed25519\n  MACs hmac-sha2-256-etm@openssh.com\n  ForwardAgent $SSH_AUTH_SOCK\n\
     \x20 RequiredRSASize 2048\n  ServerAliveInterval none\nHost *\n  HostName %%literal\n",
];

/// What the format gives a meaning to: quotes, `=`, comments, patterns, tokens, and keywords with a value to
/// check.
const SPECIAL: &[&str] = &[
    " ",
    "\t",
    "\n",
    "\r",
    "=",
    "\"",
    "\\",
    "#",
    "*",
    "?",
    "!",
    ",",
    "%",
    "%h",
    "%%",
    "%C",
    "%d",
    "~",
    "~root/",
    "${HOME}",
    "${",
    "$",
    "Host ",
    "Match ",
    "Match all",
    "Match final",
    "Match exec",
    "Port 0",
    "Port 65536",
    "ProxyJump ",
    "ssh://",
    "none",
    "yes",
    "[",
    "]",
    ":",
    "@",
    "IgnoreUnknown *",
    "\u{0}",
];

/// A local account that is the same wherever the tests run.
fn me() -> Local {
    Local {
        home: PathBuf::from("/home/me"),
        include_home: PathBuf::from("/nonexistent-home"),
        uid: 1000,
        hostname: "box.example.org".into(),
    }
}

/// The line an error names, with the file it names, when it names one.
fn place(err: &SshConfigError) -> Option<(&Path, usize)> {
    match err {
        SshConfigError::Read { .. } | SshConfigError::Permissions { .. } => None,
        SshConfigError::IncludeRead { path, line, .. }
        | SshConfigError::IncludePermissions { path, line, .. }
        | SshConfigError::IncludeDepth { path, line }
        | SshConfigError::UnknownKeyword { path, line, .. }
        | SshConfigError::MissingValue { path, line, .. }
        | SshConfigError::UnclosedQuote { path, line }
        | SshConfigError::BadValue { path, line, .. }
        | SshConfigError::ExtraValues { path, line, .. }
        | SshConfigError::BadMatch { path, line, .. } => Some((path, *line)),
    }
}

/// Loads `text` and checks that it is refused at one of its lines, or resolves `hosts` with every `/cfg:LINE`
/// named at the start of a warning or a refusal a line of it.
fn check(text: &str, hosts: &[&str]) -> Result<(), TestCaseError> {
    let config = match SshConfig::parse_in(text, Path::new(PATH), me()) {
        Ok(config) => config,
        Err(err) => {
            if let Some((path, line)) = place(&err) {
                prop_assert_eq!(path, Path::new(PATH));
                prop_assert!(line_of(text, line), "{err} in {text:?}");
            }
            return Ok(());
        }
    };
    for host in hosts {
        for query in
            [Query::host(host, "me"), Query { host, user: Some("root"), port: Some(2200), local_user: "me" }]
        {
            let resolved = config.resolve(query);
            // Each starts with the place of the line it is about (the final reading's HostName has none).
            for message in
                resolved.warnings.iter().chain(&resolved.refusals).filter(|m| m.starts_with("/cfg:"))
            {
                let line = number_after(message, "/cfg:").unwrap_or(0);
                prop_assert!(line_of(text, line), "{message:?} of {host} in {text:?}");
            }
            let algorithms = &resolved.algorithms;
            for list in [&algorithms.kex, &algorithms.ciphers, &algorithms.host_key, &algorithms.macs]
                .into_iter()
                .flatten()
            {
                let _ = assemble_algorithms(list, &["a", "b"], &["a", "b", "c"]);
            }
        }
    }
    Ok(())
}

/// Hosts the samples' blocks match and do not match.
const HOSTS: &[&str] =
    &["web-1", "db1", "bastion", "a", "b", "x.example.com", "bad.example.com", "db", "DB", "10.0.0.1", "::1"];

#[test]
fn the_samples_load() {
    for sample in SAMPLES {
        let loaded = SshConfig::parse_in(sample, Path::new(PATH), me());
        assert!(loaded.is_ok(), "{sample}: {:?}", loaded.err());
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn spliced_configurations_load_or_are_refused_at_a_line_of_theirs(text in spliced(owned(SAMPLES), SPECIAL)) {
        check(&text, HOSTS)?;
    }

    #[test]
    fn any_text_loads_or_is_refused_at_a_line_of_its(text in any_text()) {
        check(&text, &["a"])?;
    }

    /// The host as typed is anything a person or an inventory writes.
    #[test]
    fn any_host_resolves(text in prop::sample::select(SAMPLES), host in prop_oneof!["\\PC{0,20}", "[a-z%.*!-]{0,12}"]) {
        check(text, &[&host])?;
    }

    /// The algorithm lists keep or drop names by pattern, whatever the patterns.
    #[test]
    fn any_algorithm_list_is_assembled(value in "[-+^]?[a-z0-9*?!,@.-]{0,30}") {
        let assembled = assemble_algorithms(&value, &["a-1", "b-2"], &["a-1", "b-2", "c-3"]);
        prop_assert!(assembled.iter().all(|name| ["a-1", "b-2", "c-3"].contains(&name.as_str())), "{value}: {assembled:?}");
    }
}
