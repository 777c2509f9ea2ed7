//! Files that cannot plant or destroy, against real sshd with OpenSSH's own tools as the oracle: copies drop
//! setuid, setgid and sticky as `sftp -p` does, `sync --delete` keeps what exists here in any form as
//! `rsync --delete` does, and `--` in the flags of `rm` cannot smuggle in a target.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tests::{TestHosts, remote};

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{stdout}"))
}

/// Runs `expression` with `remote --json eval` (and `--check` when `check`), and returns the one host's
/// `(changed, stdout)` after checking it succeeded.
fn eval(inventory: &Path, expression: &str, check: bool) -> (Value, String) {
    let inventory = inventory.to_str().unwrap();
    let mut args = vec!["--inventory", inventory, "--json", "eval", expression];
    if check {
        args.insert(2, "--check");
    }
    let out = remote(&args);
    assert_eq!(out.code, 0, "{expression}\n{}{}", out.stdout, out.stderr);
    let result = json(&out.stdout)["results"][0].clone();
    (result["changed"].clone(), result["stdout"].as_str().unwrap_or_default().to_string())
}

fn mode(path: &Path) -> u32 {
    let meta = std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    meta.permissions().mode() & 0o7777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    assert_eq!(self::mode(path), mode, "{} did not take mode {mode:o}", path.display());
}

/// Options that make OpenSSH's clients reach test host 0 as `remote` does: the sandbox's key and known hosts
/// only, no configuration file, never a question.
fn openssh_options(hosts: &TestHosts) -> Vec<String> {
    let known_hosts = hosts.sandbox.known_hosts();
    let mut options = vec!["-F".to_string(), "/dev/null".to_string()];
    for (name, value) in [
        ("BatchMode", "yes"),
        ("StrictHostKeyChecking", "yes"),
        ("UserKnownHostsFile", known_hosts.to_str().unwrap()),
        ("GlobalKnownHostsFile", "/dev/null"),
        ("IdentitiesOnly", "yes"),
    ] {
        options.extend(["-o".to_string(), format!("{name}={value}")]);
    }
    options.extend(["-i".to_string(), hosts.sandbox.client_key().display().to_string()]);
    options
}

/// `user@address` of test host 0, and its port.
fn destination(hosts: &TestHosts) -> (String, String) {
    let address = hosts.sandbox.servers()[0].address;
    (format!("{}@{}", hosts.sandbox.login_user(), address.ip()), address.port().to_string())
}

/// Runs OpenSSH's `sftp -p` (times and modes kept) on test host 0 with `commands` as its batch.
fn sftp_p(hosts: &TestHosts, commands: &str) {
    let batch = hosts.dir().join("sftp-batch");
    std::fs::write(&batch, commands).unwrap();
    let (destination, port) = destination(hosts);
    let output = Command::new("sftp")
        .args(openssh_options(hosts))
        .args(["-P", &port, "-p", "-b"])
        .arg(&batch)
        .arg(destination)
        .stdin(Stdio::null())
        .output()
        .expect("run sftp");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "sftp -p failed on\n{commands}\n{stdout}{stderr}");
}

#[test]
fn downloads_drop_setuid_setgid_and_sticky_as_sftp_p_does() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let on_host = hosts.dir().join("on-host");
    let (fetched, oracle) = (hosts.dir().join("fetched"), hosts.dir().join("oracle"));
    std::fs::create_dir(&on_host).unwrap();
    std::fs::create_dir(&oracle).unwrap();
    let here = fetched.join(&hosts.sandbox.host_entries()[0]);
    // A host's setuid-root, world-writable program must not become one on this machine, which runs as root.
    for (name, planted) in [("setuid", 0o6777), ("sticky", 0o1777), ("setgid", 0o2750), ("plain", 0o640)] {
        let source = on_host.join(name);
        std::fs::write(&source, "#!/bin/sh\nid\n").unwrap();
        set_mode(&source, planted);
        let download = format!("download(test, \"{}\", \"{}\")", source.display(), fetched.display());
        let (changed, said) = eval(&inventory, &download, false);
        assert_eq!(changed, Value::from(true), "{said}");
        sftp_p(&hosts, &format!("get {} {}\n", source.display(), oracle.join(name).display()));
        assert_eq!(mode(&here.join(name)), mode(&oracle.join(name)), "{name} ({planted:o}): not as sftp -p");
        assert_eq!(mode(&here.join(name)), planted & 0o777, "{name} ({planted:o})");

        // The copy is as a copy makes it, so the next one leaves it alone, and does not fetch it forever.
        let (changed, said) = eval(&inventory, &download, false);
        assert_eq!(changed, Value::from(false), "{name} ({planted:o}) fetched again: {said}");

        // A copy with a setuid bit (as an earlier `remote` left it) is not the copy: it is fetched anew.
        set_mode(&here.join(name), planted);
        if planted & 0o7000 != 0 {
            let (changed, said) = eval(&inventory, &download, true);
            assert_eq!(changed, Value::from(true), "{name} ({planted:o}): {said}");
            let (changed, said) = eval(&inventory, &download, false);
            assert_eq!(changed, Value::from(true), "{name} ({planted:o}): {said}");
            assert_eq!(mode(&here.join(name)), planted & 0o777, "{name} ({planted:o})");
        }
    }
}

