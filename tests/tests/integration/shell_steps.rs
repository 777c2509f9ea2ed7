//! The seed's shell steps against real sshd: `nohup` (a process that outlives the connection), `extract` (an
//! archive sent with `upload` and unpacked), `ping`.

use tests::{TestHosts, processes_with, remote};

#[test]
fn nohup_starts_a_process_that_outlives_the_connection() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    // A number no other process has on its command line.
    let marker = format!("3{}7", std::process::id() % 100_000);
    let out = remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "eval",
        &format!("nohup(test, \"exec sleep {marker}\")"),
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let pid: u32 = out
        .stdout
        .split("started, pid ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("{}", out.stdout));
    // `remote` has exited, so its connection is gone; the process is not.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let running = processes_with(&marker);
    for pid in &running {
        // SAFETY: kill only signals the process it names; these are the test's own `sleep`s.
        unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
    }
    assert_eq!(running, vec![pid], "the process the host named is still running");
}

#[test]
fn extract_unpacks_an_uploaded_archive() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let dir = hosts.dir();
    std::fs::create_dir_all(dir.join("src/sub")).unwrap();
    std::fs::write(dir.join("src/a.txt"), "alpha\n").unwrap();
    std::fs::write(dir.join("src/sub/b.txt"), "beta\n").unwrap();
    let archive = dir.join("app.tar.gz");
    let tar = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(dir.join("src"))
        .arg(".")
        .status();
    assert!(tar.expect("run tar").success());
    std::fs::create_dir(dir.join("landing")).unwrap();
    let (landed, out_dir) = (dir.join("landing/app.tar.gz"), dir.join("out dir"));
    let pipeline = format!(
        "upload(test, \"{}\", \"{}\") | extract(\"{}\", \"{}\")",
        archive.display(),
        landed.display(),
        landed.display(),
        out_dir.display()
    );
    let out = remote(&["--inventory", inventory.to_str().unwrap(), "eval", &pipeline]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(std::fs::read_to_string(out_dir.join("a.txt")).unwrap(), "alpha\n");
    assert_eq!(std::fs::read_to_string(out_dir.join("sub/b.txt")).unwrap(), "beta\n");

    let missing = format!("extract(test, \"{}\", \"{}\")", dir.join("nope.tar").display(), out_dir.display());
    let out = remote(&["--inventory", inventory.to_str().unwrap(), "eval", &missing]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("nope.tar"), "tar says which archive it could not open:\n{}", out.stdout);
}

#[test]
fn ping_says_whether_each_host_reaches_the_target() {
    let hosts = TestHosts::start(1);
    let inventory = hosts.write_inventory(&[]);
    let inventory = inventory.to_str().unwrap();
    let out = remote(&["--inventory", inventory, "eval", "ping(test, \"127.0.0.1\")"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("rtt min/avg/max"), "{}", out.stdout);
    // `.invalid` never resolves (RFC 2606), so nothing beyond this machine is ever asked to answer.
    let out = remote(&["--inventory", inventory, "eval", "ping(test, \"no-such-host.invalid\")"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("exited with status 2"), "{}", out.stdout);
}
