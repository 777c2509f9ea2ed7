//! The keywords an OpenSSH 9.2 client configuration may use and the kind of arguments each takes: the
//! `keywords[]` table of `readconf.c` and `parse_token`'s lookup in it, kept apart so that following a new
//! OpenSSH release (or a new distribution patch) changes this file alone.

use super::AlgorithmList;

/// How `process_config_line_depth` checks a keyword's arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Host,
    Match,
    Include,
    HostName,
    User,
    Port,
    IdentityFile,
    IdentitiesOnly,
    IdentityAgent,
    UserKnownHostsFile,
    GlobalKnownHostsFile,
    StrictHostKeyChecking,
    ConnectTimeout,
    ServerAliveInterval,
    ProxyJump,
    ProxyCommand,
    HostKeyAlias,
    IgnoreUnknown,
    CanonicalizeHostname,
    RevokedHostKeys,
    KnownHostsCommand,
    CheckHostIp,
    HashKnownHosts,
    RequiredRsaSize,
    Algorithms(AlgorithmList),
    /// `ForwardAgent`: yes/no or an agent socket path.
    ForwardAgent,
    /// yes, no, true or false.
    Flag,
    Choice(&'static [&'static str]),
    Time,
    Int,
    /// Exactly one non-empty word.
    Text,
    /// The rest of the line, unparsed.
    Command,
    /// Several words; `none` only alone.
    List,
    /// Between `min` and `max` words; OpenSSH checks more, which this module leaves to `ssh`.
    Words(usize, usize),
    /// Accepted and ignored: deprecated, unsupported, or added by Debian's patches.
    Ignored,
}

/// The values of the keywords that take one of a few words; OpenSSH compares them without regard to case.
pub(super) const FLAG: &[&str] = &["yes", "no", "true", "false"];
const YES_NO_ASK: &[&str] = &["yes", "no", "true", "false", "ask"];
pub(super) const STRICT_HOST_KEY: &[&str] = &["yes", "no", "true", "false", "ask", "off", "accept-new"];
const PUBKEY_AUTH: &[&str] = &["yes", "no", "true", "false", "unbound", "host-bound"];
pub(super) const CANONICALIZE: &[&str] = &["yes", "no", "true", "false", "always"];