#[test]
fn uploads_and_syncs_drop_setuid_setgid_and_sticky_as_sftp_p_does() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let (landing, oracle) = (hosts.dir().join("landing"), hosts.dir().join("oracle"));
    std::fs::create_dir(&landing).unwrap();
    std::fs::create_dir(&oracle).unwrap();
    for (name, local_mode) in [("tool", 0o6755), ("note", 0o1644), ("plain", 0o750)] {
        let local = hosts.dir().join(name);
        std::fs::write(&local, "#!/bin/sh\nid\n").unwrap();
        set_mode(&local, local_mode);
        let upload = format!("upload(test, \"{}\", \"{}\")", local.display(), landing.join(name).display());
        let (changed, said) = eval(&inventory, &upload, false);
        assert_eq!(changed, Value::from(true), "{said}");
        sftp_p(&hosts, &format!("put {} {}\n", local.display(), oracle.join(name).display()));
        let (ours, theirs) = (mode(&landing.join(name)), mode(&oracle.join(name)));
        assert_eq!(ours, theirs, "{name} ({local_mode:o}): not as sftp -p");
        assert_eq!(mode(&landing.join(name)), local_mode & 0o777, "{name} ({local_mode:o})");
        let (changed, said) = eval(&inventory, &upload, false);
        assert_eq!(changed, Value::from(false), "{name} ({local_mode:o}) sent again: {said}");
    }

    // A folder keeps its sticky bit and loses setgid, as `sftp -p put -r` makes it; its files as above.
    let (site, www) = (hosts.dir().join("site"), hosts.dir().join("www"));
    std::fs::create_dir_all(site.join("bin")).unwrap();
    std::fs::write(site.join("bin/tool"), "#!/bin/sh\nid\n").unwrap();
    set_mode(&site.join("bin/tool"), 0o6755);
    set_mode(&site.join("bin"), 0o3775);
    let sync = format!("sync(test, \"{}\", \"{}\")", site.display(), www.display());
    let (changed, said) = eval(&inventory, &sync, false);
    assert_eq!(changed, Value::from(true), "{said}");
    sftp_p(&hosts, &format!("put -r {} {}\n", site.display(), oracle.join("site").display()));
    for rel in ["bin", "bin/tool"] {
        assert_eq!(mode(&www.join(rel)), mode(&oracle.join("site").join(rel)), "{rel}: not as sftp -p");
    }
    assert_eq!((mode(&www.join("bin")), mode(&www.join("bin/tool"))), (0o1775, 0o755));
    let (changed, said) = eval(&inventory, &sync, false);
    assert_eq!(changed, Value::from(false), "sent again: {said}");

    // A host's copy with a setuid bit (as an earlier `remote` left it) is not the copy: it is sent anew.
    set_mode(&www.join("bin/tool"), 0o6755);
    let (changed, said) = eval(&inventory, &sync, false);
    assert!(changed == true && said.starts_with("sent 1 file(s)"), "{said}");
    assert_eq!(mode(&www.join("bin/tool")), 0o755);
}

/// Every path under `dir` (`/`-separated, relative to it) with the content of the files: what a sync left.
fn tree(dir: &Path) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        for entry in std::fs::read_dir(dir.join(&rel)).unwrap().flatten() {
            let rel = rel.join(entry.file_name());
            let meta = std::fs::symlink_metadata(dir.join(&rel)).unwrap();
            let content = meta.is_file().then(|| std::fs::read_to_string(dir.join(&rel)).unwrap());
            if meta.is_dir() {
                pending.push(rel.clone());
            }
            found.push((rel.display().to_string(), content));
        }
    }
    found.sort();
    found
}

