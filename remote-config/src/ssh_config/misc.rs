//! The parsing helpers of OpenSSH's `misc.c` that reading a configuration line needs: splitting words
//! (`strdelim`, `argv_split`), times (`convtime`), ports and service names (`a2port`), and one ProxyJump hop,
//! which `readconf.c`'s `parse_jump` reads with `parse_uri` or `parse_user_host_port` (and their `hpdelim2`,
//! `cleanhostname`, `valid_domain` and `urldecode`). They take text and give values, knowing nothing of
//! keywords or of the host being resolved.

use std::fs;
use std::path::Path;

use super::Jump;

/// The characters `readconf.c` and `misc.c` treat as white space between words.
pub(super) const WHITESPACE: [char; 4] = [' ', '\t', '\r', '\n'];

/// `strdelim`: the next word, split at white space, a quote, or one `=`; `None` for an unclosed quote.
pub(super) fn strdelim(s: Option<&str>) -> (Option<String>, Option<&str>) {
    let Some(s) = s else { return (None, None) };
    let Some(i) = s.find(|c: char| WHITESPACE.contains(&c) || c == '"' || c == '=') else {
        return (Some(s.to_string()), None);
    };
    if s[i..].starts_with('"') {
        let after = &s[i + 1..];
        let Some(j) = after.find('"') else { return (None, None) };
        return (
            Some(format!("{}{}", &s[..i], &after[..j])),
            Some(after[j + 1..].trim_start_matches(WHITESPACE)),
        );
    }
    let was_equals = s[i..].starts_with('=');
    let mut rest = s[i + 1..].trim_start_matches(WHITESPACE);
    if !was_equals && let Some(after) = rest.strip_prefix('=') {
        rest = after.trim_start_matches(WHITESPACE);
    }
    (Some(s[..i].to_string()), Some(rest))
}

/// `argv_split` with `terminate_on_comment`: words split at blanks, `"` and `'` quotes, `\` escapes; `None`
/// for an unclosed quote.
pub(super) fn argv_split(s: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = s.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' || chars[i] == '\t' {
            i += 1;
            continue;
        }
        if chars[i] == '#' {
            break;
        }
        let mut quote = None;
        let mut arg = String::new();
        while i < chars.len() {
            let c = chars[i];
            if c == '\\' {
                match chars.get(i + 1) {
                    Some(&next)
                        if next == '\''
                            || next == '"'
                            || next == '\\'
                            || (quote.is_none() && next == ' ') =>
                    {
                        arg.push(next);
                        i += 1;
                    }
                    _ => arg.push('\\'),
                }
            } else if quote.is_none() && (c == ' ' || c == '\t') {
                break;
            } else if quote.is_none() && (c == '"' || c == '\'') {
                quote = Some(c);
            } else if quote == Some(c) {
                quote = None;
            } else {
                arg.push(c);
            }
            i += 1;
        }
        if quote.is_some() {
            return None;
        }
        args.push(arg);
    }
    Some(args)
}

/// `convtime`: `90`, `90s`, `1h30m`, … in seconds, at most `INT_MAX`.
pub(super) fn convtime(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let secs: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        // The unit is one character, not one byte: `1é` is no time, and no panic.
        let multiplier = match rest.chars().next() {
            None => 1,
            Some(unit) => {
                rest = &rest[unit.len_utf8()..];
                match unit {
                    's' | 'S' => 1,
                    'm' | 'M' => 60,
                    'h' | 'H' => 3600,
                    'd' | 'D' => 86400,
                    'w' | 'W' => 604800,
                    _ => return None,
                }
            }
        };
        total = total.checked_add(secs.checked_mul(multiplier)?)?;
        if total > i64::from(i32::MAX) {
            return None;
        }
    }
    u32::try_from(total).ok()
}

/// `a2port`: a number from 1 to 65535, or a TCP service name (`ssh`, `https`) as `getservbyname` finds it.
pub(super) fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return service_port(s, Path::new(SERVICES)).filter(|&p| p != 0);
    }
    s.parse::<u16>().ok().filter(|&p| p != 0)
}

/// Where the C library's `files` source of `getservbyname` reads service names.
const SERVICES: &str = "/etc/services";

/// The TCP port a service name (or alias) has in `services`, read as the C library reads it: `name port/proto
/// aliases…`, `#` to the end of the line a comment. Read directly rather than through `getservbyname`, which
/// a static binary cannot call.
fn service_port(name: &str, services: &Path) -> Option<u16> {
    let text = fs::read_to_string(services).ok()?;
    text.lines().find_map(|line| {
        let mut words = line.split('#').next().unwrap_or_default().split_whitespace();
        let official = words.next()?;
        let (port, protocol) = words.next()?.split_once('/')?;
        let named = official == name || words.any(|alias| alias == name);
        (named && protocol == "tcp").then(|| port.parse().ok()).flatten()
    })
}

