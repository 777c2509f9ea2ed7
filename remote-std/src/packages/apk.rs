//! apk's commands and parsers: `apk info -v` for what is installed, `apk list -u` for the upgrades pending,
//! and the `name-version` words and version order both need.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::{InstalledSet, ListingError, Spec, Upgrade, unreadable};

/// `apk info -v`, one `name-version` word a line: apk versions never hold a `-` but for the `-rN` release, so
/// the split is certain (and `apk list -I` adds fields whose license may hold spaces).
pub(super) const LIST_INSTALLED: &str = "LC_ALL=C apk info -v";

/// `apk list -u`, whose lines name the installed version in full; `apk version` cuts `name-version` at 40
/// characters in apk 2.
pub(super) const LIST_PENDING: &str = "LC_ALL=C apk list -u";

/// Whether a line is one of apk's warnings (a missing index), which say nothing about packages.
fn apk_warning(line: &str) -> bool {
    line.starts_with("WARNING: ")
}

/// Splits apk's `name-version` word. apk versions start with a digit and hold no `-` but the one before an
/// `-rN` release, which virtual packages (`.build-deps-20240101.120000`) leave out.
fn split_apk(word: &str) -> Option<(&str, &str)> {
    let (rest, last) = word.rsplit_once('-')?;
    let is_release =
        last.strip_prefix('r').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let name_len = if is_release { rest.rsplit_once('-')?.0.len() } else { rest.len() };
    let (name, version) = (&word[..name_len], &word[name_len + 1..]);
    (!name.is_empty() && version.starts_with(|c: char| c.is_ascii_digit())).then_some((name, version))
}

/// Reads [`LIST_INSTALLED`]'s output into `set`, passing over apk's warnings.
pub(super) fn parse_apk_info(text: &str, set: &mut InstalledSet) -> Result<(), ListingError> {
    for (index, line) in text.lines().enumerate() {
        let word = line.trim();
        if word.is_empty() || apk_warning(line) {
            continue;
        }
        let split = if word.contains(char::is_whitespace) { None } else { split_apk(word) };
        let Some((name, version)) = split else {
            return Err(unreadable(
                "apk info -v",
                index,
                line,
                "expected one `name-version` word such as `musl-1.2.4-r2`",
            ));
        };
        set.entry(name.to_string()).or_default().push(version.to_string());
    }
    Ok(())
}

/// Reads `apk list -u`: `NAME-NEW ARCH {ORIGIN} (LICENSE) [upgradable from: NAME-OLD]`. When a package has
/// newer versions in two places (a repository and the package cache), apk lists both: the highest is kept.
pub(super) fn parse_apk_upgradable(text: &str) -> Result<Vec<Upgrade>, ListingError> {
    const SOURCE: &str = "apk list -u";
    let mut latest: BTreeMap<&str, Upgrade> = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() || apk_warning(line) {
            continue;
        }
        let new = line.split_whitespace().next().and_then(split_apk);
        let old = line
            .split_once("[upgradable from: ")
            .and_then(|(_, rest)| rest.split_once(']'))
            .and_then(|(old, _)| split_apk(old));
        let (Some((name, to)), Some((_, from))) = (new, old) else {
            return Err(unreadable(
                SOURCE,
                index,
                line,
                "expected `NAME-VERSION ARCH {ORIGIN} (LICENSE) [upgradable from: NAME-VERSION]`",
            ));
        };
        let upgrade = Upgrade { name: name.into(), from: from.into(), to: to.into() };
        match latest.get(name) {
            Some(seen) if compare_versions(&seen.to, to) != Ordering::Less => {}
            _ => {
                latest.insert(name, upgrade);
            }
        }
    }
    Ok(latest.into_values().collect())
}

/// Orders versions piece by piece, runs of digits as numbers and the rest as text. Not apk's full rules
/// (`_rc` before the release), but enough to choose between two candidates that differ in a number.
fn compare_versions(a: &str, b: &str) -> Ordering {
    fn pieces(version: &str) -> Vec<&str> {
        let mut pieces = Vec::new();
        let (mut start, mut in_digits) = (0, None);
        for (i, c) in version.char_indices() {
            if in_digits.is_some_and(|digits| digits != c.is_ascii_digit()) {
                pieces.push(&version[start..i]);
                start = i;
            }
            in_digits = Some(c.is_ascii_digit());
        }
        pieces.push(&version[start..]);
        pieces
    }
    for (x, y) in pieces(a).into_iter().zip(pieces(b)) {
        let order =
            if x.starts_with(|c: char| c.is_ascii_digit()) && y.starts_with(|c: char| c.is_ascii_digit()) {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            } else {
                x.cmp(y)
            };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// A wanted apk package taken apart at its first `=`, `~`, `@`, `<` or `>`: the name, and the version an `=`
/// pins.
pub(super) fn spec(wanted: &str) -> Spec<'_> {
    Spec::pinned(wanted, &['=', '~', '@', '<', '>'])
}

#[cfg(test)]
mod tests;
