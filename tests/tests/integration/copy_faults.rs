//! Copies that go wrong halfway, against real sshd: a connection lost mid-upload or mid-download, a host
//! frozen past `--timeout`, hosts that share one folder syncing into it at once, and `sync --delete` facing
//! temporary files and a file where a folder should be. Each failure is said in words a user can act on, and
//! what a copy leaves behind is either removed or named.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, UNIX_EPOCH};

use serde_json::Value;
use tests::{CliOutput, TestHosts, remote, spawn_remote};

/// The size of the file a copy is broken in the middle of: big enough that the copy is still going when the
/// test strikes, whatever the machine's speed.
const BIG: u64 = 200_000_000;

/// `BIG` as `remote` says it.
const BIG_SAID: &str = "190.7 MiB";

/// How much of a temporary file must be there before the test strikes: proof the copy is under way.
const UNDER_WAY: u64 = 8 << 20;

/// How long a test waits for what takes a few seconds when all is well, so that a regression fails, not
/// hangs.
const PATIENCE: Duration = Duration::from_secs(60);

/// Words of the SFTP and SSH libraries that a user cannot act on, which no message may show.
const LIBRARY_WORDS: [&str; 5] = ["sender dropped", "Failure", "channel closed", "RecvError", "SendError"];

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{stdout}"))
}

/// The result of host `host` in a `--json` run.
fn result_of<'a>(document: &'a Value, host: &str) -> &'a Value {
    let results = document["results"].as_array().unwrap_or_else(|| panic!("no results: {document}"));
    results.iter().find(|r| r["host"] == host).unwrap_or_else(|| panic!("no result for {host}: {document}"))
}

/// The error a failed host's result gives; the test fails when the host succeeded.
fn error_of(result: &Value) -> String {
    assert_eq!(result["ok"], Value::from(false), "the host succeeded: {result}");
    result["error"].as_str().unwrap_or_else(|| panic!("no error: {result}")).to_string()
}

/// Writes `size` random bytes at `path`: content no compression could shrink, so the copy takes its time.
fn random_file(path: &Path, size: u64) {
    let mut source = std::fs::File::open("/dev/urandom").expect("open /dev/urandom").take(size);
    let mut file = std::fs::File::create(path).expect("create the big file");
    assert_eq!(std::io::copy(&mut source, &mut file).expect("write the big file"), size);
}

/// Whether two files hold the same bytes, read a piece at a time since they are big.
fn same_content(a: &Path, b: &Path) -> bool {
    let (Ok(a), Ok(b)) = (std::fs::File::open(a), std::fs::File::open(b)) else { return false };
    let (mut a, mut b) = (std::io::BufReader::new(a), std::io::BufReader::new(b));
    let (mut x, mut y) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let read = a.read(&mut x).unwrap();
        if read == 0 {
            return b.read(&mut y).unwrap() == 0;
        }
        if b.read_exact(&mut y[..read]).is_err() || x[..read] != y[..read] {
            return false;
        }
    }
}

/// Whether `name` is a copy's temporary file, `.NAME.remote-<16 hex>.tmp`.
fn is_temporary(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.').and_then(|rest| rest.strip_suffix(".tmp")) else { return false };
    rest.rsplit_once(".remote-").is_some_and(|(target, hex)| {
        !target.is_empty() && hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// The copies' temporary files directly in `dir`, with their sizes, sorted by name; none when `dir` is
/// missing.
fn temporaries(dir: &Path) -> Vec<(String, u64)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<(String, u64)> = entries
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.metadata().map(|m| m.len()).unwrap_or(0)))
        .filter(|(name, _)| is_temporary(name))
        .collect();
    found.sort();
    found
}

/// True once `count` copies into `dir` are under way: that many temporary files, each with `UNDER_WAY` bytes
/// in it.
fn copies_under_way(dir: &Path, count: usize) -> bool {
    let found = temporaries(dir);
    found.len() == count && found.iter().all(|(_, size)| *size >= UNDER_WAY)
}

