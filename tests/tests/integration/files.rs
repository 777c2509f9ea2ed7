//! Files over SFTP (`upload`, `download`) against real sshd: content exact, memory bounded while 50 MiB go
//! through, mode and time kept, nothing half-written left, and a second copy of the same file `unchanged`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value;
use tests::{TestHosts, remote, remote_measured};

const BIG: usize = 50 << 20;

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{stdout}"))
}

/// `BIG` bytes no compression or pattern could fake, from a seeded generator (xorshift), so a failure
/// reproduces.
fn big_file(path: &Path) {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut bytes = Vec::with_capacity(BIG);
    while bytes.len() < BIG {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

/// The first byte at which two files differ, or `None` when they are the same.
fn difference(a: &Path, b: &Path) -> Option<usize> {
    let (a, b) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap_or_default());
    if a == b {
        None
    } else {
        Some(a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len())))
    }
}

/// Names in `dir` that are a copy in progress (`.NAME.remote-….tmp`).
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".remote-") && name.ends_with(".tmp"))
        .collect()
}

#[test]
fn upload_sends_a_big_file_exactly_in_bounded_memory_and_a_second_time_nothing() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let local = hosts.dir().join("big.bin");
    big_file(&local);
    std::fs::set_permissions(&local, std::fs::Permissions::from_mode(0o750)).unwrap();
    let landing = hosts.dir().join("landing");
    std::fs::create_dir(&landing).unwrap();
    let remote_path = landing.join("big.bin");
    let expression = format!("upload(test, \"{}\", \"{}\")", local.display(), remote_path.display());

    // The sshd hosts run on this machine, so the host's file is read here to check it.
    let (out, peak_rss_kib) =
        remote_measured("true", &["--inventory", inventory, "--json", "eval", &expression]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let result = &json(&out.stdout)["results"][0];
    assert_eq!(
        (result["ok"].clone(), result["changed"].clone()),
        (Value::from(true), Value::from(true)),
        "{result}"
    );
    assert_eq!(difference(&local, &remote_path), None, "the host's copy differs");
    assert!(
        peak_rss_kib < 40 << 10,
        "peak RSS {} MiB to send a 50 MiB file: it must be streamed",
        peak_rss_kib >> 10
    );
    let (sent, kept) = (std::fs::metadata(&remote_path).unwrap(), std::fs::metadata(&local).unwrap());
    assert_eq!(sent.permissions().mode() & 0o7777, 0o750, "the mode is the local file's");
    assert_eq!(sent.modified().unwrap().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(), {
        kept.modified().unwrap().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
    });
    assert_eq!(leftovers(&landing), Vec::<String>::new());

    // The same file again: nothing sent, and said so.
    let out = remote(&["--inventory", inventory, "--json", "eval", &expression]);
    let result = &json(&out.stdout)["results"][0];
    assert_eq!(result["changed"], Value::from(false), "{result}");
    assert!(result["stdout"].as_str().unwrap().starts_with("unchanged:"), "{result}");

    // A changed file replaces the old one, under the same name.
    std::fs::write(&local, b"small now\n").unwrap();
    let out = remote(&["--inventory", inventory, "eval", &expression]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("sent 10 bytes to"), "{}", out.stdout);
    assert_eq!(std::fs::read(&remote_path).unwrap(), b"small now\n");
    assert_eq!(leftovers(&landing), Vec::<String>::new());

    // What cannot be done fails the host, saying what and where.
    let missing =
        format!("upload(test, \"{}\", \"{}\")", hosts.dir().join("nope").display(), remote_path.display());
    let out = remote(&["--inventory", inventory, "eval", &missing]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("local file") && out.stdout.contains("nope: No such file or directory"),
        "{}",
        out.stdout
    );
    let onto_folder = format!("upload(test, \"{}\", \"{}\")", local.display(), landing.display());
    let out = remote(&["--inventory", inventory, "eval", &onto_folder]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("a folder; give the path of the file to write"), "{}", out.stdout);
    let nowhere = format!("upload(test, \"{}\", \"/nonexistent-dir/x\")", local.display());
    let out = remote(&["--inventory", inventory, "eval", &nowhere]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("on the host:"), "{}", out.stdout);
}

