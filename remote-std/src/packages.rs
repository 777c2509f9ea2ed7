//! Package management without I/O: the shell that finds a host's package manager, the commands that list what
//! is installed and what could be upgraded, the parsers of their outputs, what changed between two listings,
//! and the package names `pkg_install` and `pkg_remove` accept.
//!
//! Versions are written the way the manager itself writes them, so that a listing, a pending upgrade and a
//! change read alike: dpkg's `1:2.66-4`, rpm's `EPOCH:VERSION-RELEASE.ARCH` (epoch left out when 0, arch kept
//! because multilib hosts have `glibc` twice), apk's `1.36.1-r15`, pacman's `1:1.9.2-1`.
//!
//! Each manager's commands, parsers and way of naming a version are in a module of its own (`apt`, `rpm` for
//! what dnf, yum and zypper share, `zypper`, `apk`, `pacman`); this one picks among them by [`Manager`] and
//! holds what every manager shares: the operations, the scripts they run, and what their results say.

// The operations fail hosts with their own error, whatever its size: once per host, not in a hot loop.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet};

use crate::probe::{Reading, Script};
use crate::remote;
pub use remote_core::data::{Data, Manager, Package, Packages, Upgrade};
use remote_core::pretty::sanitize;
use remote_core::quote::quote;
use remote_core::{HostError, HostResult, On, Run};

mod apk;
mod apt;
mod pacman;
mod rpm;
mod zypper;

/// Shell (POSIX `sh`, busybox's too) that prints one line: the name of the host's package manager, or `none`.
///
/// The order settles hosts with two: apt needs `dpkg-query` as well, since a lone `apt-get` cannot be listed;
/// dnf comes before yum because RHEL 8 and later keep `yum` as a name for dnf.
pub(crate) const DETECT: &str = "\
if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then echo apt
elif command -v dnf >/dev/null 2>&1; then echo dnf
elif command -v yum >/dev/null 2>&1; then echo yum
elif command -v zypper >/dev/null 2>&1; then echo zypper
elif command -v apk >/dev/null 2>&1; then echo apk
elif command -v pacman >/dev/null 2>&1; then echo pacman
else echo none
fi";

/// Name → installed version(s) (rpm may have several versions of one name, e.g. kernels).
pub type InstalledSet = BTreeMap<String, Vec<String>>;

/// The command that lists every installed package for [`parse_installed`]: no root, no network, C locale.
/// Each manager's module says why its command is the one (dnf, yum and zypper all list with rpm).
pub(crate) fn list_installed(manager: Manager) -> &'static str {
    match manager {
        Manager::Apt => apt::LIST_INSTALLED,
        Manager::Dnf | Manager::Yum | Manager::Zypper => rpm::LIST_INSTALLED,
        Manager::Apk => apk::LIST_INSTALLED,
        Manager::Pacman => pacman::LIST_INSTALLED,
    }
}

/// Longest excerpt of an offending line quoted in an error, `…` included.
const EXCERPT_CHARS: usize = 80;

/// Why a package manager's listing could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ListingError {
    /// One line is not what the command prints.
    #[error("cannot read line {line} of `{command}`'s output: {cause} (the line reads `{excerpt}`)")]
    Line {
        /// The command whose output it is.
        command: String,
        /// The line's number, from 1.
        line: usize,
        /// The line, made harmless and clipped.
        excerpt: String,
        /// What is wrong with it.
        cause: String,
    },
    /// dpkg printed nothing, not even the architecture the listing starts with.
    #[error(
        "the dpkg listing is empty, without even the host's architecture; run `dpkg --print-architecture` on the \
         host to see why"
    )]
    EmptyDpkg,
}

/// The error for line `index` (0-based) of `source`'s output. The host's text is made harmless and clipped,
/// since errors are printed where nothing escapes them.
fn unreadable(source: &str, index: usize, line: &str, cause: &str) -> ListingError {
    let excerpt = remote_core::pretty::excerpt(line, EXCERPT_CHARS);
    ListingError::Line { command: source.to_string(), line: index + 1, excerpt, cause: cause.to_string() }
}

/// Parses [`list_installed`]'s output; versions of one name come sorted.
pub(crate) fn parse_installed(manager: Manager, text: &str) -> Result<InstalledSet, ListingError> {
    let mut set = InstalledSet::new();
    match manager {
        Manager::Apt => apt::parse_dpkg(text, &mut set)?,
        Manager::Dnf | Manager::Yum | Manager::Zypper => rpm::parse_rpm(text, &mut set)?,
        Manager::Apk => apk::parse_apk_info(text, &mut set)?,
        Manager::Pacman => pacman::parse_pacman_query(text, &mut set)?,
    }
    for versions in set.values_mut() {
        versions.sort();
        versions.dedup();
    }
    Ok(set)
}

