//! docs/tutorial.md, executed: every command of it run in order, as a reader would, against the sandbox it
//! starts, and every output it shows checked. The page is the script; this file only knows its conventions:
//!
//! - ```` ```sh ````: commands, one a line, each must exit 0; `cd DIR` moves the reader; `remote live` starts
//!   the prompt, which the later ```` ```remote ```` blocks type into.
//! - ```` ```text ````: lines the block before it printed, in order; `…` stands for any text.
//! - ```` ```remote ````: `remote> LINE` is typed at the prompt; the lines under it must follow, in order.
//! - ```` ```rust ```` opening with `// FILE`: each function in it replaces the one of its name in FILE, or is
//!   added at the end; while the prompt runs, the reload is awaited.
//! - ```` ```yaml ```` opening with `# FILE`: written to FILE, and each `- run:` command run as above.
//!
//! What differs from a reader's machine, and why: `cargo install` gets `--debug` and an install root of the
//! test's own, so that it reuses the tests' build instead of a release build of its own; `REMOTE_HUB` and
//! `REMOTE_SANDBOX_FIRST` move the hub and the sandbox to addresses no other test uses; and a command whose
//! output is checked while the prompt runs is tried again for a while, since a job's first run comes 5 s after
//! it is scheduled, sooner than a reader gets there but later than a test does.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use remote_sandbox::workspace::LivePrompt;
use tests::{free_loopback_addresses, remote_bin};

/// The page, from the workspace's root.
const TUTORIAL: &str = "docs/tutorial.md";

/// One fenced block of the page: its info string, its lines, and the line of the page it starts on.
#[derive(Debug, PartialEq)]
struct Block {
    kind: String,
    lines: Vec<String>,
    at: usize,
}

/// The page's fenced blocks, in order.
fn blocks(page: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (n, line) in page.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(kind)) => {
                open = Some(Block { kind: kind.trim().into(), lines: Vec::new(), at: n + 1 })
            }
            (Some(_), Some("")) => blocks.extend(open.take()),
            (Some(block), _) => block.lines.push(line.to_string()),
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "{TUTORIAL}: a block is not closed");
    blocks
}

/// Whether `line` is what `pattern` shows, `…` standing for any text.
fn matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split('…').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return line == pattern;
    }
    if !line.starts_with(first) || line.len() < first.len() + last.len() || !line.ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Whether the `expected` lines appear in `output`, in order (other lines may come between).
fn shows(expected: &[String], output: &str) -> bool {
    let mut lines = output.lines().map(str::trim_end);
    expected.iter().filter(|e| !e.trim().is_empty()).all(|e| lines.any(|l| matches(e, l)))
}

#[test]
fn patterns_and_blocks_read_as_the_page_means_them() {
    let check = |pattern: &str, line: &str, expected: bool| {
        assert_eq!(matches(pattern, line), expected, "{pattern:?} against {line:?}");
    };
    check(
        "Run summary: …(3 hosts: 3 ok, 0 failed, …)",
        "Run summary: x (3 hosts: 3 ok, 0 failed, 0.4s)",
        true,
    );
    check(
        "Run summary: …(3 hosts: 3 ok, 0 failed, …)",
        "Run summary: x (3 hosts: 2 ok, 1 failed, 0.4s)",
        false,
    );
    check("…up_since(hs)…", "  up_since(hs)  How long each host has been up.", true);
    check("a…a", "a", false);
    check("exact", "exact", true);
    check("exact", "exactly", false);
    assert!(shows(&["b".into(), "…d".into()], "a\nb\nc\nd\n"));
    assert!(!shows(&["d".into(), "b".into()], "a\nb\nc\nd\n"));
    assert_eq!(
        blocks("x\n```sh\nls\n```\n\n```text\n…\n```\n"),
        [
            Block { kind: "sh".into(), lines: vec!["ls".into()], at: 2 },
            Block { kind: "text".into(), lines: vec!["…".into()], at: 6 },
        ]
    );
}

/// The items of a ```rust block: each `pub fn` with the doc comments and attributes above it.
fn items(lines: &[String]) -> Vec<(String, String)> {
    let mut items = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in lines {
        if line.is_empty() && current.is_empty() {
            continue;
        }
        current.push(line);
        if line == "}" {
            let text = current.join("\n");
            let name = text
                .split("pub fn ")
                .nth(1)
                .and_then(|rest| rest.split('(').next())
                .expect("an item of the page is a `pub fn`")
                .to_string();
            items.push((name, text));
            current.clear();
        }
    }
    items
}

