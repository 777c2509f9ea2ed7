//! A fleet repository of the user's own (`remote new`), written and then driven by a `remote` that is not its
//! host, as an installed one is not: the commands that run pipelines are handed to the fleet's own host,
//! built by cargo, against real sshd hosts; and the fleet's static CI binary, run in an empty chroot.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use remote_sandbox::workspace::LivePrompt;
use tests::{CliOutput, EmptyChroot, TestHosts, remote, remote_bin};

/// The workspace under test: the checkout the fleet takes remote's crates from.
fn checkout() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate is inside the workspace")
}

/// Runs the `remote` under test inside `fleet`. The fleet's binaries go to a target dir of their own (its
/// `remote` must not replace the one under test), while the compiled dependencies are shared with this
/// workspace's build dir, so that the fleet compiles its own crates and not the world.
fn remote_in(fleet: &Path, args: &[&str]) -> CliOutput {
    let output = fleet_env(Command::new(remote_bin()).args(args).current_dir(fleet))
        .env_remove("REMOTE_INVENTORY")
        .env_remove("REMOTE_KEY")
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1")
        .output()
        .expect("run remote");
    CliOutput::from(output)
}

/// The fleet's target dirs for `command`: see [`remote_in`].
fn fleet_env(command: &mut Command) -> &mut Command {
    let target = remote_bin().parent().and_then(Path::parent).expect("remote is in TARGET/PROFILE/");
    command.env("CARGO_TARGET_DIR", target.join("fleet-test")).env("CARGO_BUILD_BUILD_DIR", target)
}