/// `parse_jump`'s reading of one hop: `ssh://[user@]host[:port]` or `[user@]host[:port]`.
pub(super) fn parse_jump_hop(hop: &str) -> Option<Jump> {
    match hop.strip_prefix("ssh://") {
        Some(uri) => parse_ssh_uri(uri),
        None => parse_user_host_port(hop),
    }
}

/// `hpdelim2`: the host (with its brackets) and, after `:` or `/`, the rest and the delimiter.
fn split_host(s: &str) -> Option<(&str, Option<(char, &str)>)> {
    let end = if s.starts_with('[') { s.find(']')? + 1 } else { s.find([':', '/']).unwrap_or(s.len()) };
    match s[end..].chars().next() {
        None => Some((s, None)),
        Some(c @ (':' | '/')) => Some((&s[..end], Some((c, &s[end + 1..])))),
        Some(_) => None,
    }
}

/// `cleanhostname`: the host without the brackets around an IPv6 address.
fn clean_host(host: &str) -> &str {
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
}

/// `parse_user_host_port`: `[user@]host[:port]`, the user ending at the last `@`; an empty user or host, or a
/// `/` after the host, is refused.
fn parse_user_host_port(s: &str) -> Option<Jump> {
    let (user, rest) = match s.rfind('@') {
        Some(0) => return None,
        Some(at) => (Some(s[..at].to_string()), &s[at + 1..]),
        None => (None, s),
    };
    let (host, after) = split_host(rest)?;
    let port = match after {
        Some(('/', _)) => return None,
        Some((_, port)) if !port.is_empty() => Some(parse_port(port)?),
        _ => None,
    };
    if host.is_empty() {
        return None;
    }
    Some(Jump { user, host: clean_host(host).to_string(), port })
}

/// `parse_uri` for `ssh://`: the user may be URL-encoded and carry `;parameters`; a path is refused.
fn parse_ssh_uri(s: &str) -> Option<Jump> {
    let (user, rest) = match s.find('@') {
        Some(at) => {
            let user = s[..at].split(';').next().unwrap_or_default();
            if user.is_empty() {
                return None;
            }
            (Some(url_decode(user)?), &s[at + 1..])
        }
        None => (None, s),
    };
    let (host, after) = split_host(rest)?;
    if host.is_empty() {
        return None;
    }
    let host = valid_domain(clean_host(host))?;
    let mut port = None;
    let mut path = None;
    if let Some((delimiter, tail)) = after.filter(|(_, tail)| !tail.is_empty()) {
        if delimiter == ':' {
            let (port_text, remainder) = match tail.split_once('/') {
                Some((p, r)) => (p, Some(r)),
                None => (tail, None),
            };
            port = Some(parse_port(port_text)?);
            path = remainder;
        } else {
            path = Some(tail);
        }
    }
    if path.is_some_and(|p| !p.is_empty()) {
        return None;
    }
    Some(Jump { user, host, port })
}

/// `valid_domain`: letters, digits, `-`, `_` and single dots, starting with a letter or digit; a final dot is
/// dropped.
fn valid_domain(name: &str) -> Option<String> {
    let first = name.bytes().next()?;
    if !first.is_ascii_alphanumeric() || name.contains("..") {
        return None;
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_') {
        return None;
    }
    Some(name.strip_suffix('.').unwrap_or(name).to_string())
}

/// `urldecode`: `%XX` escapes decoded and `+` read as a space; `None` for a `%` without two hex digits after
/// it.
fn url_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh_config::{HostConfig, Query, SshConfig};

    #[test]
    fn ports_may_be_service_names() {
        let dir = tempfile::tempdir().expect("temp dir");
        let services = dir.path().join("services");
        fs::write(
            &services,
            "# comment\nssh\t\t22/tcp\t\t\t# SSH Remote Login Protocol\nntp 123/udp\nalt 2222/tcp two # x\n",
        )
        .expect("write");
        let cases = [
            ("ssh", Some(22)),
            ("alt", Some(2222)),
            ("two", Some(2222)),
            ("ntp", None),
            ("x", None),
            ("tcp", None),
        ];
        for (name, expected) in cases {
            assert_eq!(service_port(name, &services), expected, "{name}");
        }
        // The machine's own /etc/services, as `ssh` reads it for `Port ssh`.
        if Path::new(SERVICES).exists() {
            let config = SshConfig::parse("Port ssh\n", Path::new("/cfg")).expect("loads");
            assert_eq!(
                config.resolve(Query::host("h", "me")),
                HostConfig { port: Some(22), ..HostConfig::default() }
            );
        }
    }
}