/// `source` with `item` in place of the function `name` (its doc comments and attributes included), or
/// with `item` added at the end.
fn put(source: &str, name: &str, item: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let Some(at) = lines.iter().position(|l| l.starts_with(&format!("pub fn {name}("))) else {
        return format!("{}\n{item}\n", source.trim_end());
    };
    let start =
        (0..at).rev().take_while(|&i| lines[i].starts_with("///") || lines[i].starts_with("#[")).last();
    let start = start.unwrap_or(at);
    let end = at + lines[at..].iter().position(|l| *l == "}").expect("the function ends with `}`");
    let mut out: Vec<&str> = lines[..start].to_vec();
    out.push(item);
    out.extend(&lines[end + 1..]);
    format!("{}\n", out.join("\n"))
}

#[test]
fn a_function_of_the_page_replaces_its_namesake_or_is_added() {
    let source =
        "use x;\n\n/// Old.\n#[remote::pipeline]\npub fn a(hs: &Hosts) -> Run {\n    old\n}\n\nfn b() {}\n";
    assert_eq!(
        put(source, "a", "/// New.\npub fn a(hs: &Hosts) -> Run {\n    new\n}"),
        "use x;\n\n/// New.\npub fn a(hs: &Hosts) -> Run {\n    new\n}\n\nfn b() {}\n"
    );
    assert_eq!(put("use x;\n", "c", "pub fn c() {\n}"), "use x;\npub fn c() {\n}\n");
    let block: Vec<String> = ["// f.rs", "", "/// A.", "pub fn a() {", "}", "", "pub fn b() {", "}"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let names: Vec<String> = items(&block[1..]).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["a", "b"]);
}

/// A reader at the page: where they are, what they have set, the prompt when it runs.
struct Reader {
    cwd: PathBuf,
    env: Vec<(String, String)>,
    live: Option<LivePrompt>,
    /// The sandboxes started, stopped at the end whatever happens.
    sandboxes: Vec<PathBuf>,
}

impl Reader {
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(&self.cwd)
            .env_remove("REMOTE_INVENTORY")
            .env_remove("REMOTE_KEY")
            .env_remove("GITHUB_ACTIONS")
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs one line of the page in bash; its output (stdout and stderr as they came) if it exits 0.
    fn run(&mut self, line: &str, at: usize) -> String {
        if let Some(dir) = line.strip_prefix("cd ") {
            self.cwd = self.cwd.join(dir.trim());
            return String::new();
        }
        let line = match line.strip_prefix("cargo install ") {
            Some(rest) => format!("cargo install --debug {rest}"),
            None => line.to_string(),
        };
        if line.contains("sandbox up") {
            self.sandboxes.push(self.cwd.join(".remote/sandbox"));
        }
        let output = self
            .command("bash")
            .args(["-c", &format!("{{ {line}\n}} 2>&1")])
            .stdin(Stdio::null())
            .output()
            .expect("run bash");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{TUTORIAL}:{at}: `{line}` failed ({}):\n{text}", output.status);
        text
    }