#[test]
fn a_new_fleet_runs_its_own_pipelines_reloads_an_edit_and_builds_its_static_binary() {
    // Its builds would slow the hot-reload tests' reloads past their deadlines.
    let _turn = crate::hot_reload::TURN.lock().unwrap_or_else(|e| e.into_inner());
    let hosts = TestHosts::start(2);
    let fleet: PathBuf = hosts.dir().join("fleet");
    let out = remote(&["new", fleet.to_str().unwrap(), "--sandbox", "--path", checkout().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "rust-toolchain.toml",
        ".gitignore",
        "README.md",
        "remote.toml",
        "ops/Cargo.toml",
        "ops/src/lib.rs",
        "host/Cargo.toml",
        "host/src/main.rs",
    ] {
        assert!(fleet.join(file).is_file(), "{file} was not written");
        assert!(
            out.stdout.contains(&format!("{}/{file}\n", fleet.display())),
            "{file} not listed:\n{}",
            out.stdout
        );
    }

    // Nothing is written over.
    let again = remote(&["new", fleet.to_str().unwrap(), "--sandbox"]);
    assert_eq!(again.code, 2, "{}", again.stdout);
    assert!(again.stderr.contains("is not empty"), "{}", again.stderr);

    // The test hosts as group `test` of the fleet's inventory.
    let inventory = std::fs::read_to_string(hosts.write_inventory(&[])).unwrap();
    std::fs::write(fleet.join("remote.toml"), inventory).unwrap();

    let out = remote_in(&fleet, &["run", "listing", "test"]);
    assert_eq!(out.code, 0, "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("Run summary: ls -la / on test (2 hosts: 2 ok"), "{}", out.stdout);

    // `list` shows the fleet's pipelines, not this workspace's examples.
    let list = remote_in(&fleet, &["list"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    for name in ["low_disk", "mentioning", "checks"] {
        assert!(list.stdout.contains(name), "{name} missing from:\n{}", list.stdout);
    }
    assert!(!list.stdout.contains("aptgrade"), "this workspace's ops in the fleet's list:\n{}", list.stdout);

    // A pipeline added to ops/src and saved is what the next `remote run` runs.
    let lib = fleet.join("ops/src/lib.rs");
    let mut source = std::fs::read_to_string(&lib).unwrap();
    source.push_str(
        "\n/// Greets from the fleet.\n#[remote::pipeline]\npub fn hello(hs: &Hosts) -> Run {\n    \
         pipeline!(exec(hs, \"echo hello from the fleet\") | pretty)\n}\n",
    );
    std::fs::write(&lib, source).unwrap();
    let out = remote_in(&fleet, &["run", "hello", "test", "--json"]);
    assert_eq!(out.code, 0, "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    let document: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    let results = document["results"].as_array().expect("results");
    assert_eq!(results.len(), 2, "{}", out.stdout);
    for result in results {
        assert_eq!(result["stdout"], "hello from the fleet\n", "{}", out.stdout);
    }

    // SIGTERM while the hand-over builds ends the build too: cargo and its compilers are stopped and seen to
    // exit, and the exit code and the one JSON document say so.
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{source}\n// Saved again, so that the next command builds.\n")).unwrap();
    let mut child =
        fleet_env(Command::new(remote_bin()).args(["run", "hello", "test", "--json"]).current_dir(&fleet))
            .env_remove("REMOTE_INVENTORY")
            .env_remove("REMOTE_KEY")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start remote");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("building this repository's remote")) {
        seen.push(
            lines.recv_timeout(Duration::from_secs(120)).unwrap_or_else(|_| panic!("no build: {seen:?}")),
        );
    }
    // SAFETY: kill takes plain integers; the pid is our child's, not yet waited for.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let output = child.wait_with_output().expect("wait for remote");
    seen.extend(lines.try_iter());
    assert_eq!(output.status.code(), Some(143), "{seen:#?}");
    assert!(seen.iter().any(|l| l.contains("SIGTERM: stopped cargo's build")), "{seen:#?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let document: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!((document["ok"].as_bool(), document["exit"].as_u64()), (Some(false), Some(143)), "{stdout}");
    let inside = format!("{}/", fleet.display());
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| std::fs::read(entry.ok()?.path().join("cmdline")).ok())
        .map(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " "))
        .filter(|cmdline| {
            cmdline.contains(&inside) && (cmdline.contains("cargo") || cmdline.contains("rustc"))
        })
        .collect();
    assert!(left.is_empty(), "the build goes on after SIGTERM: {left:#?}");

    // `remote live` in the fleet: an edit saved in ops/src runs on the next line, over the connections the
    // prompt already holds.
    let mut live = LivePrompt::start(fleet_env(
        Command::new(remote_bin()).args(["live", "--no-hub"]).current_dir(&fleet),
    ));
    live.call("hello test", "hello from the fleet");
    let logins = || {
        hosts.sandbox.servers().iter().map(|s| s.log().matches("Accepted publickey").count()).sum::<usize>()
    };
    let before = logins();
    let from = live.len();
    let source = std::fs::read_to_string(&lib).unwrap().replace("hello from the fleet", "hello, edited live");
    std::fs::write(&lib, source).unwrap();
    live.wait_for_from(from, "ops reloaded in ", Duration::from_secs(300));
    live.call("hello test", "hello, edited live");
    assert_eq!(logins(), before, "the prompt logged in again:\n{}", live.transcript());
    let (code, transcript) = live.quit();
    assert_eq!(code, 0, "{transcript}");

    // The fleet's static CI binary carries the fleet's pipelines, the edit included, and runs with nothing
    // around it.
    let static_binary = hosts.dir().join("fleet-remote");
    let out = remote_in(&fleet, &["build-static", "--out", static_binary.to_str().unwrap()]);
    assert_eq!(out.code, 0, "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    assert_eq!(out.stdout.lines().last(), static_binary.to_str(), "{}", out.stdout);
    let chroot = EmptyChroot::new(&static_binary, &hosts);
    let (code, stdout, stderr) = chroot.run(&["list"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("hello(hs)") && !stdout.contains("aptgrade"), "{stdout}");
    let (code, stdout, stderr) = chroot.run(&["--inventory", "/remote.toml", "--json", "run", "hello", "ci"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let document: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(document["results"][0]["stdout"], "hello, edited live\n", "{stdout}");

    // ops that does not compile: the compiler's words on stderr, exit 2, and under --json still one document.
    std::fs::write(&lib, format!("{}\nnot rust\n", std::fs::read_to_string(&lib).unwrap())).unwrap();
    let out = remote_in(&fleet, &["run", "listing", "test", "--json"]);
    assert_eq!(out.code, 2, "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("cargo could not build this repository's remote"), "{}", out.stderr);
    let document: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(document["ok"], false, "{}", out.stdout);
}

#[test]
fn a_fleet_from_a_git_url_takes_remotes_crates_from_that_repository() {
    let dir = tempfile::tempdir().unwrap();
    // A bare clone of this checkout's HEAD: what `--git URL` gives cargo to fetch.
    let bare = dir.path().join("remote.git");
    let status = Command::new("git")
        .args(["clone", "--quiet", "--bare", checkout().to_str().unwrap(), bare.to_str().unwrap()])
        .status()
        .expect("run git");
    assert!(status.success());
    let url = format!("file://{}", bare.display());
    let fleet = dir.path().join("fleet");
    let out = remote(&["new", fleet.to_str().unwrap(), "--hosts", "127.0.0.1", "--git", &url]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(&format!("from the git repository {url}")), "{}", out.stdout);
    let manifest = std::fs::read_to_string(fleet.join("Cargo.toml")).unwrap();
    assert!(manifest.contains(&format!("remote-core = {{ git = \"{url}\" }}")), "{manifest}");

    // cargo finds every crate the fleet depends on in that repository (resolving, not compiling).
    let output = fleet_env(
        Command::new(env!("CARGO")).args(["metadata", "--format-version", "1"]).current_dir(&fleet),
    )
    .output()
    .expect("run cargo metadata");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    let sources: Vec<(String, String)> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"].as_str().is_some_and(|n| n.starts_with("remote-")))
        .map(|p| (p["name"].as_str().unwrap().to_string(), p["source"].as_str().unwrap_or("").to_string()))
        .collect();
    for name in ["remote-core", "remote-std", "remote-host", "remote-macros", "remote-ssh"] {
        let source = sources.iter().find(|(n, _)| n == name).map(|(_, s)| s.as_str());
        assert!(
            source.is_some_and(|s| s.starts_with(&format!("git+{url}"))),
            "{name} is not taken from {url}: {sources:#?}"
        );
    }
}