/// Every path under `dir` (`/`-separated, relative to it) with the content of the files, sorted.
fn tree(dir: &Path) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        for entry in
            std::fs::read_dir(dir.join(&rel)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(&rel).display()))
        {
            let rel = rel.join(entry.unwrap().file_name());
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

/// Checks `done` every 10 ms until it holds or `limit` has passed; whether it held.
fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every process under host `index`'s listening sshd: its per-connection sshd processes and theirs, which
/// carry the host's side of every open connection.
fn session_processes(hosts: &TestHosts, index: usize) -> Vec<u32> {
    let listener = hosts.sandbox.servers()[index].pid().expect("the host's listening sshd is running");
    let parent_of = |pid: u32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name, in parentheses, may hold spaces; after it come the state, then the parent.
        stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse::<u32>().ok()
    };
    let processes: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .expect("read /proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, parent_of(pid)?)))
        .collect();
    let mut found = vec![listener];
    let mut index = 0;
    while index < found.len() {
        let parent = found[index];
        found.extend(processes.iter().filter(|(_, ppid)| *ppid == parent).map(|(pid, _)| *pid));
        index += 1;
    }
    found.remove(0);
    found
}

fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid as libc::pid_t, signal) };
}

/// Drops every open connection of host `index` as a crash or a cut cable would, the server still listening.
fn cut_connections(hosts: &TestHosts, index: usize) {
    let processes = session_processes(hosts, index);
    assert!(!processes.is_empty(), "host {index} has no connection to cut");
    for pid in processes {
        signal(pid, libc::SIGKILL);
    }
}

/// Host `index`'s side of its open connections, stopped (SIGSTOP) as a hung host would be, until dropped:
/// then they go on, so that the harness can stop the server.
struct Frozen(Vec<u32>);

impl Frozen {
    fn host(hosts: &TestHosts, index: usize) -> Self {
        let mut stopped: Vec<u32> = Vec::new();
        // A process may fork while the others are being stopped: look again until nothing new turns up.
        for _ in 0..20 {
            let new: Vec<u32> =
                session_processes(hosts, index).into_iter().filter(|pid| !stopped.contains(pid)).collect();
            if new.is_empty() {
                break;
            }
            for pid in new {
                signal(pid, libc::SIGSTOP);
                stopped.push(pid);
            }
        }
        assert!(!stopped.is_empty(), "host {index} has no connection to freeze");
        Self(stopped)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        for pid in &self.0 {
            signal(*pid, libc::SIGCONT);
        }
    }
}

/// A `remote` running while the test acts on the hosts; killed if the test ends before it does.
struct Running {
    pid: u32,
    started: Instant,
    output: Option<JoinHandle<std::io::Result<std::process::Output>>>,
}

impl Running {
    fn start(args: &[&str]) -> Self {
        let child = spawn_remote(args);
        let pid = child.id();
        // Waited for on a thread, which reads both pipes to the end, so that `remote` never waits on a full
        // pipe.
        let output = std::thread::spawn(move || child.wait_with_output());
        Self { pid, started: Instant::now(), output: Some(output) }
    }

    /// What the run printed, and how long it took from its start; the test fails when it has not ended within
    /// `limit`.
    fn finish(mut self, limit: Duration) -> (CliOutput, Duration) {
        let output = self.output.take().expect("finished once");
        let ended = wait_until(limit, || output.is_finished());
        let took = self.started.elapsed();
        if !ended {
            // Not reaped yet, so the pid is still this `remote`'s.
            signal(self.pid, libc::SIGKILL);
            let _ = output.join();
            panic!("remote did not end within {limit:?}");
        }
        let output = output.join().expect("the waiting thread").expect("wait for remote");
        let out = CliOutput {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        (out, took)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(output) = self.output.take() {
            if !output.is_finished() {
                signal(self.pid, libc::SIGKILL);
            }
            let _ = output.join();
        }
    }
}

/// Checks that `said` is a user's message and not the libraries' words.
fn no_library_words(said: &str) {
    for words in LIBRARY_WORDS {
        assert!(!said.contains(words), "says `{words}`: {said}");
    }
}

/// The temporary file an error says is left on the host, checked to be in `folder` and named as a copy's
/// temporary file is.
fn left_on_host(error: &str, folder: &Path) -> String {
    let (_, rest) =
        error.split_once("its temporary file ").unwrap_or_else(|| panic!("names no temporary file: {error}"));
    let (path, _) =
        rest.split_once(" is left on the host").unwrap_or_else(|| panic!("does not say it is left: {error}"));
    let path = Path::new(path);
    assert_eq!(path.parent(), Some(folder), "the temporary file is not beside the target: {error}");
    let name = path.file_name().unwrap().to_str().unwrap().to_string();
    assert!(is_temporary(&name), "not a temporary file's name: {name}");
    name
}

/// Checks what a host whose connection was lost mid-upload to `target` says: the target, that the
/// connection was lost, how far the copy got, and the temporary file it could not remove; returns that file's
/// name.
fn lost_upload(error: &str, target: &Path) -> String {
    let lead = format!("{} on the host: the connection to the host was lost, after ", target.display());
    assert!(error.starts_with(&lead), "{error}");
    assert!(error.contains(&format!(" of {BIG_SAID}; ")), "does not say how far the copy got: {error}");
    no_library_words(error);
    left_on_host(error, target.parent().unwrap())
}

#[test]
fn a_connection_lost_mid_upload_fails_that_host_alone_and_names_the_temporary_file_it_leaves() {
    let hosts = TestHosts::start(2);
    let entries = hosts.sandbox.host_entries();
    let local = hosts.dir().join("big.bin");
    random_file(&local, BIG);

    // One host alone: its connection is cut while the file is on its way, so nothing can be cleaned up after
    // it.
    let inventory = hosts.write_inventory(&[("hosts", &format!("[\"{}\"]", entries[0]))]);
    let alone = hosts.dir().join("alone");
    std::fs::create_dir(&alone).unwrap();
    let target = alone.join("big.bin");
    let upload = format!("upload(test, \"{}\", \"{}\")", local.display(), target.display());
    let running = Running::start(&["--inventory", inventory.to_str().unwrap(), "--json", "eval", &upload]);
    assert!(
        wait_until(PATIENCE, || copies_under_way(&alone, 1)),
        "the upload never got going: {:?}",
        temporaries(&alone)
    );
    cut_connections(&hosts, 0);
    let (out, _) = running.finish(PATIENCE);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("channel closed"), "{}", out.stderr);
    let error = error_of(result_of(&json(&out.stdout), &entries[0]));
    let left = lost_upload(&error, &target);
    let found: Vec<String> = temporaries(&alone).into_iter().map(|(name, _)| name).collect();
    assert_eq!(found, [left], "the temporary file named is not the one left");
    assert!(!target.exists(), "a half-written target is there");

