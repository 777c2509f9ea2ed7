//! ssh_config's algorithm lists (`KexAlgorithms`, `HostKeyAlgorithms`, `Ciphers`, `MACs`) applied to what
//! russh implements, so that an algorithm the user excluded is never offered and so never negotiated, and one
//! OpenSSH no longer offers by default (`ssh-rsa`, RSA signed with SHA-1) is offered only when a list names
//! it.

use std::borrow::Cow;

use russh::Preferred;
use russh::keys::Algorithm;

use remote_config::ssh_config::assemble_algorithms;
use remote_core::Algorithms;

/// Host-key algorithms russh offers by default that OpenSSH 9.2 does not: RSA signatures over SHA-1.
const NOT_BY_DEFAULT: [&str; 1] = ["ssh-rsa"];

/// Narrows (and orders) `preferred` (russh's defaults, host-key algorithms perhaps reordered by what
/// known_hosts records) as `lists` say; the error names the list that leaves nothing to offer.
pub(crate) fn narrow(preferred: &mut Preferred, lists: &Algorithms) -> Result<(), String> {
    // The extension markers (ext-info-c, kex-strict-c-v00@openssh.com) are not algorithms: OpenSSH adds them
    // whatever KexAlgorithms says, and strict key exchange is what keeps the Terrapin attack out.
    let (markers, kex): (Vec<_>, Vec<_>) =
        preferred.kex.iter().cloned().partition(|name| is_marker(name.as_ref()));
    let supported: Vec<russh::kex::Name> = russh::kex::ALL_KEX_ALGORITHMS
        .iter()
        .map(|name| **name)
        .filter(|name| is_algorithm(name.as_ref()))
        .collect();
    let chosen = choose("KexAlgorithms", lists.kex.as_deref(), &kex, &supported, |name| name.as_ref())?;
    preferred.kex = Cow::Owned(chosen.into_iter().chain(markers).collect());

    let defaults: Vec<Algorithm> = preferred
        .key
        .iter()
        .filter(|algorithm| !NOT_BY_DEFAULT.contains(&algorithm.as_str()))
        .cloned()
        .collect();
    let supported = Preferred::DEFAULT.key.to_vec();
    preferred.key =
        Cow::Owned(choose("HostKeyAlgorithms", lists.host_key.as_deref(), &defaults, &supported, |a| {
            a.as_str()
        })?);

    let supported: Vec<russh::cipher::Name> = russh::cipher::ALL_CIPHERS
        .iter()
        .map(|name| **name)
        .filter(|name| is_algorithm(name.as_ref()))
        .collect();
    preferred.cipher =
        Cow::Owned(choose("Ciphers", lists.ciphers.as_deref(), &preferred.cipher, &supported, |name| {
            name.as_ref()
        })?);

    let supported: Vec<russh::mac::Name> = russh::mac::ALL_MAC_ALGORITHMS
        .iter()
        .map(|name| **name)
        .filter(|name| is_algorithm(name.as_ref()))
        .collect();
    preferred.mac =
        Cow::Owned(choose("MACs", lists.macs.as_deref(), &preferred.mac, &supported, |name| name.as_ref())?);
    Ok(())
}

fn is_marker(name: &str) -> bool {
    name.starts_with("ext-info-") || name.starts_with("kex-strict-")
}

/// Whether russh's `name` is an algorithm a list may name: not "none" (no encryption, no MAC, no key
/// exchange).
fn is_algorithm(name: &str) -> bool {
    !matches!(name, "none" | "clear") && !is_marker(name)
}

/// What `value` keeps of `defaults` and adds of `supported`, in its order; the defaults when nothing is set.
fn choose<T: Clone>(
    keyword: &str,
    value: Option<&str>,
    defaults: &[T],
    supported: &[T],
    name: impl Fn(&T) -> &str,
) -> Result<Vec<T>, String> {
    let Some(value) = value else { return Ok(defaults.to_vec()) };
    let default_names: Vec<&str> = defaults.iter().map(&name).collect();
    let supported_names: Vec<&str> = supported.iter().chain(defaults).map(&name).collect();
    let chosen: Vec<T> = assemble_algorithms(value, &default_names, &supported_names)
        .iter()
        .filter_map(|chosen| supported.iter().chain(defaults).find(|item| name(item) == chosen).cloned())
        .collect();
    if chosen.is_empty() {
        return Err(format!(
            "ssh_config's {keyword} {value} leaves none of the algorithms remote implements ({}); allow one of them \
             for this host",
            supported_names.join(",")
        ));
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<T>(items: &[T], name: impl Fn(&T) -> &str) -> Vec<&str> {
        items.iter().map(name).collect()
    }

    /// Each list narrows only its own part, the kex extension markers stay whatever KexAlgorithms says, and
    /// `ssh-rsa` is offered only when a list names it.
    #[test]
    fn lists_narrow_what_russh_implements() {
        let mut preferred = Preferred::default();
        narrow(&mut preferred, &Algorithms::default()).expect("the defaults");
        assert!(!names(&preferred.key, |a| a.as_str()).contains(&"ssh-rsa"), "{:?}", preferred.key);
        assert!(names(&preferred.key, |a| a.as_str()).contains(&"rsa-sha2-512"), "{:?}", preferred.key);

        let mut preferred = Preferred::default();
        let lists = Algorithms {
            kex: Some("curve25519-sha256".into()),
            host_key: Some("-ecdsa*".into()),
            ciphers: Some("aes256-gcm@openssh.com,aes128-ctr".into()),
            macs: None,
        };
        narrow(&mut preferred, &lists).expect("something is left");
        let kex = names(&preferred.kex, |n| n.as_ref());
        assert_eq!(kex[0], "curve25519-sha256");
        assert!(kex[1..].iter().all(|name| is_marker(name)), "{kex:?}");
        assert!(kex.contains(&"kex-strict-c-v00@openssh.com"), "{kex:?}");
        let keys = names(&preferred.key, |a| a.as_str());
        assert!(keys.iter().all(|a| !a.starts_with("ecdsa") && *a != "ssh-rsa"), "{keys:?}");
        assert_eq!(names(&preferred.cipher, |n| n.as_ref()), ["aes256-gcm@openssh.com", "aes128-ctr"]);
        assert_eq!(preferred.mac, Preferred::default().mac);

        let mut preferred = Preferred::default();
        narrow(&mut preferred, &Algorithms { host_key: Some("+ssh-rsa".into()), ..Algorithms::default() })
            .unwrap();
        assert_eq!(names(&preferred.key, |a| a.as_str()).last(), Some(&"ssh-rsa"));
        let mut preferred = Preferred::default();
        narrow(&mut preferred, &Algorithms { ciphers: Some("none,clear".into()), ..Algorithms::default() })
            .expect_err("no encryption is never offered");
        let error = narrow(
            &mut Preferred::default(),
            &Algorithms { macs: Some("hmac-md5".into()), ..Algorithms::default() },
        );
        assert!(error.is_err_and(|e| e.starts_with("ssh_config's MACs hmac-md5 leaves none")));
    }
}
