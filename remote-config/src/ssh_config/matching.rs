//! OpenSSH's pattern matching: `match_pattern` and `match_pattern_list` of `match.c`, the per-word matching
//! of a `Host` line (`readconf.c`), and `kex_assemble_names` of `kex.c`, which narrows an algorithm list with
//! such patterns. They are pure functions of their arguments, shared by the loader, the resolve walk and
//! (through `assemble_algorithms`) `remote-ssh`.

/// `match_pattern`: `*` and `?` wildcards over bytes, as OpenSSH compares them.
fn match_pattern(s: &[u8], pattern: &[u8]) -> bool {
    let (mut s, mut pattern) = (s, pattern);
    loop {
        let Some((&p, pattern_rest)) = pattern.split_first() else { return s.is_empty() };
        if p == b'*' {
            let after = &pattern[pattern.iter().take_while(|&&c| c == b'*').count()..];
            let Some(&next) = after.first() else { return true };
            if next != b'?' {
                return (0..s.len()).any(|i| s[i] == next && match_pattern(&s[i + 1..], &after[1..]));
            }
            return (0..s.len()).any(|i| match_pattern(&s[i..], after));
        }
        let Some((&c, s_rest)) = s.split_first() else { return false };
        if p != b'?' && p != c {
            return false;
        }
        s = s_rest;
        pattern = pattern_rest;
    }
}

/// `match_pattern_list`: 1 if a sub-pattern of the comma-separated list matches, -1 if a negated one does,
/// else 0.
pub(super) fn match_pattern_list(string: &str, list: &str, lowercase: bool) -> i32 {
    let mut positive = 0;
    for sub in list.split(',') {
        let (negated, sub) = match sub.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, sub),
        };
        // OpenSSH copies each sub-pattern into a 1024-byte buffer and gives up on a longer one.
        if sub.len() >= 1023 {
            return 0;
        }
        let sub = if lowercase { sub.to_ascii_lowercase() } else { sub.to_string() };
        if match_pattern(string.as_bytes(), sub.as_bytes()) {
            if negated {
                return -1;
            }
            positive = 1;
        }
    }
    positive
}

/// A `Host` line: some pattern matches the name as typed and no negated pattern does (`match_pattern` per
/// word).
pub(super) fn host_line_matches(patterns: &[String], host: &str) -> bool {
    let mut active = false;
    for pattern in patterns {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, pattern.as_str()),
        };
        if match_pattern(host.as_bytes(), pattern.as_bytes()) {
            if negated {
                return false;
            }
            active = true;
        }
    }
    active
}

/// `kex_assemble_names` over what `remote` implements: the names, in the order to offer them, that a
/// `KexAlgorithms`, `HostKeyAlgorithms`, `Ciphers` or `MACs` value asks for. `defaults` is what is offered
/// when nothing is set, `supported` everything that could be (the defaults among them). A plain list replaces
/// the defaults, in its own order, with what it matches of `supported` (wildcards allowed); `+list` adds what
/// it matches of `supported` after the defaults, `-list` removes what it matches from the defaults, and
/// `^list` puts what it matches of `supported` first, then the rest of the defaults. An algorithm is offered
/// beyond the defaults (such as `ssh-rsa`) only when a list names it, as in OpenSSH; an empty result means
/// the host cannot be reached as the user asked.
pub fn assemble_algorithms(value: &str, defaults: &[&str], supported: &[&str]) -> Vec<String> {
    let matches = |name: &str, list: &str| {
        list.split(',').any(|pattern| match_pattern(name.as_bytes(), pattern.as_bytes()))
    };
    let mut chosen: Vec<String> = Vec::new();
    let mut take = |names: &mut dyn Iterator<Item = &&str>| {
        for name in names {
            if !chosen.iter().any(|c| c == name) {
                chosen.push(name.to_string());
            }
        }
    };
    match value.split_at_checked(1) {
        Some(("+", list)) => {
            take(&mut defaults.iter());
            take(&mut supported.iter().filter(|name| matches(name, list)));
        }
        Some(("-", list)) => take(&mut defaults.iter().filter(|name| !matches(name, list))),
        Some(("^", list)) => {
            for pattern in list.split(',') {
                take(&mut supported.iter().filter(|name| matches(name, pattern)));
            }
            take(&mut defaults.iter());
        }
        _ => {
            for pattern in value.split(',') {
                take(&mut supported.iter().filter(|name| matches(name, pattern)));
            }
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_lists_narrow_what_is_offered() {
        let defaults = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"];
        let supported = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];
        let check = |value: &str, expected: &[&str]| {
            assert_eq!(assemble_algorithms(value, &defaults, &supported), expected, "{value}");
        };
        // Beyond the defaults only when named: `ssh-rsa` (SHA-1) never comes back through `-` or a wildcard
        // `^`.
        check("+ssh-rsa", &supported);
        check("+ssh-ed25519", &defaults);
        check("-ecdsa*", &["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"]);
        check("-rsa-sha2-512,ssh-ed25519", &["ecdsa-sha2-nistp256", "rsa-sha2-256"]);
        check("^rsa-sha2-256", &["rsa-sha2-256", "ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512"]);
        check("^ssh-rsa", &["ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"]);
        check("rsa-sha2-256,ssh-ed25519", &["rsa-sha2-256", "ssh-ed25519"]);
        check("*rsa*", &["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
        check("ssh-rsa", &["ssh-rsa"]);
        check("sk-ssh-ed25519@openssh.com", &[]);
        check("-*", &[]);
    }
}