    // Two hosts onto one shared target: the cut one fails, the other one's whole copy lands.
    let inventory = hosts.write_inventory(&[]);
    let shared = hosts.dir().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let target = shared.join("big.bin");
    let upload = format!("upload(test, \"{}\", \"{}\")", local.display(), target.display());
    let running = Running::start(&["--inventory", inventory.to_str().unwrap(), "--json", "eval", &upload]);
    let both = wait_until(PATIENCE, || copies_under_way(&shared, 2) && !target.exists());
    assert!(both, "the two uploads were never under way at once: {:?}", temporaries(&shared));
    cut_connections(&hosts, 0);
    let (out, _) = running.finish(PATIENCE);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("channel closed"), "{}", out.stderr);
    let document = json(&out.stdout);
    let left = lost_upload(&error_of(result_of(&document, &entries[0])), &target);
    let other = result_of(&document, &entries[1]);
    assert_eq!(
        (other["ok"].clone(), other["changed"].clone()),
        (Value::from(true), Value::from(true)),
        "{other}"
    );
    assert!(same_content(&local, &target), "the target is not the whole file");
    let found: Vec<String> = temporaries(&shared).into_iter().map(|(name, _)| name).collect();
    assert_eq!(found, [left], "the temporary file named is not the one left");
}

#[test]
fn a_connection_lost_mid_download_blames_the_host_and_leaves_nothing_here() {
    let hosts = TestHosts::start(1);
    let entry = &hosts.sandbox.host_entries()[0];
    let inventory = hosts.write_inventory(&[]);
    let on_host = hosts.dir().join("on-host");
    std::fs::create_dir(&on_host).unwrap();
    let source = on_host.join("source.bin");
    random_file(&source, BIG);
    let fetched = hosts.dir().join("fetched");
    let here = fetched.join(entry);
    let download = format!("download(test, \"{}\", \"{}\")", source.display(), fetched.display());

    let running = Running::start(&["--inventory", inventory.to_str().unwrap(), "--json", "eval", &download]);
    assert!(
        wait_until(PATIENCE, || copies_under_way(&here, 1)),
        "the download never got going: {:?}",
        temporaries(&here)
    );
    cut_connections(&hosts, 0);
    let (out, _) = running.finish(PATIENCE);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("channel closed"), "{}", out.stderr);
    let error = error_of(result_of(&json(&out.stdout), entry));

    // The host's side failed, so the host's file is named, not the partial copy here.
    let lead = format!("{} on the host: the connection to the host was lost, after ", source.display());
    assert!(error.starts_with(&lead), "{error}");
    assert!(error.ends_with(&format!(" of {BIG_SAID}")), "does not say how far the copy got: {error}");
    assert!(!error.contains("local file"), "{error}");
    no_library_words(&error);
    let left: Vec<_> = std::fs::read_dir(&here)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert_eq!(left, Vec::<PathBuf>::new(), "a partial download is left here");
}