/// Every keyword of OpenSSH 9.2's `keywords[]` (built with GSSAPI and PKCS#11, as Debian builds it) and the
/// ones Debian's patches add, spelled as `ssh_config(5)` spells them.
const KEYWORDS: &[(&str, Kind)] = &[
    // Deprecated and unsupported options: OpenSSH accepts them with at most a message.
    ("Protocol", Kind::Ignored),
    ("Cipher", Kind::Ignored),
    ("FallBackToRsh", Kind::Ignored),
    ("GlobalKnownHostsFile2", Kind::Ignored),
    ("RhostsAuthentication", Kind::Ignored),
    ("UserKnownHostsFile2", Kind::Ignored),
    ("UseRoaming", Kind::Ignored),
    ("UseRsh", Kind::Ignored),
    ("UsePrivilegedPort", Kind::Ignored),
    ("AFSTokenPassing", Kind::Ignored),
    ("KerberosAuthentication", Kind::Ignored),
    ("KerberosTGTPassing", Kind::Ignored),
    ("RSAAuthentication", Kind::Ignored),
    ("RhostsRSAAuthentication", Kind::Ignored),
    ("CompressionLevel", Kind::Ignored),
    // Debian's GSSAPI key exchange and keep-alive patches.
    ("GSSAPIKeyExchange", Kind::Ignored),
    ("GSSAPIClientIdentity", Kind::Ignored),
    ("GSSAPIServerIdentity", Kind::Ignored),
    ("GSSAPIRenewalForcesRekey", Kind::Ignored),
    ("GSSAPITrustDns", Kind::Ignored),
    ("GSSAPIKexAlgorithms", Kind::Ignored),
    ("ProtocolKeepAlives", Kind::Ignored),
    ("SetupTimeOut", Kind::Ignored),
    ("GSSAPIAuthentication", Kind::Flag),
    ("GSSAPIDelegateCredentials", Kind::Flag),
    ("PKCS11Provider", Kind::Text),
    ("SmartcardDevice", Kind::Text),
    ("ForwardAgent", Kind::ForwardAgent),
    ("ForwardX11", Kind::Flag),
    ("ForwardX11Trusted", Kind::Flag),
    ("ForwardX11Timeout", Kind::Time),
    ("ExitOnForwardFailure", Kind::Flag),
    ("XAuthLocation", Kind::Text),
    ("GatewayPorts", Kind::Flag),
    ("PasswordAuthentication", Kind::Flag),
    ("KbdInteractiveAuthentication", Kind::Flag),
    ("KbdInteractiveDevices", Kind::Text),
    ("ChallengeResponseAuthentication", Kind::Flag),
    ("SkeyAuthentication", Kind::Flag),
    ("TISAuthentication", Kind::Flag),
    ("PubkeyAuthentication", Kind::Choice(PUBKEY_AUTH)),
    ("DSAAuthentication", Kind::Choice(PUBKEY_AUTH)),
    ("HostbasedAuthentication", Kind::Flag),
    ("IdentityFile", Kind::IdentityFile),
    ("IdentityFile2", Kind::IdentityFile),
    ("IdentitiesOnly", Kind::IdentitiesOnly),
    ("CertificateFile", Kind::Text),
    ("AddKeysToAgent", Kind::Words(1, 2)),
    ("IdentityAgent", Kind::IdentityAgent),
    ("HostName", Kind::HostName),
    ("HostKeyAlias", Kind::HostKeyAlias),
    ("ProxyCommand", Kind::ProxyCommand),
    ("Port", Kind::Port),
    ("Ciphers", Kind::Algorithms(AlgorithmList::Ciphers)),
    ("MACs", Kind::Algorithms(AlgorithmList::Macs)),
    ("RemoteForward", Kind::Words(1, 2)),
    ("LocalForward", Kind::Words(2, 2)),
    ("PermitRemoteOpen", Kind::Words(1, usize::MAX)),
    ("User", Kind::User),
    ("Host", Kind::Host),
    ("Match", Kind::Match),
    ("EscapeChar", Kind::Text),
    ("GlobalKnownHostsFile", Kind::GlobalKnownHostsFile),
    ("UserKnownHostsFile", Kind::UserKnownHostsFile),
    ("ConnectionAttempts", Kind::Int),
    ("BatchMode", Kind::Flag),
    ("CheckHostIP", Kind::CheckHostIp),
    ("StrictHostKeyChecking", Kind::StrictHostKeyChecking),
    ("Compression", Kind::Choice(&["yes", "no"])),
    ("TCPKeepAlive", Kind::Flag),
    ("KeepAlive", Kind::Flag),
    ("NumberOfPasswordPrompts", Kind::Int),
    ("SyslogFacility", Kind::Text),
    ("LogLevel", Kind::Text),
    ("LogVerbose", Kind::List),
    ("DynamicForward", Kind::Text),
    ("PreferredAuthentications", Kind::Text),
    ("HostKeyAlgorithms", Kind::Algorithms(AlgorithmList::HostKey)),
    ("CASignatureAlgorithms", Kind::Text),
    ("BindAddress", Kind::Text),
    ("BindInterface", Kind::Text),
    ("ClearAllForwardings", Kind::Flag),
    ("EnableSSHKeysign", Kind::Flag),
    ("VerifyHostKeyDNS", Kind::Choice(YES_NO_ASK)),
    ("NoHostAuthenticationForLocalhost", Kind::Flag),
    ("RekeyLimit", Kind::Words(1, 2)),
    ("ConnectTimeout", Kind::ConnectTimeout),
    ("AddressFamily", Kind::Choice(&["inet", "inet6", "any"])),
    ("ServerAliveInterval", Kind::ServerAliveInterval),
    ("ServerAliveCountMax", Kind::Int),
    ("SendEnv", Kind::Words(0, usize::MAX)),
    ("SetEnv", Kind::Words(0, usize::MAX)),
    ("ControlPath", Kind::Text),
    ("ControlMaster", Kind::Choice(&["yes", "no", "true", "false", "auto", "ask", "autoask"])),
    ("ControlPersist", Kind::Text),
    ("HashKnownHosts", Kind::HashKnownHosts),
    ("Include", Kind::Include),
    ("Tunnel", Kind::Choice(&["ethernet", "point-to-point", "yes", "no", "true", "false"])),
    ("TunnelDevice", Kind::Text),
    ("LocalCommand", Kind::Command),
    ("PermitLocalCommand", Kind::Flag),
    ("RemoteCommand", Kind::Command),
    ("VisualHostKey", Kind::Flag),
    ("KexAlgorithms", Kind::Algorithms(AlgorithmList::Kex)),
    ("IPQoS", Kind::Words(1, 2)),
    ("RequestTTY", Kind::Choice(&["yes", "no", "true", "false", "force", "auto"])),
    ("SessionType", Kind::Choice(&["none", "subsystem", "default"])),
    ("StdinNull", Kind::Flag),
    ("ForkAfterAuthentication", Kind::Flag),
    ("ProxyUseFdpass", Kind::Flag),
    ("CanonicalDomains", Kind::List),
    ("CanonicalizeFallbackLocal", Kind::Flag),
    ("CanonicalizeHostname", Kind::CanonicalizeHostname),
    ("CanonicalizeMaxDots", Kind::Int),
    ("CanonicalizePermittedCNAMEs", Kind::List),
    ("StreamLocalBindMask", Kind::Text),
    ("StreamLocalBindUnlink", Kind::Flag),
    ("RevokedHostKeys", Kind::RevokedHostKeys),
    ("FingerprintHash", Kind::Text),
    ("UpdateHostKeys", Kind::Choice(YES_NO_ASK)),
    ("HostbasedAcceptedAlgorithms", Kind::Text),
    ("HostbasedKeyTypes", Kind::Text),
    ("PubkeyAcceptedAlgorithms", Kind::Text),
    ("PubkeyAcceptedKeyTypes", Kind::Text),
    ("IgnoreUnknown", Kind::IgnoreUnknown),
    ("ProxyJump", Kind::ProxyJump),
    ("SecurityKeyProvider", Kind::Text),
    ("KnownHostsCommand", Kind::KnownHostsCommand),
    ("RequiredRSASize", Kind::RequiredRsaSize),
    ("EnableEscapeCommandline", Kind::Flag),
];

/// `parse_token`'s lookup: the kind of a keyword, compared without regard to case, or `None` for one OpenSSH
/// does not know.
pub(super) fn lookup_keyword(lowercase: &str) -> Option<Kind> {
    KEYWORDS.iter().find(|(name, _)| name.eq_ignore_ascii_case(lowercase)).map(|(_, kind)| *kind)
}

/// The closest known keyword, when `word` is probably a typo of it.
pub(super) fn closest_keyword(word: &str) -> Option<String> {
    KEYWORDS
        .iter()
        .map(|(name, _)| (strsim::damerau_levenshtein(word, &name.to_ascii_lowercase()), *name))
        .filter(|(distance, name)| *distance <= (name.len().max(word.len()) / 4).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name.to_string())
}

/// What to tell the user about an unknown keyword, given the known keyword it is probably a typo of.
pub(super) fn keyword_hint(suggestion: Option<&str>) -> String {
    match suggestion {
        Some(known) => {
            format!("did you mean `{known}`? An option for a newer ssh can be listed in IgnoreUnknown")
        }
        None => "fix the spelling, or list the keyword in IgnoreUnknown before this line".to_string(),
    }
}
