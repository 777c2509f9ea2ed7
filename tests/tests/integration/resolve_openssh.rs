//! `remote hosts --json` against `ssh -G -l USER -p PORT HOST` on the same files: every way the inventory
//! gives a user or a port must reach ssh_config the way `ssh`'s command line does (before `Match user`, `%r`,
//! `%p`, `%C`), and the system-wide file must be read after the user's.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use tests::remote;

/// The user's file: what applies depends on the user and port `ssh` is given.
const USER_CONFIG: &str = "\
Match user deploy
  Port 2200
  ProxyJump gate
  StrictHostKeyChecking no
  IdentityFile /keys/id_match
Match user root
  StrictHostKeyChecking accept-new
Host *
  UserKnownHostsFile /kh/%r-%p-%C-%h
  IdentityFile /keys/id_%r_%p
";

/// The system's file, read after the user's: its `User` and `HostName` apply where the user's file says
/// nothing.
const SYSTEM_CONFIG: &str = "\
Host web
  HostName web.internal.example
  User sysuser
Host *
  ConnectTimeout 7
";

/// One inventory form: its group's TOML (`hosts` and settings), and the `ssh` command line it stands for.
struct Form {
    group: &'static str,
    toml: &'static str,
    defaults: &'static str,
    ssh: &'static [&'static str],
}

const FORMS: &[Form] = &[
    Form { group: "plain", toml: "hosts = [\"web\"]", defaults: "", ssh: &["web"] },
    Form { group: "at", toml: "hosts = [\"deploy@web\"]", defaults: "", ssh: &["-l", "deploy", "web"] },
    Form { group: "root", toml: "hosts = [\"root@db\"]", defaults: "", ssh: &["-l", "root", "db"] },
    Form {
        group: "grouped",
        toml: "hosts = [\"web\"]\nuser = \"deploy\"",
        defaults: "",
        ssh: &["-l", "deploy", "web"],
    },
    Form {
        group: "defaulted",
        toml: "hosts = [\"db\"]",
        defaults: "user = \"deploy\"",
        ssh: &["-l", "deploy", "db"],
    },
    Form { group: "ported", toml: "hosts = [\"web:2222\"]", defaults: "", ssh: &["-p", "2222", "web"] },
    Form {
        group: "groupport",
        toml: "hosts = [\"db\"]\nport = 2022",
        defaults: "",
        ssh: &["-p", "2022", "db"],
    },
    Form {
        group: "v6",
        toml: "hosts = [\"deploy@[2001:db8::10]:2222\"]",
        defaults: "",
        ssh: &["-l", "deploy", "-p", "2222", "2001:db8::10"],
    },
    Form {
        group: "v6plain",
        toml: "hosts = [\"[2001:db8::11]:2022\"]",
        defaults: "",
        ssh: &["-p", "2022", "2001:db8::11"],
    },
];

/// `ssh -G`'s `key value` lines for `args` with `config` as the only file.
fn ssh_g(config: &Path, args: &[&str]) -> Vec<(String, String)> {
    let output = Command::new("ssh")
        .arg("-G")
        .arg("-F")
        .arg(config)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ssh -G");
    assert!(output.status.success(), "ssh -G {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            line.split_once(' ').map_or((line.to_string(), String::new()), |(k, v)| (k.into(), v.into()))
        })
        .collect()
}

fn one<'a>(view: &'a [(String, String)], key: &str) -> &'a str {
    view.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

