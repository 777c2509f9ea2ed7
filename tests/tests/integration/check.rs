//! Dry runs (`--check`, `check LINE` at the prompt) against real sshd: every operation that changes hosts
//! says per host what it would change, and the hosts' files are the same afterwards, byte for byte and time
//! for time.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tests::{TestHosts, remote};

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{stdout}"))
}

/// Every path under `dir` with its content (files) and modification time: what must not move in a dry run.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Option<Vec<u8>>, std::time::SystemTime)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let content = meta.is_file().then(|| std::fs::read(&path).unwrap());
            if meta.is_dir() {
                pending.push(path.clone());
            }
            found.push((path, content, meta.modified().unwrap()));
        }
    }
    found.sort();
    found
}

/// One host's `(changed, stdout)` of a dry run of `expression`, after checking the document says it was one.
fn dry(inventory: &str, expression: &str) -> (Value, String) {
    let out = remote(&["--inventory", inventory, "--check", "--json", "eval", expression]);
    assert_eq!(out.code, 0, "{expression}\n{}{}", out.stdout, out.stderr);
    let document = json(&out.stdout);
    assert_eq!(document["check"], Value::from(true), "{document}");
    assert!(out.stderr.contains("dry run (--check): nothing was changed"), "{}", out.stderr);
    let result = &document["results"][0];
    (result["changed"].clone(), result["stdout"].as_str().unwrap_or_default().to_string())
}

#[test]
fn a_dry_run_says_what_would_change_and_changes_nothing() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let dir = hosts.dir();
    let (site, www) = (dir.join("site"), dir.join("host/www"));
    std::fs::create_dir_all(site.join("css")).unwrap();
    std::fs::write(site.join("index.html"), "new\n").unwrap();
    std::fs::write(site.join("css/a.css"), "body {}\n").unwrap();
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "older\n").unwrap();
    std::fs::write(www.join("stale.txt"), "stale\n").unwrap();
    std::fs::write(dir.join("host/keep.txt"), "keep\n").unwrap();
    let host = dir.join("host");
    let before = snapshot(&host);

    let (changed, said) =
        dry(inventory, &format!("sync(test, \"{}\", \"{}\", \"--delete\")", site.display(), www.display()));
    assert_eq!(changed, Value::from(true), "{said}");
    assert!(said.contains("would make 1 folder(s): css"), "{said}");
    assert!(said.contains("would send 2 file(s), 12 bytes: css/a.css, index.html"), "{said}");
    assert!(said.contains("would remove 1: stale.txt"), "{said}");

    let (changed, said) = dry(
        inventory,
        &format!(
            "upload(test, \"{}\", \"{}\")",
            site.join("index.html").display(),
            host.join("new.html").display()
        ),
    );
    assert_eq!(changed, Value::from(true), "{said}");
    assert!(said.starts_with("would send 4 bytes to") && said.ends_with("a new file\n"), "{said}");

    let (changed, said) =
        dry(inventory, &format!("mkdir(test, \"{}\", \"-p\")", host.join("made/deep").display()));
    assert_eq!(
        (changed, said.trim()),
        (Value::from(true), format!("would make the folder {}", host.join("made/deep").display()).as_str())
    );
    let (changed, said) = dry(inventory, &format!("mkdir(test, \"{}\", \"-p\")", www.display()));
    assert_eq!((changed, said.as_str()), (Value::from(false), ""), "an existing folder would not change");
    // What the real command would fail at, the dry run fails at, with the reason.
    let out = remote(&[
        "--inventory",
        inventory,
        "--check",
        "--json",
        "eval",
        &format!("mkdir(test, \"{}\")", www.display()),
    ]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains(&format!("mkdir would fail: {} exists", www.display())), "{}", out.stdout);
    let out = remote(&[
        "--inventory",
        inventory,
        "--check",
        "--json",
        "eval",
        &format!("rm(test, \"{}\")", www.display()),
    ]);
    assert!(out.stdout.contains("is a folder (give -r)"), "{}", out.stdout);
    let (changed, said) = dry(inventory, &format!("rm(test, \"{}\", \"-rf\")", www.display()));
    assert_eq!(
        (changed, said.trim()),
        (Value::from(true), format!("would remove the folder {} and all in it", www.display()).as_str())
    );

    let (changed, said) = dry(inventory, &format!("rm(test, \"{}\")", host.join("keep.txt").display()));
    assert_eq!(
        (changed, said.trim()),
        (Value::from(true), format!("would remove {}", host.join("keep.txt").display()).as_str())
    );
    let (changed, _) = dry(inventory, &format!("rm(test, \"{}\", \"-f\")", host.join("absent").display()));
    assert_eq!(changed, Value::from(false));

    // A user's script cannot say beforehand what it would do: not run, and said so; `changed` is unknown.
    let touched = host.join("touched");
    let (changed, said) = dry(inventory, &format!("exec(test, \"touch {}\")", touched.display()));
    assert_eq!(changed, Value::Null, "{said}");
    assert!(said.starts_with("dry run: would run touch "), "{said}");
    let (_, said) = dry(
        inventory,
        &format!(
            "upload(test, \"{0}\", \"{1}\") | extract(\"{1}\", \"{2}\")",
            site.join("index.html").display(),
            host.join("a.tar").display(),
            host.join("x").display()
        ),
    );
    assert!(said.starts_with("dry run: would run extract "), "{said}");

    let local = dir.join("downloads");
    let (changed, said) = dry(
        inventory,
        &format!("download(test, \"{}\", \"{}\")", host.join("keep.txt").display(), local.display()),
    );
    assert_eq!(changed, Value::from(true), "{said}");
    assert!(said.starts_with("would receive 5 bytes into"), "{said}");
    assert!(!local.exists(), "a dry download writes nothing here");

    // `remote --check exec`: the command is not run either.
    let out = remote(&[
        "--inventory",
        inventory,
        "exec",
        "test",
        "--check",
        "--",
        "touch",
        touched.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("dry run: would run touch"), "{}", out.stdout);

    assert_eq!(snapshot(&host), before, "a dry run changed the host's files");

    // Only the commands that reach hosts take --check.
    let out = remote(&["--inventory", inventory, "--check", "list"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--check (a dry run) applies to exec, run and eval"), "{}", out.stderr);
}

#[test]
fn check_at_the_prompt_is_a_dry_run_of_that_line_only() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let folder = hosts.dir().join("made");
    let script = hosts.dir().join("script");
    let mkdir = format!("mkdir(test, \"{}\")", folder.display());
    std::fs::write(&script, format!("check {mkdir}\ncheck stream {mkdir}\n{mkdir}\ncheck\n")).unwrap();
    let out = remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "live",
        "--no-hub",
        "--script",
        script.to_str().unwrap(),
    ]);
    // The last line, a bare `check`, is refused with how to use it; the script stops there.
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("error: `check` runs a line as a dry run"), "{}", out.stderr);
    assert_eq!(out.stderr.matches("dry run: nothing was changed").count(), 2, "{}", out.stderr);
    let would = format!("would make the folder {}", folder.display());
    // Each dry run's summary says it; the streamed one also printed the host's line as it came.
    assert_eq!(out.stdout.matches(&would).count(), 3, "{}", out.stdout);
    assert!(out.stdout.contains(&format!("│ {would}")), "{}", out.stdout);
    assert!(folder.is_dir(), "the line after the dry runs ran for real");
}
