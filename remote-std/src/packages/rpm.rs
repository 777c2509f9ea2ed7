//! What dnf, yum and zypper share, being rpm underneath: the `rpm -qa` listing, rpm's architectures and
//! `EPOCH:VERSION-RELEASE.ARCH` versions, and the `check-update` table in which dnf and yum list upgrades.

use super::{InstalledSet, ListingError, Spec, Upgrade, unreadable};

/// `rpm -qa`, name and `EPOCH:VERSION-RELEASE.ARCH`, for dnf, yum and zypper alike.
pub(super) const LIST_INSTALLED: &str =
    r"LC_ALL=C rpm -qa --qf '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}.%{ARCH}\n'";

/// dnf's `check-update` from the cache only (`-C`, which lets a user read root's cache); its 100 for "there
/// are upgrades" becomes 0 and other failures stay non-zero.
pub(super) const DNF_PENDING: &str = "LC_ALL=C dnf -q -C check-update || [ $? -eq 100 ]";

/// yum's `check-update`, read the same way as dnf's.
pub(super) const YUM_PENDING: &str = "LC_ALL=C yum -q -C check-update || [ $? -eq 100 ]";

/// Reads [`LIST_INSTALLED`]'s output into `set`, each version written as dnf and zypper write it.
pub(super) fn parse_rpm(text: &str, set: &mut InstalledSet) -> Result<(), ListingError> {
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((name, version)) = line.split_once('\t') else {
            return Err(unreadable(
                "rpm -qa",
                index,
                line,
                "expected a name, a tab, and `EPOCH:VERSION-RELEASE.ARCH`",
            ));
        };
        // Imported signing keys pose as packages named `gpg-pubkey`; dnf imports one by itself on a first
        // install from a repository, which would otherwise show as a package the user installed.
        if name == "gpg-pubkey" {
            continue;
        }
        let shaped = version.split_once(':').is_some_and(|(epoch, rest)| {
            epoch.bytes().all(|b| b.is_ascii_digit()) && rest.contains('-') && rest.contains('.')
        });
        if name.is_empty()
            || name.contains(char::is_whitespace)
            || !shaped
            || version.contains(char::is_whitespace)
        {
            return Err(unreadable(
                "rpm -qa",
                index,
                line,
                "expected a name, a tab, and `EPOCH:VERSION-RELEASE.ARCH`",
            ));
        }
        // Epoch 0 is left out, as dnf and zypper write versions.
        let version = version.strip_prefix("0:").unwrap_or(version);
        set.entry(name.to_string()).or_default().push(version.to_string());
    }
    Ok(())
}

/// What yum and dnf print besides the table even with `-q`, from plugins and subscription-manager.
const CHECK_UPDATE_PROSE: &[&str] = &[
    "Loaded plugins:",
    ":",
    "Loading mirror speeds",
    "* ",
    "Last metadata expiration check",
    "Security:",
    "This system is",
    "Updating Subscription Management repositories",
    "Unable to read consumer identity",
    "Plugin \"",
    "Updating and loading repositories",
    "Repositories loaded",
];

/// Reads `check-update`'s table of `NAME.ARCH  VERSION  REPOSITORY` rows. A long name pushes the rest of its
/// row to the next lines, which are indented. The "Obsoleting Packages" section that may end the output is
/// skipped: its packages replace others under a new name, so they are no upgrade of an installed name.
pub(super) fn parse_check_update(text: &str, installed: &InstalledSet) -> Result<Vec<Upgrade>, ListingError> {
    const SOURCE: &str = "check-update";
    const SHAPE: &str = "expected `NAME.ARCH VERSION REPOSITORY`";
    let mut upgrades = Vec::new();
    // The row being read: its first line and the words so far.
    let mut row: Option<(usize, &str, Vec<&str>)> = None;
    let mut finish = |index: usize, line: &str, words: Vec<&str>| -> Result<(), ListingError> {
        let [name_arch, version, _repository] = words[..] else {
            return Err(unreadable(SOURCE, index, line, SHAPE));
        };
        let Some((name, arch)) =
            name_arch.rsplit_once('.').filter(|(name, arch)| !name.is_empty() && !arch.is_empty())
        else {
            return Err(unreadable(SOURCE, index, line, SHAPE));
        };
        upgrades.push(Upgrade {
            name: name.into(),
            from: installed_arch(installed, name, arch),
            to: format!("{version}.{arch}"),
        });
        Ok(())
    };
    for (index, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        if line.trim().eq_ignore_ascii_case("Obsoleting Packages") {
            break;
        }
        if let Some((first, first_line, mut so_far)) = row.take() {
            if line.starts_with(char::is_whitespace) {
                so_far.extend(words);
                if so_far.len() >= 3 {
                    finish(first, first_line, so_far)?;
                } else {
                    row = Some((first, first_line, so_far));
                }
                continue;
            }
            return Err(unreadable(
                SOURCE,
                first,
                first_line,
                "the row stops before its version and repository",
            ));
        }
        if CHECK_UPDATE_PROSE.iter().any(|prose| line.trim_start().starts_with(prose)) {
            continue;
        }
        match words.len() {
            1 | 2 if !line.starts_with(char::is_whitespace) && words[0].contains('.') => {
                row = Some((index, line, words))
            }
            3 => finish(index, line, words)?,
            _ => return Err(unreadable(SOURCE, index, line, SHAPE)),
        }
    }
    if let Some((first, first_line, _)) = row {
        return Err(unreadable(
            SOURCE,
            first,
            first_line,
            "the output ends before the row's version and repository",
        ));
    }
    Ok(upgrades)
}

