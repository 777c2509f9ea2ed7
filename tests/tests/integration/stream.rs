//! Streamed output (`remote exec --stream`, `stream LINE` at the prompt): each host's lines shown as they
//! arrive, prefixed with the host, before the slowest host has finished, and the run summary after them.

use std::io::BufRead;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tests::{TestHosts, spawn_remote};

/// Reads `child`'s stdout line by line on a thread, so the test can act while the run goes on.
fn lines_of(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

/// Lines from `lines` until `done` holds for what was seen, or a minute passes; everything seen.
fn read_until(
    lines: &mpsc::Receiver<String>,
    seen: &mut Vec<String>,
    done: impl Fn(&[String]) -> bool,
) -> bool {
    let until = Instant::now() + Duration::from_secs(60);
    while !done(seen) {
        match lines.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(line) => seen.push(line),
            Err(_) => return false,
        }
    }
    true
}

/// A command whose host 0 waits for `release` to exist before it ends, while the others end at once.
fn slow_on_first(hosts: &TestHosts, release: &std::path::Path) -> String {
    format!(
        "echo hello; case \"$SSH_CONNECTION \" in *\" {} \"*) while [ ! -e {} ]; do sleep 0.05; done; echo bye >&2; echo bye;; esac",
        hosts.server_end(0),
        release.display()
    )
}

#[test]
fn exec_stream_shows_every_host_before_the_slowest_has_finished() {
    let hosts = TestHosts::start(3);
    let inventory = hosts.write_inventory(&[]);
    let entries = hosts.sandbox.host_entries();
    let release = hosts.dir().join("release");
    let command = slow_on_first(&hosts, &release);
    let mut child = spawn_remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "exec",
        "test",
        "--stream",
        "--",
        "sh",
        "-c",
        &command,
    ]);
    let lines = lines_of(&mut child);
    let mut seen = Vec::new();
    let hello_from_all = |seen: &[String]| {
        entries
            .iter()
            .all(|host| seen.iter().any(|l| l.starts_with(host.as_str()) && l.ends_with(" │ hello")))
    };
    let arrived = read_until(&lines, &mut seen, hello_from_all);
    // Released whatever happened, so that the slow host's command ends and the run with it.
    std::fs::write(&release, "").unwrap();
    assert!(arrived, "a line from every host before the slowest finished; saw:\n{}", seen.join("\n"));
    assert!(!seen.iter().any(|l| l.contains("bye") || l.contains("Run summary")), "{}", seen.join("\n"));

    let output = child.wait_with_output().expect("remote ends");
    // The reading thread ends at the end of the output, which closes the channel.
    seen.extend(lines.iter());
    assert!(output.status.success());
    let text = seen.join("\n");
    let bye = seen
        .iter()
        .position(|l| l.starts_with(entries[0].as_str()) && l.ends_with(" │ bye"))
        .unwrap_or_else(|| panic!("{text}"));
    let summary = seen.iter().position(|l| l.contains("Run summary:")).unwrap();
    assert!(bye < summary, "the summary comes after every streamed line:\n{text}");
    // The slow host printed more than the others, so its output is a group of its own, shown under it.
    let slow = seen
        .iter()
        .position(|l| l.trim_start() == format!("✔ {}", entries[0]))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(seen[slow..].iter().take(6).any(|l| l.trim() == "bye"), "{text}");
    // Stderr lines are streamed to stderr, with the host too.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.lines().any(|l| l.starts_with(entries[0].as_str()) && l.ends_with(" │ bye")), "{stderr}");
    // Aligned: the separator is in the same column on every line.
    let columns: Vec<usize> = seen[..bye + 1].iter().filter_map(|l| l.find(" │ ")).collect();
    assert!(columns.windows(2).all(|w| w[0] == w[1]), "{text}");
}

#[test]
fn stream_at_the_prompt_shows_lines_as_they_come() {
    let hosts = TestHosts::start(2);
    let inventory = hosts.write_inventory(&[]);
    let entries = hosts.sandbox.host_entries();
    let release = hosts.dir().join("release");
    let script = hosts.dir().join("script");
    let line = format!("stream exec(test, \"{}\")", slow_on_first(&hosts, &release).replace('"', "\\\""));
    std::fs::write(&script, format!("{line}\nstream\n")).unwrap();
    let mut child = spawn_remote(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "live",
        "--no-hub",
        "--script",
        script.to_str().unwrap(),
    ]);
    let lines = lines_of(&mut child);
    let mut seen = Vec::new();
    let arrived = read_until(&lines, &mut seen, |seen| {
        entries
            .iter()
            .all(|host| seen.iter().any(|l| l.starts_with(host.as_str()) && l.ends_with(" │ hello")))
    });
    std::fs::write(&release, "").unwrap();
    assert!(arrived, "{}", seen.join("\n"));
    let output = child.wait_with_output().expect("remote ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The second line is a bare `stream`: refused with how to use it, so the script stops there.
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`stream` runs a line with its output shown as it comes"), "{stderr}");
}
