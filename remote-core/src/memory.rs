//! A world in memory: it answers commands from a table and records what each host was asked. For tests of the
//! model (the interpreter, runs, operations, steps) and of a user's own pipelines, without any SSH server.
//!
//! It is the model's own seam, not a stand-in for SSH: what the transport does (connections, host keys,
//! kills) is tested against real sshd; this tests what the model asks of the world and what it makes of the
//! answers.
//!
//! ```
//! use std::sync::Arc;
//! use remote_core::memory::{Answer, MemoryWorld, host};
//! use remote_core::{Driver, Hosts, On};
//!
//! let world = MemoryWorld::new()
//!     .answer_on("web-2", "uptime", Answer::exit(1, "no uptime here"))
//!     .answer("uptime", Answer::ok("up 3 days\n"));
//! let world = Arc::new(world);
//! let driver = Driver::new(world.clone(), Arc::new(|_: &_, _| {}));
//! let hosts = Hosts::new("web", vec![host("web-1"), host("web-2")], driver);
//! let run = On::Hosts(hosts).read("uptime", "uptime");
//! assert_eq!(run.failed_count(), 1);
//! let asked = [("web-1".to_string(), "uptime".to_string()), ("web-2".to_string(), "uptime".to_string())];
//! assert_eq!(world.asked(), asked);
//! ```

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::hosts::{Hosts, Transfer, World};
use crate::report::{HostError, HostResult, Output};
use crate::spec::{Agent, Algorithms, Auth, HostKeyPolicy, HostSpec};

/// What a host answers to a command.
#[derive(Clone, Debug)]
pub enum Answer {
    /// The command ran: its exit status and what it printed.
    Ran {
        /// The exit status.
        exit: u32,
        /// What it wrote to stdout.
        stdout: String,
        /// What it wrote to stderr.
        stderr: String,
    },
    /// The command could not run on the host: unreachable, refused, …
    Fails(HostError),
}

impl Answer {
    /// Exit 0 with `stdout`.
    pub fn ok(stdout: &str) -> Answer {
        Answer::Ran { exit: 0, stdout: stdout.to_string(), stderr: String::new() }
    }

    /// Exit `code` with `stderr`.
    pub fn exit(code: u32, stderr: &str) -> Answer {
        Answer::Ran { exit: code, stdout: String::new(), stderr: stderr.to_string() }
    }

    /// The host could not run it at all, as `error` says.
    pub fn fails(error: HostError) -> Answer {
        Answer::Fails(error)
    }
}

/// One line of the table: which host (any, when `None`), which commands (those containing `text`), what
/// answer.
#[derive(Clone, Debug)]
struct Rule {
    host: Option<String>,
    text: String,
    answer: Answer,
}

/// Answers commands from a table of rules, the first that matches winning, and records every command per
/// host.
///
/// A command no rule matches exits 127 with `no answer for this command in the memory world` on stderr, so
/// that a test sees a command it did not expect. Copies (`upload`, `sync`, `download`) are recorded as
/// `upload LOCAL REMOTE`, `sync LOCAL REMOTE` and `download REMOTE LOCAL`, answered by the same table; one
/// that succeeds says the host's copy changed (in a dry run: would change).
#[derive(Debug, Default)]
pub struct MemoryWorld {
    rules: Vec<Rule>,
    asked: Mutex<Vec<(String, String)>>,
    checking: AtomicBool,
}

impl MemoryWorld {
    /// A world with an empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every host answers `answer` to a command containing `text` (after the rules added before this one).
    pub fn answer(mut self, text: &str, answer: Answer) -> Self {
        self.rules.push(Rule { host: None, text: text.to_string(), answer });
        self
    }

    /// The host `host` answers `answer` to a command containing `text` (after the rules added before this
    /// one).
    pub fn answer_on(mut self, host: &str, text: &str, answer: Answer) -> Self {
        self.rules.push(Rule { host: Some(host.to_string()), text: text.to_string(), answer });
        self
    }

    /// Makes what runs from now on a dry run (`true`), as `--check` does, or a real one.
    pub fn set_check(&self, check: bool) {
        self.checking.store(check, Ordering::SeqCst);
    }

    /// Every `(host, command)` asked so far, each host's in the order it was asked, hosts in the order first
    /// asked.
    pub fn asked(&self) -> Vec<(String, String)> {
        let asked = self.asked.lock().unwrap_or_else(|e| e.into_inner()).clone();
        // Different commands of one step run on threads of their own; a host's own commands are in order
        // anyway.
        let mut hosts: Vec<&str> = Vec::new();
        for (host, _) in &asked {
            if !hosts.contains(&host.as_str()) {
                hosts.push(host);
            }
        }
        hosts.iter().flat_map(|h| asked.iter().filter(move |(host, _)| host == h).cloned()).collect()
    }

    /// What `host` answers to `command`, recorded.
    fn ask(&self, host: &str, command: &str, unmatched: Answer) -> HostResult {
        self.asked.lock().unwrap_or_else(|e| e.into_inner()).push((host.to_string(), command.to_string()));
        let rule = self
            .rules
            .iter()
            .find(|rule| rule.host.as_deref().is_none_or(|h| h == host) && command.contains(&rule.text));
        let outcome = match rule.map_or(unmatched, |rule| rule.answer.clone()) {
            Answer::Ran { exit, stdout, stderr } => Ok(Output {
                exit: Some(exit),
                stdout: stdout.into_bytes(),
                stderr: stderr.into_bytes(),
                ..Output::default()
            }),
            Answer::Fails(error) => Err(error),
        };
        HostResult { host: host.to_string(), outcome, elapsed: Duration::ZERO }
    }
}

impl World for MemoryWorld {
    fn exec(&self, hosts: &Hosts, _label: &str, command: &str) -> Vec<HostResult> {
        let unmatched = Answer::exit(127, "no answer for this command in the memory world");
        hosts.specs().iter().map(|spec| self.ask(&spec.name, command, unmatched.clone())).collect()
    }

    fn transfer(&self, hosts: &Hosts, _label: &str, transfer: &Transfer) -> Vec<HostResult> {
        let command = match transfer {
            Transfer::Upload { local, remote } => format!("upload {} {remote}", local.display()),
            Transfer::Sync { local_dir, remote_dir, .. } => {
                format!("sync {} {remote_dir}", local_dir.display())
            }
            Transfer::Download { remote, local_dir } => format!("download {remote} {}", local_dir.display()),
        };
        hosts
            .specs()
            .iter()
            .map(|spec| {
                let mut result = self.ask(&spec.name, &command, Answer::ok(""));
                // The host's copy changed, or in a dry run would: this world keeps no files to compare.
                if let Ok(output) = &mut result.outcome
                    && output.success()
                {
                    output.changed = Some(true);
                }
                result
            })
            .collect()
    }

    fn checking(&self) -> bool {
        self.checking.load(Ordering::SeqCst)
    }
}

/// A host spec called `name` with nothing else set that a memory world would read: for tests.
pub fn host(name: &str) -> HostSpec {
    HostSpec {
        name: name.to_string(),
        address: name.to_string(),
        port: 22,
        user: "test".to_string(),
        auth: Auth::Keys { agent: Agent::Off, files: Vec::new(), identities_only: false },
        known_hosts: PathBuf::from("/dev/null"),
        global_known_hosts: Vec::new(),
        host_key_checking: HostKeyPolicy::Strict,
        connect_timeout: None,
        keepalive: None,
        host_key_alias: None,
        jump: None,
        become_root: false,
        revoked_host_keys: None,
        algorithms: Algorithms::default(),
        hash_known_hosts: None,
        refused: None,
    }
}
