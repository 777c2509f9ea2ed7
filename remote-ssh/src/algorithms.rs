//! ssh_config's algorithm lists (`KexAlgorithms`, `HostKeyAlgorithms`, `Ciphers`, `MACs`) applied to what russh
//! offers, so that an algorithm the user excluded is never offered and so never negotiated.

use std::borrow::Cow;

use russh::Preferred;

use remote_core::inventory::Algorithms;
use remote_core::ssh_config::assemble_algorithms;

/// Narrows (and orders) `preferred` as `lists` say; the error names the list that leaves nothing to offer.
pub(crate) fn narrow(preferred: &mut Preferred, lists: &Algorithms) -> Result<(), String> {
    if let Some(value) = &lists.kex {
        // The extension markers (ext-info-c, kex-strict-c-v00@openssh.com) are not algorithms: OpenSSH adds them
        // whatever KexAlgorithms says, and strict key exchange is what keeps the Terrapin attack out.
        let (markers, algorithms): (Vec<_>, Vec<_>) = preferred.kex.iter().cloned().partition(|name| is_marker(name.as_ref()));
        let chosen = pick("KexAlgorithms", value, &algorithms, |name| name.as_ref())?;
        preferred.kex = Cow::Owned(chosen.into_iter().chain(markers).collect());
    }
    if let Some(value) = &lists.host_key {
        preferred.key = Cow::Owned(pick("HostKeyAlgorithms", value, &preferred.key, |algorithm| algorithm.as_str())?);
    }
    if let Some(value) = &lists.ciphers {
        preferred.cipher = Cow::Owned(pick("Ciphers", value, &preferred.cipher, |name| name.as_ref())?);
    }
    if let Some(value) = &lists.macs {
        preferred.mac = Cow::Owned(pick("MACs", value, &preferred.mac, |name| name.as_ref())?);
    }
    Ok(())
}

fn is_marker(name: &str) -> bool {
    name.starts_with("ext-info-") || name.starts_with("kex-strict-")
}

/// What of `offered` the list `value` keeps, in its order.
fn pick<T: Clone>(keyword: &str, value: &str, offered: &[T], name: impl Fn(&T) -> &str) -> Result<Vec<T>, String> {
    let names: Vec<&str> = offered.iter().map(&name).collect();
    let chosen: Vec<T> = assemble_algorithms(value, &names).into_iter().map(|i| offered[i].clone()).collect();
    if chosen.is_empty() {
        return Err(format!(
            "ssh_config's {keyword} {value} leaves none of the algorithms remote can use ({}); allow one of them for \
             this host",
            names.join(",")
        ));
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each list narrows only its own part, and the kex extension markers stay whatever KexAlgorithms says.
    #[test]
    fn lists_narrow_russhs_defaults() {
        let mut preferred = Preferred::default();
        let lists = Algorithms {
            kex: Some("curve25519-sha256".into()),
            host_key: Some("-ssh-rsa,rsa-sha2-*".into()),
            ciphers: Some("aes256-gcm@openssh.com,aes128-ctr".into()),
            macs: None,
        };
        narrow(&mut preferred, &lists).expect("something is left");
        let kex: Vec<&str> = preferred.kex.iter().map(|n| n.as_ref()).collect();
        assert_eq!(kex[0], "curve25519-sha256");
        assert!(kex[1..].iter().all(|name| is_marker(name)), "{kex:?}");
        assert!(kex.contains(&"kex-strict-c-v00@openssh.com"), "{kex:?}");
        assert!(preferred.key.iter().all(|a| !a.as_str().starts_with("rsa-") && a.as_str() != "ssh-rsa"), "{:?}", preferred.key);
        let ciphers: Vec<&str> = preferred.cipher.iter().map(|n| n.as_ref()).collect();
        assert_eq!(ciphers, ["aes256-gcm@openssh.com", "aes128-ctr"]);
        assert_eq!(preferred.mac, Preferred::default().mac);
        let error = narrow(&mut Preferred::default(), &Algorithms { macs: Some("hmac-md5".into()), ..Algorithms::default() });
        assert!(error.is_err_and(|e| e.starts_with("ssh_config's MACs hmac-md5 leaves none")));
    }
}