/// The command that lists upgrades available from the package index as it is now (no refresh, no root, no
/// changes), exiting 0 whether or not there are upgrades and non-zero when the listing failed. Each manager's
/// module says how its command keeps to that.
pub(crate) fn list_pending(manager: Manager) -> &'static str {
    match manager {
        Manager::Apt => apt::LIST_PENDING,
        Manager::Dnf => rpm::DNF_PENDING,
        Manager::Yum => rpm::YUM_PENDING,
        Manager::Zypper => zypper::LIST_PENDING,
        Manager::Apk => apk::LIST_PENDING,
        Manager::Pacman => pacman::LIST_PENDING,
    }
}

/// Parses [`list_pending`]'s output into upgrades sorted by name; `installed` supplies the `from` version
/// where the manager's list does not show it (dnf and yum).
pub(crate) fn parse_pending(
    manager: Manager,
    text: &str,
    installed: &InstalledSet,
) -> Result<Vec<Upgrade>, ListingError> {
    let mut upgrades = match manager {
        Manager::Apt => apt::parse_apt_simulation(text)?,
        Manager::Dnf | Manager::Yum => rpm::parse_check_update(text, installed)?,
        Manager::Zypper => zypper::parse_zypper_updates(text)?,
        Manager::Apk => apk::parse_apk_upgradable(text)?,
        Manager::Pacman => pacman::parse_pacman_upgrades(text)?,
    };
    upgrades.sort();
    upgrades.dedup();
    Ok(upgrades)
}

/// What changed between two listings (taken before and after an install/upgrade/remove), sorted by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// Packages, or versions of a package, that were not there before.
    pub installed: Vec<Package>,
    /// Packages whose versions changed, downgrades included.
    pub upgraded: Vec<Upgrade>,
    /// Packages, or versions of a package, that are gone.
    pub removed: Vec<Package>,
}

impl Change {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.installed.is_empty() && self.upgraded.is_empty() && self.removed.is_empty()
    }
}

/// What changed from `before` to `after`.
///
/// A name whose versions changed is an upgrade from the versions that went to those that came (each side
/// joined by `, `); a downgrade is one too, since a listing cannot tell which version is newer. A name that
/// only gained versions had them installed beside the old (a second kernel, the `i686` build of a library),
/// and one that only lost some had those removed.
pub(crate) fn diff(before: &InstalledSet, after: &InstalledSet) -> Change {
    let mut change = Change::default();
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for name in names {
        let old: BTreeSet<&String> = before.get(name).into_iter().flatten().collect();
        let new: BTreeSet<&String> = after.get(name).into_iter().flatten().collect();
        let gone: Vec<&str> = old.difference(&new).map(|v| v.as_str()).collect();
        let came: Vec<&str> = new.difference(&old).map(|v| v.as_str()).collect();
        let package = |version: &&str| Package { name: name.clone(), version: version.to_string() };
        match (gone.is_empty(), came.is_empty()) {
            (true, true) => {}
            (true, false) => change.installed.extend(came.iter().map(package)),
            (false, true) => change.removed.extend(gone.iter().map(package)),
            (false, false) => change.upgraded.push(Upgrade {
                name: name.clone(),
                from: gone.join(", "),
                to: came.join(", "),
            }),
        }
    }
    change
}

/// A package `pkg_install` or `pkg_remove` is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// A name, perhaps with a version or an architecture as the manager writes them (`nginx=1.22.1-9`,
    /// `libc6:i386`, `glibc.i686`, `nginx-1.20.1`).
    Name(String),
    /// The path of a local `.deb` or `.rpm` file.
    File(String),
}

impl Wanted {
    /// The word as given.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Wanted::Name(word) | Wanted::File(word) => word,
        }
    }
}

/// Characters a name may have after its first, which is a letter or a digit: enough for versions (`=`, `~`,
/// `+`, `:`), architectures (`:`, `.`) and apk's repository tags (`@`), and none a shell or an option parser
/// reads.
const NAME_CHARACTERS: &str = ".+_:@~=-";

/// Why the names given to `pkg_install` or `pkg_remove` were refused; `shown` is the word as the user typed it
/// (made safe and clipped) and its number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NameError {
    /// A NUL byte, which no command line can carry.
    #[error("{shown} contains a NUL byte, which no shell can pass on; remove it")]
    Nul { shown: String },
    /// A word the package manager would read as an option.
    #[error("{shown} starts with `-`, so the package manager would take it for an option; {fix}")]
    Option { shown: String, fix: &'static str },
    /// A path given to remove.
    #[error(
        "{shown} is a path, and removing takes the names of installed packages: give a name such as `nginx`"
    )]
    PathToRemove { shown: String },
    /// A path that is not a package file.
    #[error(
        "{shown} contains `/` but is not a .deb or .rpm file: give a package name, or the path of a local .deb or \
         .rpm file (repository prefixes such as `extra/nginx` are not supported)"
    )]
    NotAPackageFile { shown: String },
    /// A name that does not start with a letter or a digit.
    #[error("{shown} is not a package name: a name starts with a letter or a digit")]
    BadStart { shown: String },
    /// A character no package name has.
    #[error(
        "{shown} is not a package name: `{bad}` is not allowed; names use letters, digits and `{}`",
        NAME_CHARACTERS
    )]
    BadCharacter { shown: String, bad: String },
    /// A trailing `-`, which apt reads as a removal.
    #[error(
        "{shown} ends with `-`, which apt reads as \"remove this package\"; give the package's full name"
    )]
    TrailingDash { shown: String },
    /// A package file named without a `/`.
    #[error(
        "{shown} looks like a package file but has no `/`, so it would be taken for a name: write it as `./{word}`"
    )]
    FileWithoutPath { shown: String, word: String },
    /// Nothing at all.
    #[error("no package names given: list them separated by spaces or commas, e.g. `nginx curl`")]
    Empty,
}