#[test]
fn a_timeout_bounds_a_copy_to_a_frozen_host() {
    let hosts = TestHosts::start(1);
    let entry = &hosts.sandbox.host_entries()[0];
    let inventory = hosts.write_inventory(&[]);
    let local = hosts.dir().join("big.bin");
    random_file(&local, BIG);
    let landing = hosts.dir().join("landing");
    std::fs::create_dir(&landing).unwrap();
    let target = landing.join("big.bin");
    let upload = format!("upload(test, \"{}\", \"{}\")", local.display(), target.display());

    let args = ["--inventory", inventory.to_str().unwrap(), "--json", "eval", "--timeout", "3s", &upload];
    let running = Running::start(&args);
    assert!(
        wait_until(PATIENCE, || copies_under_way(&landing, 1)),
        "the upload never got going: {:?}",
        temporaries(&landing)
    );
    // The host hangs mid-copy: it neither answers nor closes the connection.
    let frozen = Frozen::host(&hosts, 0);
    let (out, took) = running.finish(PATIENCE);

    // 3 s of timeout and a few of trying to clean up, not the 20 s and more it once took.
    assert!(took < Duration::from_secs(15), "the run took {took:?} with --timeout 3s");
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let error = error_of(result_of(&json(&out.stdout), entry));
    assert!(error.contains("timed out after 3s during the copy"), "{error}");
    no_library_words(&error);
    let found: Vec<String> = temporaries(&landing).into_iter().map(|(name, _)| name).collect();
    if error.contains("is left on the host") {
        assert_eq!(found, [left_on_host(&error, &landing)], "the temporary file named is not the one left");
    } else {
        assert_eq!(found, Vec::<String>::new(), "a temporary file is left and not said to be: {error}");
    }
    assert!(!target.exists(), "a half-written target is there");
    drop(frozen);
}

/// Folders of the local tree the shared syncs send, the top one first.
const FOLDERS: [&str; 5] = ["", "a", "a/b", "a/b/c", "d"];

/// Writes the local tree: 60 small files over `FOLDERS`, saying `round`, with a modification time of its own
/// per round so that a sync sends every file anew.
fn write_site(site: &Path, round: u64) {
    for folder in FOLDERS {
        std::fs::create_dir_all(site.join(folder)).unwrap();
    }
    let stamp = UNIX_EPOCH + Duration::from_secs(1_700_000_000 + round * 100);
    for i in 0..60 {
        let path = site.join(FOLDERS[i % FOLDERS.len()]).join(format!("f{i:02}.txt"));
        std::fs::write(&path, format!("file {i}, round {round}\n")).unwrap();
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(stamp).unwrap();
    }
}

#[test]
fn hosts_sharing_one_folder_all_sync_into_it_at_once() {
    let hosts = TestHosts::start(6);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let (site, www) = (hosts.dir().join("site"), hosts.dir().join("www"));
    let sync = |options: &str| {
        let expression = format!("sync(test, \"{}\", \"{}\", \"{options}\")", site.display(), www.display());
        let out = remote(&["--inventory", inventory, "--json", "eval", &expression]);
        let document = json(&out.stdout);
        for result in document["results"].as_array().unwrap() {
            assert_eq!(result["ok"], Value::from(true), "{options}: a host failed: {result}\n{}", out.stderr);
            no_library_words(result["stdout"].as_str().unwrap_or_default());
        }
        assert_eq!(document["results"].as_array().unwrap().len(), 6, "{document}");
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    };
    let no_temporaries = || {
        let left: Vec<String> =
            tree(&www).into_iter().map(|(rel, _)| rel).filter(|rel| rel.contains(".remote-")).collect();
        assert_eq!(left, Vec::<String>::new(), "temporary files are left");
    };

    // A first sync: every host makes the same folders at once, and none may fail because another made one
    // first.
    write_site(&site, 0);
    for round in 0..5 {
        if www.exists() {
            std::fs::remove_dir_all(&www).unwrap();
        }
        sync("");
        assert_eq!(tree(&www), tree(&site), "round {round}");
        no_temporaries();
    }

    // With --delete, each host lists the folder while the others' copies are in flight there, and must not
    // take their temporary files for extras: into a fresh folder, and with every file changed, in turn.
    // Extras (a file and a folder) are there to remove in the rounds that keep the folder: every host means
    // to remove them, one does first, and for the others they are gone as they meant them to be, not a
    // failure.
    for round in 0..6 {
        if round % 2 == 0 {
            std::fs::remove_dir_all(&www).unwrap();
        } else {
            write_site(&site, round);
            std::fs::write(www.join("a/b/extra.txt"), "not in the site").unwrap();
            std::fs::create_dir_all(www.join("gone/deeper")).unwrap();
        }
        sync("--delete");
        assert_eq!(tree(&www), tree(&site), "round {round} with --delete");
        no_temporaries();
    }
}

