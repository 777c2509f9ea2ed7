//! Hostile or mistaken input: flags that are not options, programs that look like assignments, terminal
//! control from hosts, bad inventory entries, IPv6 hosts, and `sandbox down` with a stale pid file.

use std::process::Command;

use tests::{TestHosts, remote};

#[test]
fn flags_that_are_not_options_are_refused_before_anything_runs() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let victim = hosts.dir().join("victim");
    std::fs::create_dir(&victim).unwrap();
    let target = hosts.dir().join("target");
    let line = format!("rm(test, {:?}, \"-rf {}\")", target.display(), victim.display());
    let out = remote(&["--inventory", inventory.to_str().unwrap(), "eval", &line]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(victim.exists(), "`rm` ran with a path smuggled into its flags");
    let expected =
        format!("the flags of `rm` must be options starting with `-`, but `{}` is not", victim.display());
    assert!(out.stdout.contains(&expected), "{}", out.stdout);
    assert!(out.stdout.contains("nothing was run"), "{}", out.stdout);
}

#[test]
fn a_program_word_with_an_equals_sign_names_a_program() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let out =
        remote(&["--inventory", inventory.to_str().unwrap(), "--json", "exec", "test", "--", "FOO=1", "env"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let document: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let result = &document["results"][0];
    assert_eq!(result["exit"], 127, "{result}");
    assert!(result["stderr"].as_str().unwrap().contains("FOO=1"), "{result}");
    assert!(!result["stdout"].as_str().unwrap().contains("FOO=1"), "FOO=1 was taken as a variable: {result}");
}

#[test]
fn output_and_errors_cannot_drive_the_terminal() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let script =
        r"printf 'ok\033[2J\033]0;title\007 \342\200\256txt.exe\n'; printf 'bad\033[31m\r\n' >&2; exit 3";
    let out = remote(&["--inventory", inventory.to_str().unwrap(), "exec", "test", "--", "sh", "-c", script]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    for forbidden in ['\u{1b}', '\u{7}', '\r', '\u{202E}'] {
        assert!(!out.stdout.contains(forbidden), "{forbidden:?} reached the terminal: {:?}", out.stdout);
    }
    assert!(out.stdout.contains("bad·[31m"), "{:?}", out.stdout);
}

#[test]
fn an_ambiguous_host_entry_is_refused_with_its_place() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.dir().join("remote.toml");
    std::fs::write(&inventory, "[groups.web]\nhosts = [\"h:22:33\"]\n").unwrap();
    let out = remote(&["--inventory", inventory.to_str().unwrap(), "exec", "web", "--", "true"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("remote.toml:2:10: host \"h:22:33\": this is neither host:port nor an IPv6 address"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_ipv6_host_connects_as_the_readme_writes_it() {
    // The README's example entry has the shape `user@[address]:port`; here on the IPv6 loopback.
    let port = std::net::TcpListener::bind("[::1]:0").unwrap().local_addr().unwrap().port();
    let hosts = TestHosts::start_at(&[std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port))]);
    let entry = format!("{}@[::1]:{port}", remote_config::local::current_user());
    let inventory = hosts.write_inventory(&[("hosts", &format!("[{entry:?}]"))]);
    let out = remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "--json",
        "exec",
        "test",
        "--",
        "echo",
        "$SSH_CONNECTION",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

#[test]
fn sandbox_down_leaves_a_stranger_with_a_recycled_pid_alone() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join(".remote/sandbox/hosts/0");
    std::fs::create_dir_all(&host).unwrap();
    let mut stranger = Command::new("sleep").arg("30").spawn().unwrap();
    std::fs::write(host.join("sshd.pid"), format!("{}\n", stranger.id())).unwrap();
    let inventory = dir.path().join("remote.toml");
    let out = remote(&["--inventory", inventory.to_str().unwrap(), "sandbox", "down"]);
    let still_running = stranger.try_wait().unwrap().is_none();
    let _ = stranger.kill();
    let _ = stranger.wait();
    assert!(still_running, "`sandbox down` signalled a process that is not its sshd: {}", out.stdout);
    assert!(out.stdout.contains("stopped 0 sshd host(s)"), "{}", out.stdout);
}

/// Host names come from the inventory, which may hold escape sequences (a title change, a screen clear, a CSI
/// in its one-byte C1 form) or a right-to-left override: none reaches the terminal raw, in the run summary,
/// `remote hosts` or an error, and `--json` writes the C1 and bidirectional controls as `\uXXXX` escapes.
#[test]
fn host_names_cannot_drive_the_terminal() {
    let hosts = TestHosts::start(1);
    let server = hosts.sandbox.servers()[0].address;
    let config = hosts.dir().join("ssh_config");
    std::fs::write(&config, format!("Host *\n  HostName {}\n  Port {}\n", server.ip(), server.port()))
        .unwrap();
    let names = ["title\u{1b}]0;owned\u{7}", "clear\u{1b}[2J", "csi\u{9b}2J", "bidi\u{202e}evil"];
    let inventory = hosts.dir().join("hostile.toml");
    let toml_names: Vec<String> = names
        .iter()
        .map(|n| {
            format!(
                "\"{}\"",
                n.chars()
                    .map(|c| if c.is_ascii_graphic() {
                        c.to_string()
                    } else {
                        format!("\\u{:04X}", u32::from(c))
                    })
                    .collect::<String>()
            )
        })
        .collect();
    std::fs::write(
        &inventory,
        format!(
            "[groups.test]\nhosts = [{}]\nknown_hosts = {:?}\nkey = {:?}\nssh_config = {:?}\nsystem_ssh_config = \"none\"\n\
             host_key_checking = \"off\"\n",
            toml_names.join(", "),
            hosts.sandbox.known_hosts().display().to_string(),
            hosts.sandbox.client_key().display().to_string(),
            config.display().to_string()
        ),
    )
    .unwrap();
    let inventory = inventory.to_str().unwrap();
    let raw = |text: &str| text.chars().any(|c| matches!(c, '\u{1b}' | '\u{7}' | '\u{9b}' | '\u{202e}'));

    let out = remote(&["--inventory", inventory, "exec", "test", "--", "echo", "hi"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        !raw(&out.stdout) && !raw(&out.stderr),
        "raw control characters in the summary: {:?}",
        out.stdout
    );
    assert!(out.stdout.contains("title·]0;owned·") && out.stdout.contains("bidi·evil"), "{}", out.stdout);

    for args in [&["hosts"][..], &["hosts", "test"][..]] {
        let out = remote(&[&["--inventory", inventory][..], args].concat());
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(!raw(&out.stdout), "raw control characters in `remote {args:?}`: {:?}", out.stdout);
    }

    let out = remote(&["--inventory", inventory, "--json", "exec", "test", "--", "true"]);
    assert!(!raw(&out.stdout), "raw control characters in the JSON: {:?}", out.stdout);
    assert!(out.stdout.contains("csi\\u009b2J") && out.stdout.contains("bidi\\u202eevil"), "{}", out.stdout);
    let document: serde_json::Value = serde_json::from_str(&out.stdout).expect("still one JSON document");
    let shown: Vec<&str> =
        document["results"].as_array().unwrap().iter().map(|r| r["host"].as_str().unwrap()).collect();
    assert_eq!(shown, names, "the names themselves are unchanged");

    // In an error, too: a name the inventory refuses is quoted safely.
    let bad = hosts.dir().join("bad.toml");
    std::fs::write(&bad, "[groups.test]\nhosts = [\"a\\u001B[2J:99999\"]\n").unwrap();
    let out = remote(&["--inventory", bad.to_str().unwrap(), "hosts", "test"]);
    assert_eq!(out.code, 2);
    assert!(!raw(&out.stderr) && out.stderr.contains("a·[2J:99999"), "{:?}", out.stderr);
}
