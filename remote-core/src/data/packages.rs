//! What the package operations report per host: the manager, what changed and what is pending.

/// A package manager a host can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Manager {
    /// Debian and Ubuntu: `apt-get` to change, `dpkg-query` to list.
    Apt,
    /// Fedora, RHEL 8 and later and their rebuilds (dnf 4 and dnf 5 alike).
    Dnf,
    /// RHEL and CentOS 7 and older.
    Yum,
    /// openSUSE and SLES.
    Zypper,
    /// Alpine.
    Apk,
    /// Arch.
    Pacman,
}

impl Manager {
    /// Every manager, in the order the detection script looks for them.
    pub const ALL: [Manager; 6] =
        [Manager::Apt, Manager::Dnf, Manager::Yum, Manager::Zypper, Manager::Apk, Manager::Pacman];

    /// The name the detection script prints: `apt`, `dnf`, `yum`, `zypper`, `apk` or `pacman`.
    pub fn name(self) -> &'static str {
        match self {
            Manager::Apt => "apt",
            Manager::Dnf => "dnf",
            Manager::Yum => "yum",
            Manager::Zypper => "zypper",
            Manager::Apk => "apk",
            Manager::Pacman => "pacman",
        }
    }

    /// The manager the detection script named; surrounding white space is ignored since the name comes from a
    /// command's output.
    pub fn from_name(s: &str) -> Option<Manager> {
        Manager::ALL.into_iter().find(|m| m.name() == s.trim())
    }

    /// Whether packages are rpm's, listed by `rpm -qa` and versioned `VERSION-RELEASE.ARCH`.
    pub fn uses_rpm(self) -> bool {
        matches!(self, Manager::Dnf | Manager::Yum | Manager::Zypper)
    }
}

/// A package and one version of it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Package {
    /// The name as the manager lists it (`libc6:i386` for a foreign architecture on Debian).
    pub name: String,
    /// The version as the manager writes it.
    pub version: String,
}

/// A package going from one version to another.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Upgrade {
    /// The name as the manager lists it.
    pub name: String,
    /// The version installed before, `""` for a package the upgrade adds; several are joined by `, `.
    pub from: String,
    /// The version after, `""` for a package the upgrade removes; several are joined by `, `.
    pub to: String,
}

/// What a package operation found and did on one host (in a dry run: what it would do).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Packages {
    /// The host's package manager.
    pub manager: Manager,
    /// Packages installed (or versions installed beside others).
    pub installed: Vec<Package>,
    /// Packages whose version changed.
    pub upgraded: Vec<Upgrade>,
    /// Packages removed.
    pub removed: Vec<Package>,
    /// Upgrades the package index offers now (`pkg_update`; the dry run of `pkg_upgrade`).
    pub pending: Vec<Upgrade>,
}
