//! The service texts and parsers on `systemctl show` outputs as systemd prints them: the service's own
//! properties first, then the unit's, in D-Bus order; empty values shown because `--property` asks for them.

use super::*;

/// Nginx up since boot, systemd 252 (Debian 12).
const NGINX_RUNNING: &str = "\
MainPID=1021
Result=success
NRestarts=0
MemoryCurrent=8458240
Id=nginx.service
Description=A high performance web server and a reverse proxy server
LoadState=loaded
ActiveState=active
SubState=running
UnitFileState=enabled
ActiveEnterTimestamp=Mon 2024-05-13 09:12:44 UTC
";

/// Installed, never enabled, never started: no process, no control group, no time.
const APACHE_DISABLED: &str = "\
MainPID=0
Result=success
NRestarts=0
MemoryCurrent=[not set]
Id=apache2.service
Description=The Apache HTTP Server
LoadState=loaded
ActiveState=inactive
SubState=dead
UnitFileState=disabled
ActiveEnterTimestamp=
";

/// Crashed five times, then systemd gave up (`StartLimitBurst`).
const WORKER_FAILED: &str = "\
MainPID=0
Result=exit-code
NRestarts=5
MemoryCurrent=[not set]
Id=worker.service
Description=Queue worker (queue=high, threads=4)
LoadState=loaded
ActiveState=failed
SubState=failed
UnitFileState=enabled
ActiveEnterTimestamp=Tue 2024-05-14 02:00:03 UTC
";

/// Between two crashes: `Restart=always` waits `RestartSec` in `activating (auto-restart)`.
const WORKER_RESTARTING: &str = "\
MainPID=0
Result=exit-code
NRestarts=3
MemoryCurrent=[not set]
Id=worker.service
Description=Queue worker (queue=high, threads=4)
LoadState=loaded
ActiveState=activating
SubState=auto-restart
UnitFileState=enabled
ActiveEnterTimestamp=Tue 2024-05-14 01:59:58 UTC
";

/// A typo: systemctl still answers, with exit status 0, for a unit it made up from the name.
const TYPO_NOT_FOUND: &str = "\
MainPID=0
Result=success
NRestarts=0
MemoryCurrent=[not set]
Id=ngnix.service
Description=ngnix.service
LoadState=not-found
ActiveState=inactive
SubState=dead
UnitFileState=
ActiveEnterTimestamp=
";

/// `systemctl mask bluetooth`: the unit file is a link to /dev/null, so even the description is gone.
const BLUETOOTH_MASKED: &str = "\
MainPID=0
Result=success
NRestarts=0
MemoryCurrent=[not set]
Id=bluetooth.service
Description=bluetooth.service
LoadState=masked
ActiveState=inactive
SubState=dead
UnitFileState=masked
ActiveEnterTimestamp=
";

/// A `Type=oneshot` with `RemainAfterExit=yes`: active, yet nothing runs.
const UFW_EXITED: &str = "\
MainPID=0
Result=success
NRestarts=0
MemoryCurrent=[not set]
Id=ufw.service
Description=Uncomplicated firewall
LoadState=loaded
ActiveState=active
SubState=exited
UnitFileState=enabled
ActiveEnterTimestamp=Mon 2024-05-13 09:12:40 UTC
";

/// Systemd 219 (CentOS 7): no `NRestarts` yet, and no memory accounting printed as u64::MAX.
const SSHD_CENTOS7: &str = "\
MainPID=1187
Result=success
MemoryCurrent=18446744073709551615
Id=sshd.service
Description=OpenSSH server daemon
LoadState=loaded
ActiveState=active
SubState=running
UnitFileState=enabled
ActiveEnterTimestamp=Mon 2024-05-13 09:12:41 CEST
";

/// A timer has no main process, restarts or control group: those properties are simply not printed.
const APT_DAILY_TIMER: &str = "\
Result=success
Id=apt-daily.timer
Description=Daily apt download activities
LoadState=loaded
ActiveState=active
SubState=waiting
UnitFileState=enabled
ActiveEnterTimestamp=Mon 2024-05-13 09:12:39 UTC
";

/// A template instance, enabled through its link in `getty.target.wants`.
const GETTY_TTY1: &str = "\
MainPID=812
Result=success
NRestarts=0
MemoryCurrent=245760
Id=getty@tty1.service
Description=Getty on tty1
LoadState=loaded
ActiveState=active
SubState=running
UnitFileState=enabled
ActiveEnterTimestamp=Mon 2024-05-13 09:12:42 UTC
";

