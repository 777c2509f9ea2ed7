//! Systemd services as data: the unit to ask about, `systemctl show` read into a [`Service`], whether an
//! [`Action`] would change it, and the `systemctl` command that performs it. No I/O: the `service` operation
//! runs these texts on the hosts.

// The operation fails hosts with their own error, whatever its size: once per host, not in a hot loop.
#![allow(clippy::result_large_err)]

use std::str::FromStr;

use crate::remote;
pub use remote_core::data::{Data, Service};
use remote_core::{HostError, HostResult, On, Run, did_you_mean, quote};

/// Why a `service` call was refused, or a host's unit could not be read or acted on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ServiceError {
    /// An action `service` does not know.
    #[error(
        "unknown service action `{given}`{} (use one of: {names})",
        hint.as_ref().map(|name| format!("; did you mean `{name}`?")).unwrap_or_default()
    )]
    UnknownAction { given: String, hint: Option<String>, names: String },
    /// No unit name.
    #[error("the unit name is empty; give one such as `nginx` or `nginx.service`")]
    EmptyName,
    /// A name systemctl would read as an option.
    #[error("`{name}` starts with `-`, which systemctl would read as an option; give the unit's name")]
    OptionName { name: String },
    /// A path rather than a name.
    #[error(
        "`{name}` is a path, not a unit name; give the unit's name (`systemd-escape --path` turns a path into one)"
    )]
    PathName { name: String },
    /// White space inside the name.
    #[error("`{name}` contains whitespace; a unit name is one word, e.g. `nginx.service`")]
    Whitespace { name: String },
    /// A character systemd does not allow.
    #[error(
        "`{name}` contains `{bad}`, which systemd does not allow in unit names; use letters, digits and `:_.\\@-`"
    )]
    BadCharacter { name: String, bad: char },
    /// A name ending in `.`.
    #[error("`{name}` ends with `.`; give the unit type too, e.g. `{name}service`")]
    TrailingDot { name: String },
    /// Only a unit type (`.service`).
    #[error("`{name}` is only a unit type; give the unit's name, e.g. `nginx.{suffix}`")]
    OnlyType { name: String, suffix: String },
    /// Nothing before `@`.
    #[error("`{name}` has nothing before `@`; give the template's name, e.g. `getty@tty1`")]
    NoTemplateName { name: String },
    /// A bare template, which systemd cannot start or show.
    #[error(
        "`{name}` is a template, which systemd cannot start or show; give an instance, e.g. `{stem}tty1.{suffix}`"
    )]
    Template { name: String, stem: String, suffix: String },
    /// Longer than systemd allows.
    #[error("`{unit}` is {length} characters long; systemd unit names have at most {}", UNIT_NAME_MAX_BYTES)]
    TooLong { unit: String, length: usize },
    /// A line of `systemctl show` that is not `KEY=VALUE`.
    #[error("`systemctl show` line {line} is not KEY=VALUE: `{excerpt}` (is systemd the host's init?)")]
    NotKeyValue { line: usize, excerpt: String },
    /// A property that should be a number.
    #[error("`systemctl show` line {line}: {key} `{excerpt}` is not a number")]
    NotANumber { line: usize, key: String, excerpt: String },
    /// Output without `Id=`.
    #[error("`systemctl show` printed no `Id=`, so this is not its output (is systemd the host's init?)")]
    NoId,
    /// The host has no such unit.
    #[error("there is no unit `{unit}` on this host; `systemctl list-unit-files` lists the ones it has")]
    NoUnit { unit: String },
    /// A masked unit, which systemd refuses to act on.
    #[error(
        "`{unit}` is masked, so systemd refuses to {action} it; `systemctl unmask {unit}` lifts the mask"
    )]
    Masked { unit: String, action: &'static str },
    /// Reload of a unit that is not active.
    #[error("`{unit}` is not active ({state}), so there is nothing to reload; start it instead")]
    NotActive { unit: String, state: String },
    /// Enable of a unit without a unit file.
    #[error("`{unit}` has no unit file, so there is nothing to enable")]
    NoUnitFile { unit: String },
    /// Disable of a unit enabled for this boot only.
    #[error(
        "`{unit}` is enabled until the next boot only (enabled-runtime), which `systemctl disable` leaves as it is; run `systemctl disable --runtime {unit}`"
    )]
    RuntimeEnabled { unit: String },
}

