//! The hub's `Host` rule: a request names one well-formed authority, and a hub on loopback answers only
//! requests addressed to loopback, so a web page cannot read it through DNS rebinding.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use axum::http::{HeaderMap, StatusCode, Version, header};

/// Why a request's `Host` is refused.
#[derive(Debug, thiserror::Error)]
pub(super) enum HostError {
    #[error("an HTTP/1.1 request needs a Host header")]
    Missing,
    #[error("the request has {0} Host headers; send one")]
    Repeated(usize),
    #[error("the Host header is not ASCII text")]
    NotText,
    #[error("the Host header `{value}` is not a host and an optional port: {why}")]
    Malformed { value: String, why: &'static str },
    #[error(
        "the hub on loopback answers requests addressed to this machine only (localhost, 127.x.y.z, [::1]), \
         not to `{0}`; connect to one of those"
    )]
    NotLoopback(String),
}

impl HostError {
    /// The answer's status: 400 for a request HTTP does not allow, 403 for a well-formed one to another name.
    pub(super) fn status(&self) -> StatusCode {
        match self {
            HostError::NotLoopback(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// The host part of an authority.
#[derive(Debug, PartialEq)]
enum Host<'a> {
    Name(&'a str),
    Address(IpAddr),
}

/// Checks the `Host` of a request: exactly one header holding `host[:port]`, where host is a name, an IPv4
/// address or a bracketed IPv6 address; on a `loopback` hub the host must also be `localhost`, `127.x.y.z` or
/// `[::1]`. On another address the hub answers any name, as `remote live` warns.
///
/// An HTTP/1.0 request may leave `Host` out, as that version allows: browsers always send one, so such a
/// request cannot come from a web page and carry a rebinding attack. `localhost.` (with the root's dot) and
/// `*.localhost` are not among the names: the rule stays exact, and a client can use `localhost` itself.
pub(super) fn check(headers: &HeaderMap, version: Version, loopback: bool) -> Result<(), HostError> {
    let mut hosts = headers.get_all(header::HOST).iter();
    let value = match (hosts.next(), hosts.count()) {
        (None, _) if version <= Version::HTTP_10 => return Ok(()),
        (None, _) => return Err(HostError::Missing),
        (Some(value), 0) => value.to_str().map_err(|_| HostError::NotText)?,
        (Some(_), others) => return Err(HostError::Repeated(others + 1)),
    };
    let host = parse(value)?;
    let names_loopback = match host {
        Host::Name(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Address(address) => address.is_loopback(),
    };
    if loopback && !names_loopback {
        return Err(HostError::NotLoopback(value.to_string()));
    }
    Ok(())
}

/// The host of `value`, an authority without user information (RFC 9110 §7.2: `host [":" port]`).
fn parse(value: &str) -> Result<Host<'_>, HostError> {
    let malformed = |why| HostError::Malformed { value: value.to_string(), why };
    if value.contains('@') {
        return Err(malformed("it may not hold a user (`…@`)"));
    }
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        let (literal, after) = rest.split_once(']').ok_or_else(|| malformed("`[` has no `]`"))?;
        // A zone (`%25eth0`) or an IPvFuture literal does not parse, and is refused with the rest.
        let address: Ipv6Addr = literal.parse().map_err(|_| malformed("no IPv6 address inside `[…]`"))?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or_else(|| malformed("only `:port` may follow `]`"))?),
        };
        (Host::Address(IpAddr::V6(address)), port)
    } else {
        let (name, port) = match value.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (value, None),
        };
        if name.is_empty() {
            return Err(malformed("it names no host"));
        }
        // Stricter than a URI's reg-name, which allows sub-delimiters: no host name a person uses needs them.
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')) {
            return Err(malformed("a host is letters, digits, `-`, `.` and `_`, or an address"));
        }
        match name.parse::<Ipv4Addr>() {
            Ok(address) => (Host::Address(IpAddr::V4(address)), port),
            Err(_) => (Host::Name(name), port),
        }
    };
    if let Some(port) = port {
        // Digits only: `parse` alone would take a `+` too.
        if !port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err() {
            return Err(malformed("the port is not a number up to 65535"));
        }
    }
    Ok(host)
}