#[test]
fn sync_delete_leaves_temporary_files_alone_and_removes_other_extras() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let (site, www) = (hosts.dir().join("site"), hosts.dir().join("www"));
    std::fs::create_dir(&site).unwrap();
    std::fs::write(site.join("a.css"), "body {}\n").unwrap();
    std::fs::write(site.join("index.html"), "hello\n").unwrap();
    // Another host's copies in flight, one in a folder the local tree does not have, among plain extras.
    std::fs::create_dir_all(www.join("old")).unwrap();
    let planted = [".a.css.remote-0123456789abcdef.tmp", "old/.y.remote-0123456789abcdef.tmp"];
    for rel in planted {
        std::fs::write(www.join(rel), "in flight").unwrap();
    }
    std::fs::write(www.join("old/y"), "y").unwrap();
    std::fs::write(www.join("extra.txt"), "extra").unwrap();

    let expression = format!("sync(test, \"{}\", \"{}\", \"--delete\")", site.display(), www.display());
    for run in ["first", "second"] {
        let out = remote(&["--inventory", inventory.to_str().unwrap(), "--json", "eval", &expression]);
        assert_eq!(out.code, 0, "{run}: {}{}", out.stdout, out.stderr);
        let result = &json(&out.stdout)["results"][0];
        let said = result["stdout"].as_str().unwrap_or_default();
        assert!(said.contains("2 temporary file(s) of another copy left alone"), "{run}: {said}");
        // Both temporary files stay, and the folder holding one; the other extras go.
        let expected: Vec<(String, Option<String>)> = [
            (planted[0], Some("in flight")),
            ("a.css", Some("body {}\n")),
            ("index.html", Some("hello\n")),
            ("old", None),
            (planted[1], Some("in flight")),
        ]
        .into_iter()
        .map(|(rel, content)| (rel.to_string(), content.map(str::to_string)))
        .collect();
        assert_eq!(tree(&www), expected, "{run}: {said}");
    }
}

#[test]
fn sync_never_replaces_a_hosts_file_with_a_folder_nor_a_folder_with_a_file() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let sync = |site: &Path, www: &Path| {
        let expression = format!("sync(test, \"{}\", \"{}\", \"--delete\")", site.display(), www.display());
        let out = remote(&["--inventory", inventory.to_str().unwrap(), "--json", "eval", &expression]);
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        error_of(&json(&out.stdout)["results"][0])
    };

    // A folder here, a file of that name on the host.
    let (site, www) = (hosts.dir().join("site"), hosts.dir().join("www"));
    std::fs::create_dir_all(site.join("assets")).unwrap();
    std::fs::write(site.join("assets/app.js"), "run()\n").unwrap();
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("assets"), "the host's file").unwrap();
    let error = sync(&site, &www);
    assert!(error.starts_with(&format!("{} on the host: ", www.join("assets").display())), "{error}");
    assert!(error.contains("remove the host's file first"), "{error}");
    assert!(!error.contains("use --delete"), "{error}");
    assert_eq!(std::fs::read_to_string(www.join("assets")).unwrap(), "the host's file");

    // A file here, a folder of that name on the host.
    let (site, www) = (hosts.dir().join("site2"), hosts.dir().join("www2"));
    std::fs::create_dir(&site).unwrap();
    std::fs::write(site.join("notes"), "a file here\n").unwrap();
    std::fs::create_dir_all(www.join("notes")).unwrap();
    std::fs::write(www.join("notes/keep.txt"), "the host's").unwrap();
    let error = sync(&site, &www);
    assert!(error.starts_with(&format!("{} on the host: ", www.join("notes").display())), "{error}");
    assert!(error.contains("remove the host's folder first"), "{error}");
    assert!(!error.contains("use --delete"), "{error}");
    assert_eq!(std::fs::read_to_string(www.join("notes/keep.txt")).unwrap(), "the host's");
}