/// What a service operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Start,
    Stop,
    Restart,
    Reload,
    Enable,
    Disable,
    Status,
}

impl Action {
    /// Every action, in the order error messages list them.
    const ALL: [Action; 7] = [
        Action::Start,
        Action::Stop,
        Action::Restart,
        Action::Reload,
        Action::Enable,
        Action::Disable,
        Action::Status,
    ];

    /// The action called `s` (any case); the error lists the valid ones.
    pub(crate) fn parse(s: &str) -> Result<Action, ServiceError> {
        let word = s.trim().to_ascii_lowercase();
        if let Some(action) = Action::ALL.into_iter().find(|a| a.name() == word) {
            return Ok(action);
        }
        let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
        let hint = did_you_mean(&word, names.iter().copied());
        Err(ServiceError::UnknownAction { given: s.to_string(), hint, names: names.join(", ") })
    }

    /// The action's name, which is also its `systemctl` verb.
    pub fn name(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Restart => "restart",
            Action::Reload => "reload",
            Action::Enable => "enable",
            Action::Disable => "disable",
            Action::Status => "status",
        }
    }
}

/// The `--property=` list the parser needs (comma separated).
pub(crate) const PROPERTIES: &str = "Id,Description,LoadState,ActiveState,SubState,UnitFileState,MainPID,ActiveEnterTimestamp,MemoryCurrent,NRestarts,Result";

/// The unit types systemd knows, from its unit-name rules; a name ending in one of them already names a unit.
const UNIT_TYPES: &[&str] = &[
    "service",
    "socket",
    "target",
    "device",
    "mount",
    "automount",
    "swap",
    "timer",
    "path",
    "slice",
    "scope",
];

/// Systemd refuses names of 256 bytes or more (`UNIT_NAME_MAX`).
const UNIT_NAME_MAX_BYTES: usize = 255;