/// The host's folder before a sync: a folder where the local one has a symbolic link, a file and a folder
/// where it has a pipe and a socket, and what the local one does not have at all.
fn seed_host_folder(dir: &Path) {
    std::fs::create_dir_all(dir.join("uploads/deep")).unwrap();
    std::fs::write(dir.join("uploads/a.jpg"), "a").unwrap();
    std::fs::write(dir.join("uploads/deep/b.jpg"), "b").unwrap();
    std::fs::write(dir.join("queue"), "a file on the host").unwrap();
    std::fs::create_dir_all(dir.join("sock")).unwrap();
    std::fs::write(dir.join("sock/x"), "x").unwrap();
    std::fs::create_dir_all(dir.join("old")).unwrap();
    std::fs::write(dir.join("old/y"), "y").unwrap();
    std::fs::write(dir.join("extra.txt"), "extra").unwrap();
    std::fs::write(dir.join("index.html"), "old\n").unwrap();
}

#[test]
fn sync_delete_keeps_what_exists_here_in_any_form_as_rsync_does() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let site = hosts.dir().join("site");
    std::fs::create_dir(&site).unwrap();
    std::fs::write(site.join("index.html"), "hello\n").unwrap();
    std::os::unix::fs::symlink("/srv/shared/uploads", site.join("uploads")).unwrap();
    let made = Command::new("mkfifo").arg(site.join("queue")).status().expect("run mkfifo");
    assert!(made.success());
    let _socket = std::os::unix::net::UnixListener::bind(site.join("sock")).unwrap();
    let (www, www_rsync) = (hosts.dir().join("www"), hosts.dir().join("www-rsync"));
    seed_host_folder(&www);
    seed_host_folder(&www_rsync);

    // The oracle: rsync without -l and -D skips links and special files, and --delete keeps their names.
    let (destination, port) = destination(&hosts);
    let shell = format!("ssh {} -p {port}", openssh_options(&hosts).join(" "));
    let output = Command::new("rsync")
        .args(["-r", "--delete", "-e", &shell])
        .arg(format!("{}/", site.display()))
        .arg(format!("{destination}:{}/", www_rsync.display()))
        .stdin(Stdio::null())
        .output()
        .expect("run rsync");
    assert!(output.status.success(), "rsync failed: {}", String::from_utf8_lossy(&output.stderr));

    let sync = format!("sync(test, \"{}\", \"{}\", \"--delete\")", site.display(), www.display());
    let before = tree(&www);
    let (changed, said) = eval(&inventory, &sync, true);
    assert_eq!(changed, Value::from(true), "{said}");
    assert!(said.contains("would remove 3: old/y, old, extra.txt;"), "{said}");
    assert_eq!(tree(&www), before, "the dry run changed the host's folder");
    let (changed, said) = eval(&inventory, &sync, false);
    assert_eq!(changed, Value::from(true), "{said}");
    assert!(said.contains("; 3 removed; 3 symbolic link(s) or special file(s) here skipped"), "{said}");

    let left = tree(&www);
    assert_eq!(left, tree(&www_rsync), "not as rsync -r --delete left it");
    for kept in ["uploads/a.jpg", "uploads/deep/b.jpg", "queue", "sock/x"] {
        assert!(left.iter().any(|(rel, _)| rel == kept), "{kept} was removed: {left:?}");
    }
    assert!(left.contains(&("index.html".to_string(), Some("hello\n".to_string()))), "{left:?}");
}

#[test]
fn a_double_dash_in_flags_is_refused_and_removes_nothing() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let victim = hosts.dir().join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::write(victim.join("precious"), "keep me").unwrap();

    // `rm` runs in the login user's home, where a word starting with `-` after `--` is a path: through a
    // folder of that name it climbs to `/` and down to the victim, as `-/../../../tmp/victim` did.
    let out = remote(&["--inventory", inventory.to_str().unwrap(), "--json", "exec", "test", "--", "pwd"]);
    let home = PathBuf::from(json(&out.stdout)["results"][0]["stdout"].as_str().unwrap().trim());
    let name = format!("-{}", hosts.dir().file_name().unwrap().to_str().unwrap());
    let step = RemovedOnDrop(home.join(&name));
    std::fs::create_dir(&step.0).unwrap();
    let word = format!("{name}/{}{}", "../".repeat(16), victim.strip_prefix("/").unwrap().display());
    assert!(home.join(&word).join("precious").exists(), "the smuggled word does not reach the victim");

    let line = format!("rm(test, \"{}\", \"-rf -- {word}\")", hosts.dir().join("none").display());
    for check in [false, true] {
        let mut args = vec!["--inventory", inventory.to_str().unwrap(), "eval", &line];
        if check {
            args.insert(2, "--check");
        }
        let out = remote(&args);
        assert!(victim.join("precious").exists(), "`rm` removed what came after `--` in its flags");
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains("the flags of `rm` must not hold `--`"), "{}", out.stdout);
        assert!(out.stdout.contains("nothing was run"), "{}", out.stdout);
    }
}

/// A folder made in the login user's home for a test, removed whatever the test's outcome.
struct RemovedOnDrop(PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}