    /// Runs the commands of a block; with `expected`, checks they showed it (tried again for a while while
    /// the prompt runs: see the module's comment).
    fn run_all(&mut self, commands: &[String], expected: Option<&Block>, at: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mut output = String::new();
            for command in commands {
                if command == "remote live" {
                    // The installed `remote`, found on the reader's PATH.
                    let mut live = self.command("remote");
                    self.live = Some(LivePrompt::start(live.arg("live")));
                    continue;
                }
                output.push_str(&self.run(command, at));
            }
            let Some(expected) = expected else { return };
            if shows(&expected.lines, &output) {
                return;
            }
            assert!(
                self.live.is_some() && Instant::now() < deadline,
                "{TUTORIAL}:{}: the output is not what the page shows:\n{}\n--- it was:\n{output}",
                expected.at,
                expected.lines.join("\n")
            );
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// Types a ```remote block at the prompt.
    fn type_at_prompt(&mut self, block: &Block) {
        let mut lines = block.lines.iter().peekable();
        while let Some(line) = lines.next() {
            let typed = line.strip_prefix("remote> ").unwrap_or_else(|| {
                panic!("{TUTORIAL}:{}: a ```remote block starts with `remote> `", block.at)
            });
            if typed == "quit" {
                let (code, transcript) = self.live.take().expect("the prompt runs").quit();
                assert_eq!(code, 0, "{transcript}");
                continue;
            }
            let live =
                self.live.as_mut().unwrap_or_else(|| panic!("{TUTORIAL}:{}: no prompt runs", block.at));
            let mut from = live.len();
            live.send(typed);
            while let Some(expected) = lines.next_if(|l| !l.starts_with("remote> ")) {
                from = wait_for_line(live, from, expected, block.at) + 1;
            }
        }
    }

    /// Applies a ```rust block to its file and, while the prompt runs, waits for the reload.
    fn edit(&mut self, block: &Block) {
        let file = block.lines[0].strip_prefix("// ").expect("a ```rust block opens with `// FILE`");
        let path = self.cwd.join(file);
        let mut source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (name, item) in items(&block.lines[1..]) {
            source = put(&source, &name, &item);
        }
        let from = self.live.as_ref().map(LivePrompt::len);
        std::fs::write(&path, source).expect("save the file");
        if let (Some(live), Some(from)) = (&self.live, from) {
            live.wait_for_from(from, "ops reloaded in ", Duration::from_secs(300));
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        drop(self.live.take());
        for dir in &self.sandboxes {
            remote_sandbox::stop_daemons(dir);
        }
    }
}

/// Index of the first line from `from` on that `pattern` matches (a prompt echoed before it is not part of
/// the line); panics with the transcript after two minutes.
fn wait_for_line(live: &LivePrompt, from: usize, pattern: &str, at: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(found) = (from..live.len()).find(|&i| {
            let (_, line) = live.line(i);
            let mut line = line.trim_end();
            while let Some(rest) = line.strip_prefix("remote> ") {
                line = rest;
            }
            matches(pattern, line)
        }) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{TUTORIAL}:{at}: the prompt did not show {pattern:?}:\n{}",
            live.transcript()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_tutorial_runs_as_written() {
    // Its builds would slow the hot-reload tests' reloads past their deadlines.
    let _turn = crate::hot_reload::TURN.lock().unwrap_or_else(|e| e.into_inner());
    let checkout =
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate is in the workspace");
    let page = std::fs::read_to_string(checkout.join(TUTORIAL)).expect("read the tutorial");
    let home = tempfile::tempdir().expect("a folder for the reader");
    let install = home.path().join("install");
    let target = remote_bin().parent().and_then(Path::parent).expect("remote is in TARGET/PROFILE/");
    let hub = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port");
    let path = format!("{}:{}", install.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let mut reader = Reader {
        cwd: checkout.to_path_buf(),
        env: vec![
            ("PATH".into(), path),
            ("CARGO_INSTALL_ROOT".into(), install.display().to_string()),
            // The fleet's binaries apart from the ones under test, its dependencies shared (fleet.rs).
            ("CARGO_TARGET_DIR".into(), target.join("fleet-test").display().to_string()),
            ("CARGO_BUILD_BUILD_DIR".into(), target.display().to_string()),
            ("REMOTE_HUB".into(), hub.to_string()),
            ("REMOTE_SANDBOX_FIRST".into(), free_loopback_addresses(3).to_string()),
        ],
        live: None,
        sandboxes: Vec::new(),
    };
    let blocks = blocks(&page);
    let mut commands_run = 0;
    for (i, block) in blocks.iter().enumerate() {
        let next = blocks.get(i + 1).filter(|b| b.kind == "text");
        match block.kind.as_str() {
            "sh" => {
                let commands: Vec<String> =
                    block.lines.iter().filter(|l| !l.trim().is_empty()).cloned().collect();
                commands_run += commands.len();
                reader.run_all(&commands, next, block.at);
                // After the install, the reader leaves the checkout for a folder of their own.
                if commands.iter().all(|c| c.starts_with("cargo install")) {
                    reader.cwd = home.path().to_path_buf();
                }
            }
            "yaml" => {
                let file = block.lines[0].strip_prefix("# ").expect("a ```yaml block opens with `# FILE`");
                let path = reader.cwd.join(file);
                std::fs::create_dir_all(path.parent().expect("a file in a folder"))
                    .expect("create the folder");
                std::fs::write(&path, block.lines.join("\n") + "\n").expect("write the workflow");
                let commands: Vec<String> = block
                    .lines
                    .iter()
                    .filter_map(|l| l.trim_start().strip_prefix("- run: "))
                    .map(str::to_string)
                    .collect();
                commands_run += commands.len();
                reader.run_all(&commands, next, block.at);
            }
            "remote" => reader.type_at_prompt(block),
            "rust" => reader.edit(block),
            "text" => {}
            other => panic!(
                "{TUTORIAL}:{}: a ```{other} block; this test does not know what to do with it",
                block.at
            ),
        }
    }
    assert!(reader.live.is_none(), "the page leaves the prompt running");
    assert!(commands_run >= 12, "only {commands_run} commands ran: is the page whole?");
    let junit =
        std::fs::read_to_string(home.path().join("myfleet/junit.xml")).expect("the CI job's junit.xml");
    assert_eq!(junit.matches("<testcase").count(), 3, "{junit}");
}