/// Validates a unit name argument and returns the unit to ask systemd about: `nginx` → `nginx.service`.
///
/// A name that already ends in a unit type (`.socket`, `.timer`, …) is kept; `php8.2-fpm` does not, so it
/// gets `.service` as `systemctl` would add it. Template instances (`getty@tty1`) are allowed, bare templates
/// (`getty@`) are not: systemd cannot show or start them. Everything systemd would refuse is refused here,
/// with what to do instead, so that no host sees a name it would read as an option or a glob.
pub(crate) fn unit_name(name: &str) -> Result<String, ServiceError> {
    if name.is_empty() {
        return Err(ServiceError::EmptyName);
    }
    if name.starts_with('-') {
        return Err(ServiceError::OptionName { name: name.to_string() });
    }
    if name.contains('/') {
        return Err(ServiceError::PathName { name: name.to_string() });
    }
    if name.chars().any(char::is_whitespace) {
        return Err(ServiceError::Whitespace { name: name.to_string() });
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || ":_.\\@-".contains(c);
    if let Some(bad) = name.chars().find(|c| !allowed(*c)) {
        return Err(ServiceError::BadCharacter { name: name.to_string(), bad });
    }
    if name.ends_with('.') {
        return Err(ServiceError::TrailingDot { name: name.to_string() });
    }
    let unit = match name.rsplit_once('.') {
        Some((_, suffix)) if UNIT_TYPES.contains(&suffix) => name.to_string(),
        _ => format!("{name}.service"),
    };
    // The last `.` now starts a known type, so everything before it is the prefix and the instance.
    let (stem, suffix) = unit.rsplit_once('.').unwrap_or((&unit, ""));
    if stem.is_empty() {
        return Err(ServiceError::OnlyType { name: name.to_string(), suffix: suffix.to_string() });
    }
    if stem.starts_with('@') {
        return Err(ServiceError::NoTemplateName { name: name.to_string() });
    }
    if stem.ends_with('@') && !stem[..stem.len() - 1].contains('@') {
        return Err(ServiceError::Template {
            name: name.to_string(),
            stem: stem.to_string(),
            suffix: suffix.to_string(),
        });
    }
    if unit.len() > UNIT_NAME_MAX_BYTES {
        return Err(ServiceError::TooLong { length: unit.len(), unit });
    }
    Ok(unit)
}

/// At most 80 characters of `line`, made safe, for error messages.
fn excerpt(line: &str) -> String {
    remote_core::pretty::excerpt(line, 80)
}

/// The number in `value`, or an error naming the line and the property.
fn number<T: FromStr>(line: usize, key: &str, value: &str) -> Result<T, ServiceError> {
    value.parse().map_err(|_| ServiceError::NotANumber {
        line,
        key: key.to_string(),
        excerpt: excerpt(value),
    })
}

/// Parses `systemctl show --property=PROPERTIES -- UNIT` output into a [`Service`].
///
/// Lines are `KEY=VALUE`; only the first `=` separates, as descriptions may hold more. Unknown keys are
/// ignored and missing ones keep their default: a timer has no `MainPID`, systemd before 235 no `NRestarts`.
/// Systemd prints a string holding a newline as `[unprintable]`, so every value is one line.
pub(crate) fn parse_show(text: &str) -> Result<Service, ServiceError> {
    let mut service = Service::default();
    let mut has_id = false;
    for (index, line) in text.lines().enumerate() {
        let number_of_line = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(ServiceError::NotKeyValue { line: number_of_line, excerpt: excerpt(line) });
        };
        match key {
            "Id" => {
                has_id = true;
                service.unit = value.to_string();
            }
            "Description" => service.description = value.to_string(),
            "LoadState" => service.load_state = value.to_string(),
            "ActiveState" => service.active_state = value.to_string(),
            "SubState" => service.sub_state = value.to_string(),
            "UnitFileState" => service.unit_file_state = value.to_string(),
            "Result" => service.result = value.to_string(),
            "MainPID" => service.main_pid = Some(number(number_of_line, key, value)?).filter(|pid| *pid != 0),
            // Systemd prints no time for "never" (older ones `n/a`).
            "ActiveEnterTimestamp" => {
                service.active_since = Some(value.to_string()).filter(|v| !v.is_empty() && v != "n/a")
            }
            // Without memory accounting systemd has no value: newer ones print `[not set]`, older ones
            // u64::MAX.
            "MemoryCurrent" => {
                service.memory_bytes = match value {
                    "" | "[not set]" => None,
                    _ => Some(number(number_of_line, key, value)?).filter(|bytes| *bytes != u64::MAX),
                }
            }
            "NRestarts" if !value.is_empty() => service.restarts = Some(number(number_of_line, key, value)?),
            _ => {}
        }
    }
    if !has_id || service.unit.is_empty() {
        return Err(ServiceError::NoId);
    }
    Ok(service)
}