#[test]
fn remote_hosts_agrees_with_ssh_g_for_every_inventory_form() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let user_config = dir.path().join("user_config");
    let system_config = dir.path().join("system_config");
    std::fs::write(&user_config, USER_CONFIG).expect("write");
    std::fs::write(&system_config, SYSTEM_CONFIG).expect("write");
    // `ssh` reads the user's file and then the system's; with -F it reads one file, which includes both in
    // order.
    let both = dir.path().join("both");
    std::fs::write(
        &both,
        format!("Include {}\nInclude {}\n", user_config.display(), system_config.display()),
    )
    .expect("write");

    for form in FORMS {
        let inventory = dir.path().join(format!("{}.toml", form.group));
        let text = format!(
            "[defaults]\nssh_config = {:?}\nsystem_ssh_config = {:?}\n{}\n\n[groups.{}]\n{}\n",
            user_config.display().to_string(),
            system_config.display().to_string(),
            form.defaults,
            form.group,
            form.toml
        );
        std::fs::write(&inventory, &text).expect("write");
        let out = remote(&["--inventory", inventory.to_str().unwrap(), "hosts", form.group, "--json"]);
        assert_eq!(out.code, 0, "{text}\n{}{}", out.stdout, out.stderr);
        let shown: Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
        let ours = &shown["hosts"][0];
        let ssh = ssh_g(&both, form.ssh);
        let context = format!("inventory:\n{text}\nssh -G {:?}\nours: {ours:#}", form.ssh);

        assert_eq!(ours["user"], one(&ssh, "user"), "user: {context}");
        assert_eq!(ours["address"], one(&ssh, "hostname"), "hostname: {context}");
        assert_eq!(ours["port"].to_string(), one(&ssh, "port"), "port: {context}");
        let policy = match one(&ssh, "stricthostkeychecking") {
            "true" | "ask" => "strict",
            "false" => "off",
            other => other,
        };
        assert_eq!(ours["host_key_checking"], policy, "stricthostkeychecking: {context}");
        let known_hosts = one(&ssh, "userknownhostsfile").split(' ').next().unwrap_or_default();
        assert_eq!(ours["known_hosts"], known_hosts, "userknownhostsfile: {context}");
        // `ssh -G` prints IdentityFile before expanding it; %r and %p are its user and port.
        let identities: Vec<String> = ssh
            .iter()
            .filter(|(k, _)| k == "identityfile")
            .map(|(_, v)| v.replace("%r", one(&ssh, "user")).replace("%p", one(&ssh, "port")))
            .collect();
        assert_eq!(ours["auth"]["files"], serde_json::json!(identities), "identityfile: {context}");
        let jumps: Vec<&str> =
            ours["jumps"].as_array().unwrap().iter().map(|hop| hop["host"].as_str().unwrap()).collect();
        let ssh_jumps: Vec<&str> = one(&ssh, "proxyjump").split(',').filter(|hop| !hop.is_empty()).collect();
        assert_eq!(jumps, ssh_jumps, "proxyjump: {context}");
    }
}

/// `Match user root` with `StrictHostKeyChecking accept-new` in the user's file, and a host written
/// `root@db`: the inventory's user decides, as `ssh root@db` decides, and `ssh_config = "none"` reads neither
/// file.
#[test]
fn the_inventory_user_reaches_match_user_and_none_reads_no_file() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let user_config = dir.path().join("user_config");
    std::fs::write(&user_config, USER_CONFIG).expect("write");
    let inventory = dir.path().join("remote.toml");
    let text = format!(
        "[groups.on]\nhosts = [\"root@db\", \"db\"]\nssh_config = {:?}\nsystem_ssh_config = \"none\"\n\n\
         [groups.off]\nhosts = [\"deploy@db\"]\nssh_config = \"none\"\nsystem_ssh_config = {:?}\n",
        user_config.display().to_string(),
        user_config.display().to_string()
    );
    std::fs::write(&inventory, &text).expect("write");
    let out = remote(&["--inventory", inventory.to_str().unwrap(), "hosts", "on", "--json"]);
    let shown: Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", out.stdout, out.stderr));
    assert_eq!(shown["hosts"][0]["host_key_checking"], "accept-new", "{shown:#}");
    let local = remote_config::local::current_user();
    let expected = if local == "root" { "accept-new" } else { "strict" };
    assert_eq!(shown["hosts"][1]["host_key_checking"], expected, "{shown:#}");
    let out = remote(&["--inventory", inventory.to_str().unwrap(), "hosts", "off", "--json"]);
    let shown: Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", out.stdout, out.stderr));
    assert_eq!(
        (&shown["hosts"][0]["port"], &shown["hosts"][0]["jumps"]),
        (&Value::from(22), &serde_json::json!([]))
    );
}
