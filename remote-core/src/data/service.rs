//! What the `service` operation reports per host: a systemd unit's state.

/// A systemd unit's state, typed (from `systemctl show`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Service {
    /// The unit's own name, e.g. `nginx.service`; for an alias (`sshd`) the unit it stands for
    /// (`ssh.service`).
    pub unit: String,
    /// The unit's `Description=`; systemd shows the unit name when there is none.
    pub description: String,
    /// Whether systemd could read the unit: `loaded`, `not-found`, `masked`, `bad-setting`, `error`.
    pub load_state: String,
    /// `active`, `inactive`, `failed`, `activating`, `deactivating`, `reloading` (and `refreshing`,
    /// `maintenance`).
    pub active_state: String,
    /// The type-specific state: `running`, `exited`, `dead`, `auto-restart`, `waiting`, ….
    pub sub_state: String,
    /// Whether it starts at boot: `enabled`, `disabled`, `static`, `masked`, …; empty when there is no unit
    /// file.
    pub unit_file_state: String,
    /// The main process; `None` when there is none (systemd says 0).
    pub main_pid: Option<u32>,
    /// When it last became active, as systemd printed it (`Mon 2024-05-13 09:12:44 UTC`); `None` when never.
    pub active_since: Option<String>,
    /// The memory its control group uses; `None` when systemd does not account it.
    pub memory_bytes: Option<u64>,
    /// How often systemd restarted it automatically; `None` on systemd before 235, which does not count.
    pub restarts: Option<u32>,
    /// How it last ended: `success`, `exit-code`, `signal`, `timeout`, `core-dump`, ….
    pub result: String,
}

impl Service {
    /// Whether the unit is up, as `systemctl is-active` answers it: `active` and `reloading` (and
    /// `refreshing`, active while its images are refreshed). `activating` is not: a service waiting to be
    /// restarted after a crash is `activating` too, and calling it active would hide the crash loop.
    pub fn is_active(&self) -> bool {
        matches!(self.active_state.as_str(), "active" | "reloading" | "refreshing")
    }

    /// Whether the unit starts at boot because it was enabled: `enabled`, or `enabled-runtime` (until the
    /// next boot). `static` units have no `[Install]` section to enable, and `alias` names another unit's
    /// state, so neither counts.
    pub fn is_enabled(&self) -> bool {
        matches!(self.unit_file_state.as_str(), "enabled" | "enabled-runtime")
    }

    /// Whether systemd knows the unit. As `systemctl` itself decides: `not-found` and `inactive` together; a
    /// unit whose file was deleted while it ran is `not-found` but still there, and can still be stopped.
    pub fn exists(&self) -> bool {
        !(self.load_state == "not-found" && self.active_state == "inactive")
    }

    /// Whether the unit is up or on its way up, so that starting it again would change nothing.
    pub fn up(&self) -> bool {
        self.is_active() || self.active_state == "activating"
    }

    /// Whether the unit is masked, from its loaded state or, when masked since, from its unit file.
    pub fn masked(&self) -> bool {
        self.load_state == "masked" || self.unit_file_state.starts_with("masked")
    }
}