/// Splits and checks the names argument of `pkg_install` (`allow_files`) and `pkg_remove`: words separated by
/// white space and/or commas, each a package name or, to install, the path of a local `.deb` or `.rpm` file.
/// Repeated words are kept once. No word may start with `-`, so that none can become an option of the package
/// manager.
pub(crate) fn parse_names(names: &str, allow_files: bool) -> Result<Vec<Wanted>, NameError> {
    let mut wanted: Vec<Wanted> = Vec::new();
    for (index, word) in
        names.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).enumerate()
    {
        let shown = format!(
            "`{}` (word {})",
            sanitize(word).chars().take(EXCERPT_CHARS).collect::<String>(),
            index + 1
        );
        let is_file = word.contains('/');
        if word.contains('\0') {
            return Err(NameError::Nul { shown });
        }
        if word.starts_with('-') {
            let fix = if is_file { "write the path as `./…`" } else { "give package names only" };
            return Err(NameError::Option { shown, fix });
        }
        let item = if is_file {
            if !allow_files {
                return Err(NameError::PathToRemove { shown });
            }
            if !(word.ends_with(".deb") || word.ends_with(".rpm")) {
                return Err(NameError::NotAPackageFile { shown });
            }
            Wanted::File(word.to_string())
        } else {
            if !word.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                return Err(NameError::BadStart { shown });
            }
            if let Some(bad) =
                word.chars().find(|c| !c.is_ascii_alphanumeric() && !NAME_CHARACTERS.contains(*c))
            {
                let bad = sanitize(&bad.to_string());
                return Err(NameError::BadCharacter { shown, bad });
            }
            // apt reads `name-` as "remove name" whatever the command, unless a package has that very name
            // (none does): a typo would turn an install into a removal. (`name+` means install, and `g++` is
            // a name.)
            if word.ends_with('-') {
                return Err(NameError::TrailingDash { shown });
            }
            if allow_files && (word.ends_with(".deb") || word.ends_with(".rpm")) {
                return Err(NameError::FileWithoutPath { shown, word: word.to_string() });
            }
            Wanted::Name(word.to_string())
        };
        if !wanted.contains(&item) {
            wanted.push(item);
        }
    }
    if wanted.is_empty() {
        return Err(NameError::Empty);
    }
    Ok(wanted)
}

/// A wanted name taken apart: the name in [`parse_installed`]'s output, the version asked for, the rpm
/// architecture.
struct Spec<'a> {
    name: &'a str,
    version: Option<&'a str>,
    arch: Option<&'a str>,
}

impl<'a> Spec<'a> {
    /// `wanted` cut at the first of `separators`: the name before it, and the version an `=` there pins. Only
    /// `=` pins a version this module can check; `~` (apk's fuzzy match) and `@tag` name no exact one.
    fn pinned(wanted: &'a str, separators: &[char]) -> Spec<'a> {
        let (name, rest) = match wanted.find(separators) {
            Some(at) => (&wanted[..at], Some(&wanted[at..])),
            None => (wanted, None),
        };
        let version = rest.and_then(|r| r.strip_prefix('=')).map(|v| v.split('@').next().unwrap_or(v));
        Spec { name, version, arch: None }
    }
}

/// `wanted` taken apart the way its manager writes a version and an architecture after a name.
fn spec(manager: Manager, wanted: &str) -> Spec<'_> {
    match manager {
        Manager::Apt => apt::spec(wanted),
        Manager::Dnf | Manager::Yum => rpm::spec(wanted),
        Manager::Zypper => zypper::spec(wanted),
        Manager::Apk => apk::spec(wanted),
        Manager::Pacman => pacman::spec(wanted),
    }
}

/// The name a wanted package has in [`parse_installed`]'s output: `nginx` for `nginx=1.22.1-9`, `nginx@edge`,
/// `glibc.i686`'s `glibc`, `nginx-1.20.1-10.el9`'s `nginx`.
///
/// An apt `:arch` stays (`libc6:i386`), since apt lists packages of other architectures under that name;
/// whether `:amd64` is the host's own architecture is not known here, and [`missing`] and [`present`] allow
/// for it.
#[cfg(test)]
pub(crate) fn base_name(manager: Manager, wanted: &str) -> &str {
    spec(manager, wanted).name
}