/// Whether `action` would change the unit in state `now`.
///
/// Start only when the unit is neither up nor coming up; stop when it is up or coming up; enable unless it is
/// `enabled` (`enabled-runtime` becomes permanent), or when it is `static`, `generated` or `transient`, which
/// `systemctl enable` cannot change; disable only when `enabled`; restart and reload always; status never.
/// Errors when systemd would refuse: a unit that does not exist (status excepted: it reports that), a masked
/// unit for anything but stop and disable, and `disable` of a unit enabled for this boot only, which plain
/// `systemctl disable` leaves as it is.
pub(crate) fn needed(action: Action, now: &Service) -> Result<bool, ServiceError> {
    let unit = &now.unit;
    if action == Action::Status {
        return Ok(false);
    }
    if !now.exists() {
        return Err(ServiceError::NoUnit { unit: unit.clone() });
    }
    let refused_when_masked =
        matches!(action, Action::Start | Action::Restart | Action::Reload | Action::Enable);
    if refused_when_masked && now.masked() {
        return Err(ServiceError::Masked { unit: unit.clone(), action: action.name() });
    }
    Ok(match action {
        Action::Start => !now.up(),
        Action::Stop => now.up(),
        Action::Restart => true,
        Action::Reload if now.up() => true,
        Action::Reload => {
            return Err(ServiceError::NotActive { unit: unit.clone(), state: now.active_state.clone() });
        }
        Action::Enable => match now.unit_file_state.as_str() {
            "enabled" | "static" | "generated" | "transient" => false,
            "" => return Err(ServiceError::NoUnitFile { unit: unit.clone() }),
            _ => true,
        },
        Action::Disable => match now.unit_file_state.as_str() {
            "enabled" => true,
            "enabled-runtime" => {
                return Err(ServiceError::RuntimeEnabled { unit: unit.clone() });
            }
            _ => false,
        },
        Action::Status => false,
    })
}

/// The systemctl command (argv words) that performs `action` on `unit`, e.g.
/// `["systemctl", "start", "--", "nginx.service"]`; `None` for [`Action::Status`], which only reads.
pub(crate) fn command(action: Action, unit: &str) -> Option<Vec<String>> {
    if action == Action::Status {
        return None;
    }
    // `--` keeps any unit from being read as an option, whatever validated it.
    Some(["systemctl", action.name(), "--", unit].map(String::from).to_vec())
}

/// Starts, stops, restarts, reloads, enables or disables a systemd service on every host, or reads its state
/// (`status`), e.g. `service(hs, "nginx", "restart")`. The unit's state is typed data: `active_state`,
/// `sub_state`, `unit_file_state`, `main_pid`, `memory_bytes`, `restarts`, ….
///
/// Only what would change the unit is done: `start` of an active unit, `stop` of a stopped one, `enable` of
/// an enabled one leave it alone and say `unchanged`; `restart` and `reload` always act. A unit the host does
/// not have, or a masked one, fails with what to do. In a dry run (`--check`) each host says what it would
/// do.
#[remote::operation(data = "service")]
pub fn service(on: impl Into<On>, name: &str, action: &str) -> Run {
    let label = format!("service {name} {action}");
    let (unit, action) = match (unit_name(name), Action::parse(action)) {
        (Ok(unit), Ok(action)) => (unit, action),
        (Err(cause), _) | (_, Err(cause)) => {
            return on.into().refuse(&label, HostError::BadArgument { cause: cause.to_string() });
        }
    };
    let show = show_command(&unit);
    let before = on
        .into()
        .read(&label, &format!("{NEEDS_SYSTEMD}{show}"))
        .with_data(|output| parse_output(&output.stdout));
    let Some(act) = command(action, &unit) else { return before };
    let act = quote::command_line(&act).unwrap_or_default();
    let checking = before.hosts().driver().checking();
    let after = if checking {
        before
    } else {
        // Only hosts whose unit the action would change act; each then says so and shows its new state.
        before.exec_each(&label, |result| match result.any_data() {
            // The state again just before acting, so that what the action moved is measured on this run
            // alone.
            Some(Data::Service(now)) if needed(action, now) == Ok(true) => {
                Some(format!("{show} && {act} >&2 && {{ echo {ACTED}; {show}; }}"))
            }
            _ => None,
        })
    };
    after.map_results(|result| {
        // A host that failed (or whose command exited non-zero) keeps its own report.
        if !result.ok() {
            return result;
        }
        let HostResult { host, outcome, elapsed } = result;
        let outcome = outcome.and_then(|mut output| {
            let (changed, said, data) = verdict(action, &output.stdout)?;
            output.stdout = format!("{said}\n").into_bytes();
            output.changed = Some(changed);
            output.data = Some(data);
            Ok(output)
        });
        HostResult { host, outcome, elapsed }
    })
}