/// A service with the given states and nothing else; the cases add the rest with `..`.
fn service(unit: &str, load: &str, active: &str, sub: &str, file: &str, result: &str) -> Service {
    Service {
        unit: unit.into(),
        description: unit.into(),
        load_state: load.into(),
        active_state: active.into(),
        sub_state: sub.into(),
        unit_file_state: file.into(),
        result: result.into(),
        ..Service::default()
    }
}

fn shown(text: &str) -> Service {
    parse_show(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn show_outputs_become_services() {
    let check = |text: &str, expected: Service| assert_eq!(shown(text), expected, "{text}");
    check(
        NGINX_RUNNING,
        Service {
            description: "A high performance web server and a reverse proxy server".into(),
            main_pid: Some(1021),
            active_since: Some("Mon 2024-05-13 09:12:44 UTC".into()),
            memory_bytes: Some(8458240),
            restarts: Some(0),
            ..service("nginx.service", "loaded", "active", "running", "enabled", "success")
        },
    );
    check(
        APACHE_DISABLED,
        Service {
            description: "The Apache HTTP Server".into(),
            restarts: Some(0),
            ..service("apache2.service", "loaded", "inactive", "dead", "disabled", "success")
        },
    );
    // Only the first `=` separates: the description keeps its own.
    check(
        WORKER_FAILED,
        Service {
            description: "Queue worker (queue=high, threads=4)".into(),
            active_since: Some("Tue 2024-05-14 02:00:03 UTC".into()),
            restarts: Some(5),
            ..service("worker.service", "loaded", "failed", "failed", "enabled", "exit-code")
        },
    );
    check(
        WORKER_RESTARTING,
        Service {
            description: "Queue worker (queue=high, threads=4)".into(),
            active_since: Some("Tue 2024-05-14 01:59:58 UTC".into()),
            restarts: Some(3),
            ..service("worker.service", "loaded", "activating", "auto-restart", "enabled", "exit-code")
        },
    );
    check(
        TYPO_NOT_FOUND,
        Service {
            restarts: Some(0),
            ..service("ngnix.service", "not-found", "inactive", "dead", "", "success")
        },
    );
    check(
        BLUETOOTH_MASKED,
        Service {
            restarts: Some(0),
            ..service("bluetooth.service", "masked", "inactive", "dead", "masked", "success")
        },
    );
    check(
        UFW_EXITED,
        Service {
            description: "Uncomplicated firewall".into(),
            active_since: Some("Mon 2024-05-13 09:12:40 UTC".into()),
            restarts: Some(0),
            ..service("ufw.service", "loaded", "active", "exited", "enabled", "success")
        },
    );
    check(
        SSHD_CENTOS7,
        Service {
            description: "OpenSSH server daemon".into(),
            main_pid: Some(1187),
            active_since: Some("Mon 2024-05-13 09:12:41 CEST".into()),
            ..service("sshd.service", "loaded", "active", "running", "enabled", "success")
        },
    );
    check(
        APT_DAILY_TIMER,
        Service {
            description: "Daily apt download activities".into(),
            active_since: Some("Mon 2024-05-13 09:12:39 UTC".into()),
            ..service("apt-daily.timer", "loaded", "active", "waiting", "enabled", "success")
        },
    );
    check(
        GETTY_TTY1,
        Service {
            description: "Getty on tty1".into(),
            main_pid: Some(812),
            active_since: Some("Mon 2024-05-13 09:12:42 UTC".into()),
            memory_bytes: Some(245760),
            restarts: Some(0),
            ..service("getty@tty1.service", "loaded", "active", "running", "enabled", "success")
        },
    );
    // Order does not matter, unknown keys and blank lines are skipped, and a value may be empty or all `=`.
    check(
        "Id=a.service\n\nFreezerState=running\nDescription===\nMemoryCurrent=0\nActiveEnterTimestamp=n/a\nNRestarts=\n",
        Service {
            unit: "a.service".into(),
            description: "==".into(),
            memory_bytes: Some(0),
            ..Service::default()
        },
    );
}

#[test]
fn odd_show_outputs_are_refused() {
    let check =
        |text: &str, expected: &str| assert_eq!(parse_show(text).expect_err(text).to_string(), expected);
    let no_id = "`systemctl show` printed no `Id=`, so this is not its output (is systemd the host's init?)";
    check("", no_id);
    check("LoadState=loaded\nActiveState=active\n", no_id);
    check("Id=\n", no_id);
    check(
        "Id=nginx.service\nSystem has not been booted with systemd as init system (PID 1). Can't operate.\n",
        "`systemctl show` line 2 is not KEY=VALUE: `System has not been booted with systemd as init system (PID 1). Can't operate.` \
         (is systemd the host's init?)",
    );
    let long = format!("Id=x.service\n{}\n", "x".repeat(200));
    check(
        &long,
        &format!(
            "`systemctl show` line 2 is not KEY=VALUE: `{}…` (is systemd the host's init?)",
            "x".repeat(79)
        ),
    );
    check("Id=a.service\nMainPID=-1\n", "`systemctl show` line 2: MainPID `-1` is not a number");
    check(
        "MemoryCurrent=lots\nId=a.service\n",
        "`systemctl show` line 1: MemoryCurrent `lots` is not a number",
    );
    check(
        "Id=a.service\nNRestarts=4294967296\n",
        "`systemctl show` line 2: NRestarts `4294967296` is not a number",
    );
}

#[test]
fn the_property_list_names_what_the_parser_reads() {
    let properties: Vec<&str> = PROPERTIES.split(',').collect();
    assert_eq!(properties.len(), 11);
    for text in [NGINX_RUNNING, APACHE_DISABLED, WORKER_FAILED, TYPO_NOT_FOUND, GETTY_TTY1] {
        let keys: Vec<&str> = text.lines().filter_map(|l| l.split_once('=')).map(|(k, _)| k).collect();
        assert!(keys.iter().all(|k| properties.contains(k)), "{keys:?}");
        assert_eq!(keys.len(), properties.len(), "{keys:?}");
    }
}

#[test]
fn states_answer_active_enabled_and_exists() {
    let check = |text: &str, expected: (bool, bool, bool)| {
        let s = shown(text);
        assert_eq!((s.is_active(), s.is_enabled(), s.exists()), expected, "{text}");
    };
    check(NGINX_RUNNING, (true, true, true));
    check(APACHE_DISABLED, (false, false, true));
    check(WORKER_FAILED, (false, true, true));
    // Waiting to be restarted is not up: the crash loop stays visible.
    check(WORKER_RESTARTING, (false, true, true));
    check(TYPO_NOT_FOUND, (false, false, false));
    check(BLUETOOTH_MASKED, (false, false, true));
    check(UFW_EXITED, (true, true, true));
    check(APT_DAILY_TIMER, (true, true, true));
    let made = |active: &str, file: &str| service("x.service", "loaded", active, "", file, "success");
    let check = |s: Service, expected: (bool, bool, bool)| {
        assert_eq!((s.is_active(), s.is_enabled(), s.exists()), expected, "{s:?}");
    };
    check(made("reloading", "enabled-runtime"), (true, true, true));
    check(made("refreshing", "static"), (true, false, true));
    check(made("deactivating", "alias"), (false, false, true));
    check(made("active", "indirect"), (true, false, true));
    // Deleted while it ran: not found, yet still there to be stopped.
    check(service("x.service", "not-found", "active", "running", "", "success"), (true, false, true));
    check(service("x.service", "not-found", "failed", "failed", "", "exit-code"), (false, false, true));
}

/// What `needed` should answer: a change, none, or an error containing the text.
#[derive(Clone, Copy, Debug)]
enum Want {
    Y,
    N,
    E(&'static str),
}
use Want::{E, N, Y};

#[test]
fn needed_for_every_action_and_state() {
    // Columns: start, stop, restart, reload, enable, disable, status.
    let check = |now: &Service, wants: [Want; 7]| {
        for (action, want) in Action::ALL.into_iter().zip(wants) {
            let got = needed(action, now);
            let ok = match (want, &got) {
                (Y, Ok(true)) | (N, Ok(false)) => true,
                (E(text), Err(message)) => message.to_string().contains(text),
                _ => false,
            };
            assert!(
                ok,
                "{} on {} {} {}: got {got:?}, want {want:?}",
                action.name(),
                now.active_state,
                now.sub_state,
                now.unit_file_state
            );
        }
    };
    let masked = "is masked, so systemd refuses to";
    let missing = "there is no unit `ngnix.service` on this host; `systemctl list-unit-files`";
    check(&shown(NGINX_RUNNING), [N, Y, Y, Y, N, Y, N]);
    // Reloading what is not running is refused by systemd ("Job … invalid"): said before.
    let idle = E("is not active");
    check(&shown(APACHE_DISABLED), [Y, N, Y, idle, Y, N, N]);
    check(&shown(WORKER_FAILED), [Y, N, Y, idle, N, Y, N]);
    check(&shown(WORKER_RESTARTING), [N, Y, Y, Y, N, Y, N]);
    check(
        &shown(TYPO_NOT_FOUND),
        [E(missing), E(missing), E(missing), E(missing), E(missing), E(missing), N],
    );
    check(&shown(BLUETOOTH_MASKED), [E(masked), N, E(masked), E(masked), E(masked), N, N]);
    check(&shown(UFW_EXITED), [N, Y, Y, Y, N, Y, N]);
    check(&shown(APT_DAILY_TIMER), [N, Y, Y, Y, N, Y, N]);
    let made = |active: &str, file: &str| service("x.service", "loaded", active, "", file, "success");
    check(&made("reloading", "enabled"), [N, Y, Y, Y, N, Y, N]);
    check(&made("refreshing", "enabled"), [N, Y, Y, Y, N, Y, N]);
    // Already on its way down: stopping again changes nothing, starting brings it back.
    check(&made("deactivating", "disabled"), [Y, N, Y, idle, Y, N, N]);
    check(&made("maintenance", "disabled"), [Y, N, Y, idle, Y, N, N]);
    // Enabling makes a runtime enablement permanent; plain `disable` would not touch it.
    let runtime = "enabled until the next boot only (enabled-runtime), which `systemctl disable` leaves as it is; \
                   run `systemctl disable --runtime x.service`";
    check(&made("active", "enabled-runtime"), [N, Y, Y, Y, Y, E(runtime), N]);
    // `systemctl enable` only warns about these: it has nothing to link.
    check(&made("active", "static"), [N, Y, Y, Y, N, N, N]);
    check(&made("inactive", "generated"), [Y, N, Y, idle, N, N, N]);
    check(&made("active", "transient"), [N, Y, Y, Y, N, N, N]);
    // These `systemctl enable` does change: it follows `Also=`, or links the linked file into its targets.
    check(&made("inactive", "indirect"), [Y, N, Y, idle, Y, N, N]);
    check(&made("inactive", "linked"), [Y, N, Y, idle, Y, N, N]);
    check(
        &made("active", ""),
        [N, Y, Y, Y, E("`x.service` has no unit file, so there is nothing to enable"), N, N],
    );
    // Masked while it ran: it can still be stopped, nothing else.
    let masked_running = service("x.service", "loaded", "active", "running", "masked-runtime", "success");
    check(&masked_running, [E(masked), Y, E(masked), E(masked), E(masked), N, N]);
    // Its file deleted while it ran: stop still works, and systemd starts it no more.
    let deleted = service("x.service", "not-found", "active", "running", "", "success");
    check(&deleted, [N, Y, Y, Y, E("no unit file"), N, N]);
}

#[test]
fn masked_and_missing_messages() {
    let check = |action: Action, text: &str, expected: &str| {
        assert_eq!(needed(action, &shown(text)).expect_err(text).to_string(), expected)
    };
    check(
        Action::Start,
        BLUETOOTH_MASKED,
        "`bluetooth.service` is masked, so systemd refuses to start it; `systemctl unmask bluetooth.service` lifts the mask",
    );
    check(
        Action::Enable,
        BLUETOOTH_MASKED,
        "`bluetooth.service` is masked, so systemd refuses to enable it; `systemctl unmask bluetooth.service` lifts the mask",
    );
    check(
        Action::Stop,
        TYPO_NOT_FOUND,
        "there is no unit `ngnix.service` on this host; `systemctl list-unit-files` lists the ones it has",
    );
}

#[test]
fn unit_names() {
    let check = |name: &str, expected: Result<&str, &str>| {
        let got = unit_name(name).map_err(|e| e.to_string());
        assert_eq!(got.as_deref().map_err(String::as_str), expected, "{name:?}");
    };
    check("nginx", Ok("nginx.service"));
    check("nginx.service", Ok("nginx.service"));
    check("docker.socket", Ok("docker.socket"));
    check("apt-daily.timer", Ok("apt-daily.timer"));
    check("multi-user.target", Ok("multi-user.target"));
    check("home.mount", Ok("home.mount"));
    check("proc-sys-fs-binfmt_misc.automount", Ok("proc-sys-fs-binfmt_misc.automount"));
    check("systemd-ask-password-console.path", Ok("systemd-ask-password-console.path"));
    check("dev-sda1.device", Ok("dev-sda1.device"));
    check("user.slice", Ok("user.slice"));
    check("session-3.scope", Ok("session-3.scope"));
    check("swapfile.swap", Ok("swapfile.swap"));
    // A dot that starts no unit type is part of the name.
    check("php8.2-fpm", Ok("php8.2-fpm.service"));
    check("nginx.conf", Ok("nginx.conf.service"));
    check("getty@tty1", Ok("getty@tty1.service"));
    check("getty@tty1.service", Ok("getty@tty1.service"));
    check("openvpn-client@office:vpn", Ok("openvpn-client@office:vpn.service"));
    check("container@a@b", Ok("container@a@b.service"));
    check(
        "systemd-fsck@dev-disk-by\\x2duuid-1234.service",
        Ok("systemd-fsck@dev-disk-by\\x2duuid-1234.service"),
    );
    check("42", Ok("42.service"));
    check("_underscore", Ok("_underscore.service"));

    check("", Err("the unit name is empty; give one such as `nginx` or `nginx.service`"));
    check(
        "-nginx",
        Err("`-nginx` starts with `-`, which systemctl would read as an option; give the unit's name"),
    );
    check(
        "--now",
        Err("`--now` starts with `-`, which systemctl would read as an option; give the unit's name"),
    );
    let path =
        "is a path, not a unit name; give the unit's name (`systemd-escape --path` turns a path into one)";
    check("/etc/nginx", Err(&format!("`/etc/nginx` {path}")));
    check("../nginx", Err(&format!("`../nginx` {path}")));
    check(
        "nginx php-fpm",
        Err("`nginx php-fpm` contains whitespace; a unit name is one word, e.g. `nginx.service`"),
    );
    check("nginx\n", Err("`nginx\n` contains whitespace; a unit name is one word, e.g. `nginx.service`"));
    check("\tnginx", Err("`\tnginx` contains whitespace; a unit name is one word, e.g. `nginx.service`"));
    let disallowed = "which systemd does not allow in unit names; use letters, digits and `:_.\\@-`";
    check("nginx*", Err(&format!("`nginx*` contains `*`, {disallowed}")));
    check("ng[i]nx", Err(&format!("`ng[i]nx` contains `[`, {disallowed}")));
    check("nginx;reboot", Err(&format!("`nginx;reboot` contains `;`, {disallowed}")));
    check("$(reboot)", Err(&format!("`$(reboot)` contains `$`, {disallowed}")));
    check("nginx'", Err(&format!("`nginx'` contains `'`, {disallowed}")));
    check("ñginx", Err(&format!("`ñginx` contains `ñ`, {disallowed}")));
    check("a%i", Err(&format!("`a%i` contains `%`, {disallowed}")));
    check("nginx\0", Err(&format!("`nginx\0` contains `\0`, {disallowed}")));
    check("nginx.", Err("`nginx.` ends with `.`; give the unit type too, e.g. `nginx.service`"));
    check(".service", Err("`.service` is only a unit type; give the unit's name, e.g. `nginx.service`"));
    check(".timer", Err("`.timer` is only a unit type; give the unit's name, e.g. `nginx.timer`"));
    check("@tty1", Err("`@tty1` has nothing before `@`; give the template's name, e.g. `getty@tty1`"));
    check(
        "getty@",
        Err(
            "`getty@` is a template, which systemd cannot start or show; give an instance, e.g. `getty@tty1.service`",
        ),
    );
    check(
        "getty@.service",
        Err(
            "`getty@.service` is a template, which systemd cannot start or show; give an instance, e.g. `getty@tty1.service`",
        ),
    );
    // 255 bytes is the most systemd takes, the `.service` it adds counted.
    let longest = "a".repeat(247);
    check(&longest, Ok(&format!("{longest}.service")));
    let too_long = "a".repeat(248);
    check(
        &too_long,
        Err(&format!("`{too_long}.service` is 256 characters long; systemd unit names have at most 255")),
    );
}

#[test]
fn actions_by_name() {
    let check = |word: &str, expected: Result<Action, &str>| {
        assert_eq!(
            Action::parse(word).map_err(|e| e.to_string()),
            expected.map_err(String::from),
            "{word:?}"
        );
    };
    let all = "use one of: start, stop, restart, reload, enable, disable, status";
    check("start", Ok(Action::Start));
    check("stop", Ok(Action::Stop));
    check("restart", Ok(Action::Restart));
    check("reload", Ok(Action::Reload));
    check("enable", Ok(Action::Enable));
    check("disable", Ok(Action::Disable));
    check("status", Ok(Action::Status));
    check("Restart", Ok(Action::Restart));
    check(" stop ", Ok(Action::Stop));
    check("strat", Err(&format!("unknown service action `strat`; did you mean `start`? ({all})")));
    check("enabled", Err(&format!("unknown service action `enabled`; did you mean `enable`? ({all})")));
    check("mask", Err(&format!("unknown service action `mask` ({all})")));
    check("", Err(&format!("unknown service action `` ({all})")));
    for action in Action::ALL {
        assert_eq!(Action::parse(action.name()), Ok(action));
        assert_eq!(serde_json::to_value(action).unwrap(), serde_json::json!(action.name()));
    }
}

#[test]
fn commands() {
    let check = |action: Action, unit: &str, expected: Option<&[&str]>| {
        assert_eq!(
            command(action, unit),
            expected.map(|words| words.iter().map(|w| w.to_string()).collect())
        );
    };
    check(Action::Start, "nginx.service", Some(&["systemctl", "start", "--", "nginx.service"]));
    check(Action::Stop, "nginx.service", Some(&["systemctl", "stop", "--", "nginx.service"]));
    check(Action::Restart, "getty@tty1.service", Some(&["systemctl", "restart", "--", "getty@tty1.service"]));
    check(Action::Reload, "nginx.service", Some(&["systemctl", "reload", "--", "nginx.service"]));
    check(Action::Enable, "docker.socket", Some(&["systemctl", "enable", "--", "docker.socket"]));
    check(Action::Disable, "apt-daily.timer", Some(&["systemctl", "disable", "--", "apt-daily.timer"]));
    check(Action::Status, "nginx.service", None);
}

#[test]
fn services_serialize_with_their_field_names() {
    let json = serde_json::to_value(shown(SSHD_CENTOS7)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "unit": "sshd.service",
            "description": "OpenSSH server daemon",
            "load_state": "loaded",
            "active_state": "active",
            "sub_state": "running",
            "unit_file_state": "enabled",
            "main_pid": 1187,
            "active_since": "Mon 2024-05-13 09:12:41 CEST",
            "memory_bytes": null,
            "restarts": null,
            "result": "success",
        })
    );
}

#[test]
fn what_a_host_said_after_the_action_or_instead_of_it() {
    let check = |action: Action, stdout: String, expected: Result<(bool, &str), &str>| {
        let got = verdict(action, stdout.as_bytes())
            .map(|(changed, said, _)| (changed, said))
            .map_err(|e| e.to_string());
        assert_eq!(
            got,
            expected.map(|(changed, said)| (changed, said.to_string())).map_err(String::from),
            "{action:?} {stdout}"
        );
    };
    let acted = |state: &str| format!("{APACHE_DISABLED}{ACTED}\n{state}");
    // The host acted: it printed the marker, then its new state.
    check(Action::Start, acted(NGINX_RUNNING), Ok((true, "started nginx.service")));
    check(Action::Restart, acted(NGINX_RUNNING), Ok((true, "restarted nginx.service")));
    // Acted, and the state did not move: `enable` of an `indirect` unit, say.
    let same = format!("{APACHE_DISABLED}{ACTED}\n{APACHE_DISABLED}");
    check(
        Action::Disable,
        same,
        Ok((false, "unchanged: apache2.service is still disabled after systemctl disable")),
    );
    // It did not: its state says why (or, in a dry run, what it would do).
    check(Action::Start, NGINX_RUNNING.into(), Ok((false, "unchanged: nginx.service is active already")));
    check(Action::Enable, NGINX_RUNNING.into(), Ok((false, "unchanged: nginx.service is enabled already")));
    check(
        Action::Stop,
        APACHE_DISABLED.into(),
        Ok((false, "unchanged: apache2.service is inactive already")),
    );
    check(Action::Start, APACHE_DISABLED.into(), Ok((true, "would start apache2.service")));
    check(Action::Restart, NGINX_RUNNING.into(), Ok((true, "would restart nginx.service")));
    // What systemd would refuse fails the host with the reason.
    check(
        Action::Start,
        TYPO_NOT_FOUND.into(),
        Err(
            "`service`: there is no unit `ngnix.service` on this host; `systemctl list-unit-files` lists the ones it has",
        ),
    );
    check(
        Action::Start,
        "garbage".into(),
        Err("`service`: `systemctl show` line 1 is not KEY=VALUE: `garbage` (is systemd the host's init?)"),
    );
}