/// Whether an installed version is the one asked for: the very same, or for rpm's managers one that only adds
/// an epoch, a release or an architecture (see [`rpm::version_matches`]).
fn version_matches(manager: Manager, installed: &str, wanted: &str) -> bool {
    installed == wanted || (manager.uses_rpm() && rpm::version_matches(installed, wanted))
}

/// Whether an installed version of `spec` is there, of the architecture and (with `check_version`) version
/// asked for.
fn installed_as(manager: Manager, spec: &Spec, installed: &InstalledSet, check_version: bool) -> bool {
    let Some(versions) = installed.get(spec.name) else { return false };
    versions.iter().any(|version| {
        spec.arch.is_none_or(|arch| version.ends_with(&format!(".{arch}")))
            && (!check_version
                || spec
                    .version
                    .filter(|v| !v.is_empty())
                    .is_none_or(|v| version_matches(manager, version, v)))
    })
}

/// The wanted packages to install: names not installed in the version and architecture asked for, and every
/// file (whether a file's package is installed is the caller's to find out).
///
/// An apt name with `:arch` counts as installed only when listed under that name, so `nginx:amd64` on an
/// amd64 host counts as missing, and apt finds it already installed, which changes nothing.
pub(crate) fn missing<'a>(
    manager: Manager,
    wanted: &'a [Wanted],
    installed: &InstalledSet,
) -> Vec<&'a Wanted> {
    wanted
        .iter()
        .filter(|w| match w {
            Wanted::Name(word) => !installed_as(manager, &spec(manager, word), installed, true),
            Wanted::File(_) => true,
        })
        .collect()
}

/// The wanted packages to remove: names installed in any version (of the architecture asked for); never a
/// file.
///
/// An apt name with `:arch` counts as present when listed under that name or without it (`nginx:amd64` on an
/// amd64 host), since the host's architecture is not known here; apt says a package of another architecture
/// is not installed and removes nothing.
pub(crate) fn present<'a>(
    manager: Manager,
    wanted: &'a [Wanted],
    installed: &InstalledSet,
) -> Vec<&'a Wanted> {
    wanted
        .iter()
        .filter(|w| match w {
            Wanted::Name(word) => {
                let spec = spec(manager, word);
                let unqualified = manager == Manager::Apt && apt::listed_without_arch(spec.name, installed);
                unqualified || installed_as(manager, &spec, installed, false)
            }
            Wanted::File(_) => false,
        })
        .collect()
}

/// Refreshes every host's package index (`apt-get update`, `dnf makecache`, `zypper refresh`, `apk update`,
/// `pacman -Sy`) and lists the upgrades it then offers: the seed's `update`, e.g. `pkg_update(hs) | pretty`.
///
/// The manager is found per host (apt, dnf, yum, zypper, apk, pacman). Data: `pending`, the upgrades offered.
#[remote::operation(data = "packages")]
pub fn pkg_update(on: impl Into<On>) -> Run {
    packages(on, "pkg_update", Job::Update)
}

/// Upgrades every package a host's index offers a newer version of (`apt-get dist-upgrade`, `dnf upgrade`,
/// `zypper update`, `apk upgrade`, `pacman -Su`), e.g. `pkg_update(hs) | pkg_upgrade | pretty`.
///
/// Says per host which packages went from which version to which (`upgraded`, `installed`, `removed`), or
/// `unchanged`; a dry run lists the upgrades it would make.
#[remote::operation(data = "packages")]
pub fn pkg_upgrade(on: impl Into<On>) -> Run {
    packages(on, "pkg_upgrade", Job::Upgrade)
}

/// Installs packages on every host: names separated by spaces or commas, or paths of `.deb`/`.rpm` files on
/// the host, e.g. `pkg_install(hs, "nginx curl")` or `upload(hs, "app.deb", "/tmp/app.deb") |
/// pkg_install("/tmp/app.deb")`.
///
/// Only what is missing is installed, so a host that has them all runs no package manager and says
/// `unchanged` (it needs no root for that). A name may carry a version as the manager writes it
/// (`nginx=1.22.1-9`).
#[remote::operation(data = "packages")]
pub fn pkg_install(on: impl Into<On>, names: &str) -> Run {
    match parse_names(names, true) {
        Ok(wanted) => packages(on, &format!("pkg_install {names}"), Job::Install(&wanted)),
        Err(cause) => on.into().refuse("pkg_install", HostError::BadArgument { cause: cause.to_string() }),
    }
}

/// Removes packages from every host, e.g. `pkg_remove(hs, "telnet")`; a host without any of them runs no
/// package manager and says `unchanged`.
#[remote::operation(data = "packages")]
pub fn pkg_remove(on: impl Into<On>, names: &str) -> Run {
    match parse_names(names, false) {
        Ok(wanted) => packages(on, &format!("pkg_remove {names}"), Job::Remove(&wanted)),
        Err(cause) => on.into().refuse("pkg_remove", HostError::BadArgument { cause: cause.to_string() }),
    }
}