/// What a host's output says of an action on its unit: whether the unit changed (or, in a dry run, would),
/// the words for it, and the unit's state. A host that acted printed [`ACTED`] before its new state; one that
/// did not printed its state only, which says why it did not.
fn verdict(action: Action, stdout: &[u8]) -> Result<(bool, String, Data), HostError> {
    let text = String::from_utf8_lossy(stdout);
    let lines: Vec<&str> = text.lines().collect();
    if let Some(at) = lines.iter().position(|line| *line == ACTED) {
        let before = parse_output(lines[..at].join("\n").as_bytes())?;
        let data = parse_output(lines[at + 1..].join("\n").as_bytes())?;
        let (Data::Service(was), Data::Service(now)) = (&before, &data) else {
            unreachable!("parse_output makes service data")
        };
        // Restarting and reloading act whatever the state says; the others changed what they moved.
        let moved = match action {
            Action::Start | Action::Stop => was.active_state != now.active_state,
            Action::Enable | Action::Disable => was.unit_file_state != now.unit_file_state,
            Action::Restart | Action::Reload | Action::Status => true,
        };
        let said = if moved {
            format!("{} {}", past(action), now.unit)
        } else {
            let state = if matches!(action, Action::Start | Action::Stop) {
                &now.active_state
            } else {
                &now.unit_file_state
            };
            format!("unchanged: {} is still {state} after systemctl {}", now.unit, action.name())
        };
        return Ok((moved, said, data));
    }
    let data = parse_output(stdout)?;
    let Data::Service(now) = &data else { unreachable!("parse_output makes service data") };
    let (changed, said) = {
        let cause = |cause: ServiceError| HostError::Unavailable {
            operation: "service".into(),
            cause: cause.to_string(),
        };
        match needed(action, now).map_err(cause)? {
            true => (true, format!("would {} {}", action.name(), now.unit)),
            false => (false, format!("unchanged: {} {}", now.unit, already(action, now))),
        }
    };
    Ok((changed, said, data))
}

/// The line a host prints after it acted, among the `KEY=VALUE` lines, which the parser skips as an unknown
/// key.
const ACTED: &str = "RemoteActed=yes";

/// Fails at once, and says why, on a host without systemd: systemd's own test (`sd_booted`) is whether
/// `/run/systemd/system` exists; a container may have `systemctl` installed and still no systemd running.
const NEEDS_SYSTEMD: &str = "[ -d /run/systemd/system ] || { echo 'this host does not run systemd (no /run/systemd/system), \
which `service` drives' >&2; exit 3; }\n";

/// The command that prints the unit's state as [`parse_show`] reads it.
fn show_command(unit: &str) -> String {
    format!("LC_ALL=C systemctl show --property={PROPERTIES} -- {}", quote::quote(unit))
}

fn parse_output(stdout: &[u8]) -> Result<Data, HostError> {
    parse_show(&String::from_utf8_lossy(stdout))
        .map(Data::Service)
        .map_err(|cause| HostError::Unavailable { operation: "service".into(), cause: cause.to_string() })
}

fn past(action: Action) -> &'static str {
    match action {
        Action::Start => "started",
        Action::Stop => "stopped",
        Action::Restart => "restarted",
        Action::Reload => "reloaded",
        Action::Enable => "enabled",
        Action::Disable => "disabled",
        Action::Status => "read",
    }
}

/// Why `action` would not change `now`, in words.
fn already(action: Action, now: &Service) -> String {
    match action {
        Action::Start => format!("is {} already", now.active_state),
        Action::Stop => format!("is {} already", now.active_state),
        Action::Enable | Action::Disable => match now.unit_file_state.as_str() {
            "" => "has no unit file".to_string(),
            state => format!("is {state} already"),
        },
        Action::Restart | Action::Reload | Action::Status => "needs nothing".to_string(),
    }
}

#[cfg(test)]
mod tests;