#[test]
fn download_fetches_every_hosts_file_into_a_folder_per_host() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let source = hosts.dir().join("source.bin");
    big_file(&source);
    std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o640)).unwrap();
    let into = hosts.dir().join("fetched");
    let expression = format!("download(test, \"{}\", \"{}\")", source.display(), into.display());

    let (out, peak_rss_kib) =
        remote_measured("true", &["--inventory", inventory, "--json", "eval", &expression]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    for (result, host) in
        json(&out.stdout)["results"].as_array().unwrap().iter().zip(hosts.sandbox.host_entries())
    {
        assert_eq!(result["changed"], Value::from(true), "{result}");
        let copy = into.join(&host).join("source.bin");
        assert_eq!(difference(&source, &copy), None, "{host}'s copy differs");
        assert_eq!(std::fs::metadata(&copy).unwrap().permissions().mode() & 0o7777, 0o640);
        assert_eq!(leftovers(&into.join(&host)), Vec::<String>::new());
    }
    // Two 50 MiB files came in at once; streamed, they never sat in memory.
    assert!(peak_rss_kib < 60 << 10, "peak RSS {} MiB to fetch two 50 MiB files", peak_rss_kib >> 10);

    let out = remote(&["--inventory", inventory, "--json", "eval", &expression]);
    for result in json(&out.stdout)["results"].as_array().unwrap() {
        assert_eq!(result["changed"], Value::from(false), "{result}");
    }
    let missing =
        format!("download(test, \"{}\", \"{}\")", hosts.dir().join("nope").display(), into.display());
    let out = remote(&["--inventory", inventory, "eval", &missing]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("nope on the host: "), "{}", out.stdout);
}

#[test]
fn sync_sends_what_changed_and_removes_extras_when_asked() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let (site, www) = (hosts.dir().join("site"), hosts.dir().join("www"));
    std::fs::create_dir_all(site.join("css")).unwrap();
    std::fs::create_dir_all(site.join("empty")).unwrap();
    std::fs::write(site.join("index.html"), "hello\n").unwrap();
    std::fs::write(site.join("css/a.css"), "body {}\n").unwrap();
    std::fs::set_permissions(site.join("css/a.css"), std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink("index.html", site.join("link.html")).unwrap();
    let sync = |options: &str| {
        let expression = format!("sync(test, \"{}\", \"{}\"{options})", site.display(), www.display());
        let out = remote(&["--inventory", inventory, "--json", "eval", &expression]);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        let result = json(&out.stdout)["results"][0].clone();
        (result["changed"].clone(), result["stdout"].as_str().unwrap_or_default().to_string())
    };
    let tree = || {
        let mut names: Vec<String> =
            walk(&www).iter().map(|p| p.strip_prefix(&www).unwrap().display().to_string()).collect();
        names.sort();
        names
    };

    let (changed, said) = sync("");
    assert_eq!(changed, Value::from(true), "{said}");
    assert!(
        said.starts_with("sent 2 file(s)")
            && said.contains("1 symbolic link(s) or special file(s) here skipped"),
        "{said}"
    );
    assert_eq!(tree(), ["css", "css/a.css", "empty", "index.html"]);
    assert_eq!(std::fs::read_to_string(www.join("css/a.css")).unwrap(), "body {}\n");
    assert_eq!(std::fs::metadata(www.join("css/a.css")).unwrap().permissions().mode() & 0o7777, 0o640);

    // Again: nothing to send.
    let (changed, said) = sync("");
    assert_eq!(changed, Value::from(false), "{said}");
    assert!(said.starts_with("sent 0 file(s), 0 bytes; 2 unchanged"), "{said}");

    // One file changed, extras on the host: without --delete they stay, with it they go.
    std::fs::write(site.join("index.html"), "hello again\n").unwrap();
    std::fs::create_dir_all(www.join("old/deep")).unwrap();
    std::fs::write(www.join("old/deep/x"), "x").unwrap();
    std::fs::write(www.join("extra.txt"), "extra").unwrap();
    let (_, said) = sync("");
    assert!(said.starts_with("sent 1 file(s), 12 bytes; 1 unchanged"), "{said}");
    assert!(tree().contains(&"extra.txt".to_string()));
    let (changed, said) = sync(", \"--delete\"");
    assert_eq!(changed, Value::from(true), "{said}");
    assert!(said.contains("4 removed"), "{said}");
    assert_eq!(tree(), ["css", "css/a.css", "empty", "index.html"]);
    assert_eq!(std::fs::read_to_string(www.join("index.html")).unwrap(), "hello again\n");
    assert_eq!(leftovers(&www), Vec::<String>::new());
}

