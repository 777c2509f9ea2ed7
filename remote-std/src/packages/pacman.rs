//! pacman's commands and parsers: `pacman -Q` for what is installed and `pacman -Qu` for the upgrades
//! pending.

use super::{InstalledSet, ListingError, Spec, Upgrade, unreadable};

/// `pacman -Q`, a name and a version a line.
pub(super) const LIST_INSTALLED: &str = "LC_ALL=C pacman -Q --color never";

/// `pacman -Qu`, which exits 1 both when nothing is upgradable and when it fails; an exit of 1 with nothing
/// on standard error is the first, so the wrapper keeps standard error apart to tell them.
///
/// The `if` keeps `set -e` from ending the script at pacman's exit status of 1, which is the common case.
pub(super) const LIST_PENDING: &str = "{ if e=$(LC_ALL=C pacman -Qu --color never 2>&1 >&3 3>&-); then s=0; else s=$?; fi; } 3>&1; \
     [ -z \"$e\" ] || printf '%s\\n' \"$e\" >&2; [ $s -eq 0 ] || { [ $s -eq 1 ] && [ -z \"$e\" ]; }";

/// Reads [`LIST_INSTALLED`]'s output into `set`.
pub(super) fn parse_pacman_query(text: &str, set: &mut InstalledSet) -> Result<(), ListingError> {
    for (index, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            [] => {}
            [name, version] => set.entry(name.to_string()).or_default().push(version.to_string()),
            _ => return Err(unreadable("pacman -Q", index, line, "expected a name and a version")),
        }
    }
    Ok(())
}

/// Reads `pacman -Qu`: `NAME OLD -> NEW`, with ` [ignored]` after a package `IgnorePkg` holds back, which an
/// upgrade leaves alone and so is no pending upgrade.
pub(super) fn parse_pacman_upgrades(text: &str) -> Result<Vec<Upgrade>, ListingError> {
    let mut upgrades = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            [] | [_, _, "->", _, "[ignored]"] => {}
            [name, from, "->", to] => {
                upgrades.push(Upgrade { name: name.into(), from: from.into(), to: to.into() })
            }
            _ => {
                return Err(unreadable(
                    "pacman -Qu",
                    index,
                    line,
                    "expected `NAME OLD-VERSION -> NEW-VERSION`",
                ));
            }
        }
    }
    Ok(upgrades)
}

/// A wanted pacman package taken apart at `=`, its pinned version.
pub(super) fn spec(wanted: &str) -> Spec<'_> {
    Spec::pinned(wanted, &['='])
}

#[cfg(test)]
mod tests;