/// The installed versions of `name` built for `arch`, or of any architecture when none is (a package that
/// changes architecture); `""` when the name is not installed.
fn installed_arch(installed: &InstalledSet, name: &str, arch: &str) -> String {
    let Some(versions) = installed.get(name) else { return String::new() };
    let suffix = format!(".{arch}");
    let same_arch: Vec<&str> = versions.iter().filter(|v| v.ends_with(&suffix)).map(String::as_str).collect();
    if same_arch.is_empty() { versions.join(", ") } else { same_arch.join(", ") }
}

/// rpm's architectures, which dnf and zypper accept after a name (`glibc.i686`); a name may hold dots of its
/// own (`python3.11`), so only these are taken off.
const RPM_ARCHES: &[&str] = &[
    "noarch",
    "x86_64",
    "i686",
    "i586",
    "i386",
    "aarch64",
    "armv7hl",
    "ppc64le",
    "ppc64",
    "s390x",
    "riscv64",
    "loongarch64",
];

/// `name.arch` split when `arch` is one of rpm's.
pub(super) fn split_rpm_arch(word: &str) -> (&str, Option<&str>) {
    match word.rsplit_once('.') {
        Some((name, arch)) if !name.is_empty() && RPM_ARCHES.contains(&arch) => (name, Some(arch)),
        _ => (word, None),
    }
}

/// A name dnf or yum is asked for taken apart: `glibc.i686`, and `name-version[-release]`, which is how they
/// take a version (`nginx-1.20.1-10.el9`).
pub(super) fn spec(wanted: &str) -> Spec<'_> {
    let (mut name, arch) = split_rpm_arch(wanted);
    // dnf takes `name-version[-release]`. A version piece starts with a digit and has a `.` (or an epoch's
    // `:`), which keeps names like `gcc-toolset-12` and `java-17-openjdk` whole.
    let mut version_at = None;
    for _ in 0..2 {
        match name.rsplit_once('-') {
            Some((head, piece))
                if !head.is_empty()
                    && piece.starts_with(|c: char| c.is_ascii_digit())
                    && piece.contains(['.', ':']) =>
            {
                version_at = Some(head.len() + 1);
                name = head;
            }
            _ => break,
        }
    }
    let end = wanted.len() - arch.map_or(0, |a| a.len() + 1);
    Spec { name, version: version_at.map(|at| &wanted[at..end]), arch }
}

/// Whether an installed rpm version (`1:1.20.1-10.el9.x86_64`) is the one asked for, which may leave out the
/// epoch, the release and the architecture (`1.20.1`, `1.20.1-10.el9`), as dnf and zypper let a name's
/// version do.
pub(super) fn version_matches(installed: &str, wanted: &str) -> bool {
    let evr = installed.rsplit_once('.').map_or(installed, |(evr, _arch)| evr);
    let without_epoch = evr.split_once(':').map_or(evr, |(_, vr)| vr);
    [evr, without_epoch].iter().any(|candidate| {
        candidate == &wanted
            || (!wanted.contains('-')
                && candidate.strip_prefix(wanted).is_some_and(|rest| rest.starts_with('-')))
    })
}

#[cfg(test)]
mod tests;