#[test]
fn sync_with_checksum_sees_a_change_that_time_and_size_hide_and_only_restamps_equal_content() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let (site, www) = (hosts.dir().join("site"), hosts.dir().join("www"));
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("a.txt"), "aaaa\n").unwrap();
    std::fs::write(site.join("b.txt"), "bbbb\n").unwrap();
    let sync = |options: &str| {
        let expression = format!("sync(test, \"{}\", \"{}\", \"{options}\")", site.display(), www.display());
        let out = remote(&["--inventory", inventory, "--json", "eval", &expression]);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        let result = json(&out.stdout)["results"][0].clone();
        (result["changed"].clone(), result["stdout"].as_str().unwrap_or_default().to_string())
    };
    let mtime = |path: &Path| std::fs::metadata(path).unwrap().modified().unwrap();
    assert_eq!(sync("--checksum").0, Value::from(true));
    assert_eq!(std::fs::read_to_string(www.join("a.txt")).unwrap(), "aaaa\n");

    // Same size, same time, other content: only the hash tells.
    let before = mtime(&site.join("a.txt"));
    std::fs::write(site.join("a.txt"), "AAAA\n").unwrap();
    std::fs::File::options().write(true).open(site.join("a.txt")).unwrap().set_modified(before).unwrap();
    let (changed, said) = sync("");
    assert_eq!(changed, Value::from(false), "by size and time it looks the same: {said}");
    let (changed, said) = sync("--checksum");
    assert_eq!(changed, Value::from(true), "{said}");
    assert!(said.starts_with("sent 1 file(s), 5 bytes; 1 unchanged"), "{said}");
    assert_eq!(std::fs::read_to_string(www.join("a.txt")).unwrap(), "AAAA\n");

    // Same content, newer time: nothing sent, the time set.
    let later = before + std::time::Duration::from_secs(3600);
    std::fs::File::options().write(true).open(site.join("b.txt")).unwrap().set_modified(later).unwrap();
    let (changed, said) = sync("--checksum");
    assert_eq!(changed, Value::from(true), "{said}");
    assert!(
        said.starts_with("sent 0 file(s), 0 bytes; 1 unchanged")
            && said.contains("1 with the same content given their time"),
        "{said}"
    );
    let seconds = |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(seconds(mtime(&www.join("b.txt"))), seconds(later), "SFTP carries whole seconds");
    let (changed, said) = sync("--checksum --delete");
    assert_eq!(changed, Value::from(false), "{said}");
    assert!(said.starts_with("sent 0 file(s), 0 bytes; 2 unchanged"), "{said}");
    assert_eq!(leftovers(&www), Vec::<String>::new());
}

/// Every file and folder under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        found.push(path.clone());
        if path.is_dir() {
            found.extend(walk(&path));
        }
    }
    found
}