/// What a package operation is asked to do.
#[derive(Clone, Copy, Debug)]
enum Job<'a> {
    Update,
    Upgrade,
    Install(&'a [Wanted]),
    Remove(&'a [Wanted]),
}

/// The manager's command that does `job` for the packages `words` (already shell-quoted), never asking
/// anything.
fn action(manager: Manager, job: Job<'_>, words: &str) -> String {
    let apt = "DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300 \
               -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold";
    let verb = match (manager, job) {
        (Manager::Apt, Job::Update) => return "LC_ALL=C apt-get -q -o DPkg::Lock::Timeout=300 update".into(),
        (Manager::Apt, Job::Upgrade) => format!("{apt} dist-upgrade"),
        (Manager::Apt, Job::Install(_)) => format!("{apt} install"),
        (Manager::Apt, Job::Remove(_)) => format!("{apt} remove"),
        (Manager::Dnf | Manager::Yum, Job::Update) => format!("{} -y makecache", manager.name()),
        (Manager::Dnf | Manager::Yum, Job::Upgrade) => format!("{} -y upgrade", manager.name()),
        (Manager::Dnf | Manager::Yum, Job::Install(_)) => format!("{} -y install", manager.name()),
        (Manager::Dnf | Manager::Yum, Job::Remove(_)) => format!("{} -y remove", manager.name()),
        (Manager::Zypper, Job::Update) => "zypper --non-interactive refresh".into(),
        (Manager::Zypper, Job::Upgrade) => {
            "zypper --non-interactive update --auto-agree-with-licenses".into()
        }
        (Manager::Zypper, Job::Install(_)) => {
            "zypper --non-interactive install --auto-agree-with-licenses".into()
        }
        (Manager::Zypper, Job::Remove(_)) => "zypper --non-interactive remove".into(),
        (Manager::Apk, Job::Update) => "apk update".into(),
        (Manager::Apk, Job::Upgrade) => "apk upgrade".into(),
        (Manager::Apk, Job::Install(_)) => "apk add".into(),
        (Manager::Apk, Job::Remove(_)) => "apk del".into(),
        (Manager::Pacman, Job::Update) => "pacman -Sy --noconfirm".into(),
        (Manager::Pacman, Job::Upgrade) => "pacman -Su --noconfirm".into(),
        (Manager::Pacman, Job::Install(_)) => "pacman -S --noconfirm --needed".into(),
        (Manager::Pacman, Job::Remove(_)) => "pacman -R --noconfirm".into(),
    };
    let line = if words.is_empty() { format!("LC_ALL=C {verb}") } else { format!("LC_ALL=C {verb} {words}") };
    if manager == Manager::Zypper {
        // zypper's 102 (reboot needed), 103 (zypper itself updated, run again) and 106 (repositories skipped)
        // come after the packages changed: the listing after says what did. 107 (a package's script failed)
        // stays a failure, with what changed said beside it.
        return format!("{line} || {{ r=$?; [ $r -eq 102 ] || [ $r -eq 103 ] || [ $r -eq 106 ]; }}");
    }
    line
}

/// Shell that runs what `pick` gives for the manager found (`$m`).
fn per_manager(pick: impl Fn(Manager) -> String) -> String {
    let mut shell = String::from("case \"$m\" in\n");
    for manager in Manager::ALL {
        shell.push_str(&format!("{}) {}\n;;\n", manager.name(), pick(manager)));
    }
    shell.push_str("esac");
    shell
}

/// A package file's path as the manager needs it: `~/` is the login user's home, where commands start, and a
/// relative path gets `./` so that apt reads it as a file, not a package name.
fn file_path(path: &str) -> String {
    let path = path.strip_prefix("~/").unwrap_or(path);
    if path.starts_with('/') || path.starts_with("./") || path.starts_with("../") {
        path.to_string()
    } else {
        format!("./{path}")
    }
}

/// The script's first sections: the manager (failing on a host with none) and what is installed.
fn start(script: Script) -> Script {
    let manager = format!(
        "m=$({DETECT})\necho \"$m\"\nif [ \"$m\" = none ]; then echo 'no package manager found: pkg_* know apt, dnf, yum, zypper, \
         apk and pacman' >&2; exit 3; fi"
    );
    script.run("manager", &manager).run("before", &per_manager(|m| list_installed(m).to_string()))
}

/// The first script of `job`: what each host has, and what it needs (or, for the jobs that always act, the
/// whole job).
fn first_script(job: Job<'_>, checking: bool) -> Script {
    let script = start(Script::new());
    match job {
        Job::Update if checking => script.run("pending", &per_manager(|m| list_pending(m).to_string())),
        Job::Update => script
            .run("log", &format!("{} 1>&2", per_manager(|m| action(m, job, ""))))
            .run("pending", &per_manager(|m| list_pending(m).to_string())),
        Job::Upgrade if checking => script.run("pending", &per_manager(|m| list_pending(m).to_string())),
        Job::Upgrade => acting(script, &per_manager(|m| action(m, job, ""))),
        Job::Install(wanted) => {
            let files: Vec<String> = wanted
                .iter()
                .filter(|w| matches!(w, Wanted::File(_)))
                .map(|w| file_path(w.as_str()))
                .collect();
            if files.is_empty() {
                return script;
            }
            // Each file's package name and version, a line each, to compare with what is installed.
            let show = |m: Manager| {
                match m {
                // A file not there yet (a dry run's upload sent nothing) is a package not installed.
                Manager::Apt => files
                    .iter()
                    .map(|f| {
                        let f = quote(f);
                        format!("if [ -e {f} ]; then dpkg-deb --show --showformat='${{Package}}\\t${{Version}}\\n' {f}; else echo; fi")
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                Manager::Dnf | Manager::Yum | Manager::Zypper => files
                    .iter()
                    .map(|f| {
                        let f = quote(f);
                        format!(
                            "if [ -e {f} ]; then rpm -qp --qf '%{{NAME}}\\t%{{EPOCHNUM}}:%{{VERSION}}-%{{RELEASE}}.%{{ARCH}}\\n' {f}; \
                             else echo; fi"
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                other => format!("echo '{} cannot install package files; give package names' >&2; exit 3", other.name()),
            }
            };
            script.run("files", &per_manager(show))
        }
        Job::Remove(_) => script,
    }
}

/// The second script, for a host that needs `words` installed or removed: the state before, the manager's
/// run, the state after.
fn second_script(token: &str, job: Job<'_>, manager: Manager, words: &[String]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| quote(w).into_owned()).collect();
    acting(start(Script::with_token(token)), &action(manager, job, &quoted.join(" "))).command()
}

/// The dry run's second script on an apt host: the state, then apt's simulation of what `needs` asks.
fn simulation(token: &str, job: Job<'_>, needs: &[String]) -> String {
    let verb = if matches!(job, Job::Install(_)) { "install" } else { "remove" };
    let words: Vec<String> = needs.iter().map(|w| quote(w).into_owned()).collect();
    let simulate = format!("LC_ALL=C apt-get -s -o Debug::NoLocking=1 {verb} {}", words.join(" "));
    start(Script::with_token(token)).run("simulate", &simulate).command()
}

/// `script` going on with `act` (its output to stderr), then what is installed after, whether `act` succeeded
/// or not, so that a failure still says what changed; the script ends with `act`'s exit status.
fn acting(script: Script, act: &str) -> Script {
    script
        .run("log", &format!("rc=0\n{{ {act}\n}} 1>&2 || rc=$?"))
        .run("after", &per_manager(|m| list_installed(m).to_string()))
        .run("end", "exit $rc")
}

/// One host's first reading: its manager, what it has, and what it needs (`words` to install or remove).
struct Found {
    manager: Manager,
    before: InstalledSet,
    needs: Vec<String>,
}

/// The manager and what is installed; with `needs`, also what the host needs for `job` (a first script's
/// reading).
fn read_found(job: Job<'_>, reading: &Reading<'_>, needs: bool) -> Result<Found, HostError> {
    let manager_text = reading.section("manager")?.text();
    let manager = Manager::from_name(&manager_text).ok_or_else(|| {
        reading.unavailable(format!("the host named no known package manager: `{}`", sanitize(&manager_text)))
    })?;
    let text = |name: &str| reading.section(name).map(|s| s.lines.join("\n"));
    let before =
        parse_installed(manager, &text("before")?).map_err(|cause| reading.unavailable(cause.to_string()))?;
    if !needs {
        return Ok(Found { manager, before, needs: Vec::new() });
    }
    let needs = match job {
        Job::Install(wanted) => {
            let mut needs: Vec<String> = missing(manager, wanted, &before)
                .into_iter()
                .filter_map(|w| match w {
                    Wanted::Name(name) => Some(name.clone()),
                    Wanted::File(_) => None,
                })
                .collect();
            let files: Vec<&Wanted> = wanted.iter().filter(|w| matches!(w, Wanted::File(_))).collect();
            if !files.is_empty() {
                let shown = text("files")?;
                let lines: Vec<&str> = shown.lines().collect();
                if lines.len() != files.len() {
                    return Err(reading.unavailable(format!(
                        "read {} package file(s), expected {}",
                        lines.len(),
                        files.len()
                    )));
                }
                for (file, line) in files.iter().zip(lines) {
                    let (name, version) = line.split_once('\t').unwrap_or((line, ""));
                    // rpm writes epoch 0 as `0:`, which the installed listing leaves out.
                    let version = version.strip_prefix("0:").unwrap_or(version);
                    if !before.get(name).is_some_and(|versions| versions.iter().any(|v| v == version)) {
                        needs.push(file_path(file.as_str()));
                    }
                }
            }
            needs
        }
        Job::Remove(wanted) => {
            present(manager, wanted, &before).into_iter().map(|w| w.as_str().to_string()).collect()
        }
        Job::Update | Job::Upgrade => Vec::new(),
    };
    Ok(Found { manager, before, needs })
}

/// Runs `job` where `on` says: a first script on every host, and for installs and removals a second on the
/// hosts that need one (hosts with the same manager and needs share it).
fn packages(on: impl Into<On>, label: &str, job: Job<'_>) -> Run {
    let on = on.into();
    let checking = on.checking();
    let first = first_script(job, checking);
    let token = first.token().to_string();
    // In a dry run the first script only reads (it neither refreshes nor upgrades).
    let run = if checking { on.read(label, &first.command()) } else { on.exec(label, &first.command()) };
    let found = |result: &HostResult| {
        let output = result.output()?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        read_found(job, &Reading::parse("packages", &token, &stdout), true)
            .ok()
            .filter(|found| !found.needs.is_empty())
    };
    let run = match job {
        Job::Install(_) | Job::Remove(_) if !checking => run.exec_each(label, |result| {
            found(result).map(|found| second_script(&token, job, found.manager, &found.needs))
        }),
        // apt can say exactly what installing or removing what a host needs would do, dependencies included:
        // a dry run asks its simulation (`apt-get -s`, which changes nothing) on those hosts.
        Job::Install(_) | Job::Remove(_) => run.read_each(label, |result| {
            let found = found(result)?;
            // A package file may not be there yet (a dry run's upload sends nothing): named packages only.
            let names_only = found.needs.iter().all(|need| !need.contains('/'));
            (found.manager == Manager::Apt && names_only).then(|| simulation(&token, job, &found.needs))
        }),
        _ => run,
    };
    run.map_results(|result| {
        let HostResult { host, outcome, elapsed } = result;
        let outcome = outcome.and_then(|mut output| {
            // A host that failed in an earlier step keeps its own report: only what this step's scripts
            // printed (their markers carry its token) is read here.
            let marker = format!("@@{token} ");
            if !output.stdout.windows(marker.len()).any(|window| window == marker.as_bytes()) {
                return Ok(output);
            }
            // A listing cut short would read as packages removed.
            if output.truncated {
                let cause = "its output was cut short (over the per-host limit or the run's --max-output budget), so what \
                             is installed cannot be read whole; raise --max-output";
                return Err(HostError::Unavailable { operation: "packages".into(), cause: cause.into() });
            }
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            let reading = Reading::parse("packages", &token, &stdout);
            if output.success() {
                let (changed, said, data) = verdict(job, checking, &reading)?;
                output.stdout = format!("{said}\n").into_bytes();
                output.changed = changed;
                output.data = Some(Data::Packages(data));
            } else {
                // A failed host keeps its failure (the manager's words are on stderr); when it listed what it
                // has after, it also says what changed meanwhile, rather than carrying its raw listings.
                output.stdout = Vec::new();
                if !reading.sections("after").is_empty()
                    && let Ok((changed, said, data)) = verdict(job, checking, &reading)
                {
                    output.stdout = format!("the package manager failed; meanwhile: {said}\n").into_bytes();
                    output.changed = changed;
                    output.data = Some(Data::Packages(data));
                }
            }
            Ok(output)
        });
        HostResult { host, outcome, elapsed }
    })
}

/// What one host's reading says: whether it changed (or would), the words for it, and the data.
fn verdict(
    job: Job<'_>,
    checking: bool,
    reading: &Reading<'_>,
) -> Result<(Option<bool>, String, Packages), HostError> {
    let has = |name: &str| !reading.sections(name).is_empty();
    let found = read_found(job, reading, !has("after"))?;
    let manager = found.manager;
    let mut data = Packages {
        manager,
        installed: Vec::new(),
        upgraded: Vec::new(),
        removed: Vec::new(),
        pending: Vec::new(),
    };
    let section = |name: &str| reading.section(name).map(|s| s.lines.join("\n"));
    if has("after") {
        let after = parse_installed(manager, &section("after")?)
            .map_err(|cause| reading.unavailable(cause.to_string()))?;
        let change = diff(&found.before, &after);
        let mut said = if change.is_empty() {
            "unchanged: the package manager changed nothing".to_string()
        } else {
            describe(&change, DONE)
        };
        // What was asked and is still not so: a name the manager resolves to another package (a virtual
        // package, one another package provides) is listed under that other name, and is handed to the
        // manager every time.
        let (left, state) = match job {
            Job::Install(wanted) => {
                (missing(manager, wanted, &after), "not listed as installed after the run")
            }
            Job::Remove(wanted) => (present(manager, wanted, &after), "still installed after the run"),
            Job::Update | Job::Upgrade => (Vec::new(), ""),
        };
        let left: Vec<&str> =
            left.iter().filter(|w| matches!(w, Wanted::Name(_))).map(|w| w.as_str()).collect();
        if !left.is_empty() {
            said.push_str(&format!(
                "; {state}: {} (a virtual package, or a name another package provides?)",
                names(&left)
            ));
        }
        let changed = !change.is_empty();
        (data.installed, data.upgraded, data.removed) = (change.installed, change.upgraded, change.removed);
        return Ok((Some(changed), said, data));
    }
    match job {
        Job::Update | Job::Upgrade => {
            let pending = parse_pending(manager, &section("pending")?, &found.before)
                .map_err(|cause| reading.unavailable(cause.to_string()))?;
            let list = upgrades(&pending);
            let (changed, said) = match (job, checking) {
                (Job::Update, false) => (
                    None,
                    format!("refreshed the package index; {} upgrade(s) available{list}", pending.len()),
                ),
                (Job::Update, true) => (
                    None,
                    format!(
                        "would refresh the package index; {} upgrade(s) available as of its last refresh{list}",
                        pending.len()
                    ),
                ),
                _ if pending.is_empty() => {
                    (Some(false), "unchanged: nothing to upgrade as of the last index refresh".to_string())
                }
                _ => (Some(true), format!("would upgrade {} package(s){list}", pending.len())),
            };
            if matches!(job, Job::Upgrade) {
                data.upgraded = pending.clone();
            }
            data.pending = pending;
            Ok((changed, said, data))
        }
        Job::Install(wanted) | Job::Remove(wanted) => {
            let verb = if matches!(job, Job::Install(_)) { "install" } else { "remove" };
            if found.needs.is_empty() {
                let words: Vec<&str> = wanted.iter().map(Wanted::as_str).collect();
                let state = if verb == "install" { "installed already" } else { "not installed" };
                return Ok((Some(false), format!("unchanged: {} {state}", names(&words)), data));
            }
            // Only a dry run gets here with needs: a real run's hosts that need something ran the second
            // script.
            if manager == Manager::Apt && has("simulate") {
                let simulated = parse_pending(manager, &section("simulate")?, &found.before)
                    .map_err(|cause| reading.unavailable(cause.to_string()))?;
                return Ok(would(simulated, data));
            }
            let packages =
                found.needs.iter().map(|name| Package { name: name.clone(), version: String::new() });
            if verb == "install" {
                data.installed = packages.collect();
            } else {
                data.removed = packages.collect();
            }
            let words: Vec<&str> = found.needs.iter().map(String::as_str).collect();
            Ok((Some(true), format!("would {verb} {}", names(&words)), data))
        }
    }
}

/// A dry run's verdict from the manager's own simulation: every package it would install, upgrade or remove.
fn would(simulated: Vec<Upgrade>, mut data: Packages) -> (Option<bool>, String, Packages) {
    for change in simulated {
        match (change.from.is_empty(), change.to.is_empty()) {
            (true, _) => data.installed.push(Package { name: change.name, version: change.to }),
            (_, true) => data.removed.push(Package { name: change.name, version: change.from }),
            _ => data.upgraded.push(change),
        }
    }
    let change = Change {
        installed: data.installed.clone(),
        upgraded: data.upgraded.clone(),
        removed: data.removed.clone(),
    };
    if change.is_empty() {
        return (Some(false), "unchanged: the package manager would change nothing".into(), data);
    }
    (Some(true), describe(&change, ["would install", "would upgrade", "would remove"]), data)
}

/// The verbs of a change made.
const DONE: [&str; 3] = ["installed", "upgraded", "removed"];

/// Names shown in one line of words; the rest are counted.
const NAMES_SHOWN: usize = 10;

fn names(words: &[impl AsRef<str>]) -> String {
    let mut shown = words.iter().take(NAMES_SHOWN).map(AsRef::as_ref).collect::<Vec<_>>().join(", ");
    if words.len() > NAMES_SHOWN {
        shown.push_str(&format!(" and {} more", words.len() - NAMES_SHOWN));
    }
    shown
}

fn upgrades(list: &[Upgrade]) -> String {
    if list.is_empty() {
        return String::new();
    }
    let words: Vec<String> = list
        .iter()
        .map(|u| match (u.from.is_empty(), u.to.is_empty()) {
            (true, _) => format!("{} (new) {}", u.name, u.to),
            (_, true) => format!("{} {} (removed)", u.name, u.from),
            _ => format!("{} {} → {}", u.name, u.from, u.to),
        })
        .collect();
    format!(": {}", names(&words))
}

/// A change in words, each kind led by its verb: `["installed", "upgraded", "removed"]` for what was done.
fn describe(change: &Change, [install, upgrade, remove]: [&str; 3]) -> String {
    let listed = |list: &[Package]| {
        names(&list.iter().map(|p| format!("{} {}", p.name, p.version)).collect::<Vec<_>>())
    };
    let mut parts = Vec::new();
    if !change.installed.is_empty() {
        parts.push(format!("{install} {}", listed(&change.installed)));
    }
    if !change.upgraded.is_empty() {
        parts.push(format!("{upgrade} {}{}", change.upgraded.len(), upgrades(&change.upgraded)));
    }
    if !change.removed.is_empty() {
        parts.push(format!("{remove} {}", listed(&change.removed)));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests;
