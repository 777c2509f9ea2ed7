//! apt's commands and parsers: the dpkg listing of what is installed, and `apt-get -s`, the simulation that
//! says what an upgrade (or an install, or a removal) would change.

use super::{InstalledSet, ListingError, Spec, Upgrade, unreadable};

/// The host's own architecture first (`dpkg --print-architecture`), then `dpkg-query` lines of status, name,
/// architecture and version. The architecture is what tells `libc6:i386` from the host's own `libc6`, the way
/// apt itself names them; `${binary:Package}` would not do, since it writes `libc6:amd64` for the host's own.
pub(super) const LIST_INSTALLED: &str = r"LC_ALL=C dpkg --print-architecture && LC_ALL=C dpkg-query -W -f='${db:Status-Abbrev}\t${Package}\t${Architecture}\t${Version}\n'";

/// `apt-get -s dist-upgrade`, the simulation of what `pkg_upgrade` should run (`dist-upgrade`, not `upgrade`:
/// like dnf, zypper, apk and pacman it takes the new dependencies a new version needs, such as the next
/// kernel).
pub(super) const LIST_PENDING: &str = "LC_ALL=C apt-get -s -o Debug::NoLocking=1 dist-upgrade";

/// Reads [`LIST_INSTALLED`]'s output into `set`: the packages dpkg says are installed, under the names apt
/// gives them.
pub(super) fn parse_dpkg(text: &str, set: &mut InstalledSet) -> Result<(), ListingError> {
    const SOURCE: &str = "dpkg-query";
    let mut lines = text.lines().enumerate();
    let native = match lines.next() {
        Some((_, arch)) if !arch.trim().is_empty() && !arch.trim().contains(char::is_whitespace) => {
            arch.trim()
        }
        Some((index, line)) => {
            return Err(unreadable(
                SOURCE,
                index,
                line,
                "the first line is not the host's architecture (`dpkg --print-architecture`)",
            ));
        }
        None => return Err(ListingError::EmptyDpkg),
    };
    for (index, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [status, name, arch, version] = fields[..] else {
            return Err(unreadable(
                SOURCE,
                index,
                line,
                "expected 4 tab-separated fields: status, name, architecture, version",
            ));
        };
        // `ii`, `hi`, `iU`… : wanted state, then current state. Only `i` (installed) counts: `n` and `c`
        // (`rc`, its configuration left) have none of it, and the half-way states (`iU` unpacked, `iF`
        // half-configured, `iH` half-installed, `iW`/`it` awaiting triggers) are handed to the manager again,
        // which finishes them.
        let mut state = status.trim().chars();
        let (Some(want), Some(current)) = (state.next(), state.next()) else {
            return Err(unreadable(SOURCE, index, line, "the status is not two letters such as `ii`"));
        };
        if !"uihrp".contains(want) || !"ncHUFWti".contains(current) {
            return Err(unreadable(
                SOURCE,
                index,
                line,
                &format!("`{}` is not a dpkg status", status.trim()),
            ));
        }
        if current != 'i' {
            continue;
        }
        if name.is_empty() || version.is_empty() {
            return Err(unreadable(SOURCE, index, line, "the name or the version is empty"));
        }
        // apt names a package of another architecture `name:arch`, and the host's own and `all` ones plainly.
        let key = if arch == native || arch == "all" || arch.is_empty() {
            name.to_string()
        } else {
            format!("{name}:{arch}")
        };
        set.entry(key).or_default().push(version.to_string());
    }
    Ok(())
}

/// Reads the `Inst`, `Remv` and `Purg` lines of `apt-get -s`: `Inst NAME [FROM] (TO ORIGINS [ARCH])`, without
/// `[FROM]` for a package the upgrade adds, and `Remv NAME [FROM]` for one it removes, which becomes an
/// upgrade to `""` so that the removal shows before it happens. `Conf` lines repeat the `Inst` ones; the rest
/// is apt's prose.
pub(super) fn parse_apt_simulation(text: &str) -> Result<Vec<Upgrade>, ListingError> {
    const SOURCE: &str = "apt-get -s";
    let mut upgrades = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some((action, rest)) = line.split_once(' ') else { continue };
        let removes = match action {
            "Inst" => false,
            "Remv" | "Purg" => true,
            _ => continue,
        };
        let name = rest.split(' ').next().unwrap_or_default();
        let after = rest[name.len()..].trim_start();
        let (from, after) = match after.strip_prefix('[') {
            Some(bracketed) => match bracketed.split_once(']') {
                Some((from, after)) => (from, after.trim_start()),
                None => {
                    return Err(unreadable(SOURCE, index, line, "the installed version's `[` is not closed"));
                }
            },
            None => ("", after),
        };
        let to = if removes {
            ""
        } else {
            after.strip_prefix('(').and_then(|r| r.split([' ', ')']).next()).unwrap_or_default()
        };
        if name.is_empty() || (removes && from.is_empty()) || (!removes && to.is_empty()) {
            let cause = if removes {
                "expected `Remv NAME [VERSION]`"
            } else {
                "expected `Inst NAME [VERSION] (NEW-VERSION …)`"
            };
            return Err(unreadable(SOURCE, index, line, cause));
        }
        upgrades.push(Upgrade { name: name.into(), from: from.into(), to: to.into() });
    }
    Ok(upgrades)
}

/// A wanted apt package taken apart at `=`, its pinned version. The `:arch` stays in the name, since apt
/// lists other architectures' packages under `name:arch`.
pub(super) fn spec(wanted: &str) -> Spec<'_> {
    Spec::pinned(wanted, &['='])
}

/// Whether a `name:arch` is listed without its `:arch`, as the host's own architecture is: the host's
/// architecture is not known where names are matched, so `nginx:amd64` on an amd64 host must count as present
/// to be removed.
pub(super) fn listed_without_arch(name: &str, installed: &InstalledSet) -> bool {
    name.split_once(':').is_some_and(|(name, _arch)| installed.contains_key(name))
}

#[cfg(test)]
mod tests;
