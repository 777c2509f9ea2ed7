//! zypper's own command and parser: `zypper list-updates`, its table of pending upgrades, and the names it
//! takes (`vim=9.0.2103`, `glibc.i586`). What is installed it lists with rpm, as dnf and yum do (see
//! [`super::rpm`]).

use super::rpm::split_rpm_arch;
use super::{ListingError, Spec, Upgrade, unreadable};

/// `list-updates` without refreshing, which needs neither root nor the network.
pub(super) const LIST_PENDING: &str = "LC_ALL=C zypper --non-interactive --no-refresh list-updates";

/// Reads `zypper list-updates`' table, whose columns are found by their heading: `S | Repository | Name |
/// Current Version | Available Version | Arch`. Lines without `|` are zypper's prose ("Loading repository
/// data...", "No updates found.") and the `--+--` rule under the heading.
pub(super) fn parse_zypper_updates(text: &str) -> Result<Vec<Upgrade>, ListingError> {
    const SOURCE: &str = "zypper list-updates";
    let mut upgrades = Vec::new();
    let mut columns: Option<[usize; 4]> = None;
    for (index, line) in text.lines().enumerate() {
        if !line.contains('|') {
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let position = |heading: &str| cells.iter().position(|cell| *cell == heading);
        if let (Some(name), Some(current), Some(available), Some(arch)) =
            (position("Name"), position("Current Version"), position("Available Version"), position("Arch"))
        {
            columns = Some([name, current, available, arch]);
            continue;
        }
        let Some(positions) = columns else {
            return Err(unreadable(
                SOURCE,
                index,
                line,
                "a table row comes before the heading that names its columns",
            ));
        };
        let [name, current, available, arch] = positions.map(|p| cells.get(p).copied().unwrap_or_default());
        if [name, current, available, arch].iter().any(|cell| cell.is_empty()) {
            return Err(unreadable(
                SOURCE,
                index,
                line,
                "expected a name, the current and available versions and an architecture",
            ));
        }
        // With the architecture, as rpm lists versions here.
        upgrades.push(Upgrade {
            name: name.into(),
            from: format!("{current}.{arch}"),
            to: format!("{available}.{arch}"),
        });
    }
    Ok(upgrades)
}

/// A name zypper is asked for taken apart: a version after `=`, then an rpm architecture after the name's
/// last `.`.
pub(super) fn spec(wanted: &str) -> Spec<'_> {
    let pinned = Spec::pinned(wanted, &['=']);
    let (name, arch) = split_rpm_arch(pinned.name);
    Spec { name, arch, ..pinned }
}

#[cfg(test)]
mod tests;
