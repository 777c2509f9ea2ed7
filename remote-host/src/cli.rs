//! The command-line grammar (DESIGN.md section 3): global options, subcommands and their arguments.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Live-coding remote operations over SSH.
#[derive(Parser, Debug)]
#[command(
    name = "remote",
    version,
    about = "Live-coding remote operations over SSH: commands, pipelines, the live prompt and a local sandbox",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts, before or after its name.
#[derive(Args, Debug)]
pub struct GlobalArgs {
    /// Inventory file [default: $REMOTE_INVENTORY, else ./remote.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Print one JSON document instead of the human summary
    #[arg(long, global = true)]
    pub json: bool,
    /// A dry run (exec, run, eval): each host says what would change, and nothing is changed
    #[arg(long, global = true)]
    pub check: bool,
}

impl GlobalArgs {
    /// The inventory path to use.
    pub fn inventory_path(&self) -> PathBuf {
        self.inventory.clone().unwrap_or_else(remote_config::Inventory::default_path)
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one command on every host of GROUP
    Exec(ExecArgs),
    /// Evaluate a pipeline expression, e.g. 'ls(sandbox, "/", "-la") | pretty'
    Eval(EvalArgs),
    /// Run a named pipeline from ops on GROUP
    Run(RunArgs),
    /// Named pipelines, operations, steps, predicates and fields, with one-line docs
    List,
    /// The live prompt: pipelines and expressions line by line over connections kept open, ops hot-reloaded
    /// on save, scheduled jobs, the stock hub and the history
    Live(LiveArgs),
    /// Local sshd hosts on loopback, written into the inventory as group `sandbox`
    Sandbox(SandboxArgs),
    /// The groups, or one group's hosts as resolved (user, address, port, key, jump hosts)
    Hosts(HostsArgs),
    /// Past runs of `remote live` (prompt lines and jobs) and their per-host outcomes, from the history store
    History(HistoryArgs),
    /// Merge the JUnit or JSON reports of a sharded run's shards (`--shard K/N`) into one report
    MergeReports(MergeArgs),
    /// Write a fleet repository into DIR: your own `ops` (pipelines, steps, jobs), an inventory, and the host
    /// that `remote` runs inside it
    New(NewArgs),
    /// Build the static CI binary of the repository around this folder: its host with its ops compiled in,
    /// statically linked; prints its path
    BuildStatic(BuildStaticArgs),
    /// Print a completion script for SHELL, e.g. `remote completions bash >
    /// ~/.local/share/bash-completion/completions/remote`
    Completions(CompletionsArgs),
    /// Print the manual page (roff), e.g. `remote man > ~/.local/share/man/man1/remote.1`
    Man,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct BuildStaticArgs {
    /// Copy the binary here [default: leave it where cargo puts it, under the target dir]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Pass --locked to cargo: fail rather than change Cargo.lock
    #[arg(long)]
    pub locked: bool,
}

#[derive(Args, Debug)]
pub struct NewArgs {
    /// The folder to create (it must not exist, or be empty)
    pub dir: PathBuf,
    /// The hosts of group `fleet` in remote.toml, comma-separated: `deploy@web-1,web-2:2222`
    #[arg(long, value_name = "HOSTS", conflicts_with = "sandbox", value_delimiter = ',')]
    pub hosts: Vec<String>,
    /// Leave the inventory for `remote sandbox up`, which writes group `sandbox` into it
    #[arg(long)]
    pub sandbox: bool,
    /// Take remote's crates from this checkout [default: the one this `remote` was built from]
    #[arg(long, value_name = "CHECKOUT", conflicts_with = "git")]
    pub path: Option<PathBuf>,
    /// Take remote's crates from this git repository
    #[arg(long, value_name = "URL")]
    pub git: Option<String>,
}

/// How a run is cut, bounded, reported and judged, for CI (exec, run, eval).
#[derive(Args, Debug)]
pub struct CiArgs {
    /// Run on shard K of N of the group: a stable, disjoint 1/N of its hosts, dealt out by host name (e.g.
    /// 2/3)
    #[arg(long, value_name = "K/N")]
    pub shard: Option<remote_config::shard::Shard>,
    /// Only these hosts of the group: node sets and groups, comma-separated (e.g. `web-[01-10]`,
    /// `db-[1,3,5-7]`, `@canary`)
    #[arg(long, value_name = "SET")]
    pub limit: Option<String>,
    /// Not these hosts of the group, written as for --limit (e.g. `web-[03]`, `@canary`)
    #[arg(long, value_name = "SET")]
    pub exclude: Option<String>,
    /// Only the hosts of the group that failed (`last-failed`) or succeeded (`last-ok`) in the newest run of
    /// `remote live`'s history beside the inventory (a prompt line's or a job's)
    #[arg(long, value_enum, value_name = "WHICH")]
    pub hosts_from: Option<HostsFrom>,
    /// Show every line of every distinct output in the summary, not the first 20 (as `pretty_all`)
    #[arg(long)]
    pub full: bool,
    /// Run the group in batches, one after another: hosts per batch (10), a share of the group (25%), or the
    /// first batches' sizes, the last repeating (1,10%: one canary host, then tenths)
    #[arg(long, value_name = "N|P%")]
    pub batch: Option<crate::rollout::Batches>,
    /// With --batch: how many hosts of the whole run may fail (N, or P% of the group); once more have failed,
    /// no new batch starts and the hosts left say "not started"
    #[arg(long, value_name = "N|P%", requires = "batch")]
    pub max_fail: Option<crate::rollout::MaxFail>,
    /// With --batch: stop after the batch in which the first host fails (--max-fail 0)
    #[arg(long, requires = "batch", conflicts_with = "max_fail")]
    pub fail_fast: bool,
    /// Also write a JUnit XML report to FILE: a testsuite for the run, a testcase per host
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// How failures are shown: as text, or also as GitHub Actions annotations (`github`)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Text)]
    pub format: Format,
    /// When to exit 1: a host failed (`any`), no host succeeded (`all`), or never (`none`)
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
    /// End the whole run after this long (e.g. 15m): commands still running are killed, hosts not yet reached
    /// fail
    #[arg(long, value_name = "DURATION", value_parser = positive_duration)]
    pub deadline: Option<Duration>,
}

impl CiArgs {
    /// The plan of `--batch` (with `--max-fail` or `--fail-fast`) for a group of `hosts` hosts; `None` when
    /// the run is not rolled.
    pub fn rollout(&self, hosts: usize) -> Option<crate::rollout::Plan> {
        let batches = self.batch.as_ref()?;
        let max_fail = if self.fail_fast {
            Some(crate::rollout::MaxFail(crate::rollout::Amount::Hosts(0)))
        } else {
            self.max_fail
        };
        Some(crate::rollout::Plan::new(hosts, batches, max_fail))
    }
}

/// Which hosts of the last run `--hosts-from` takes.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostsFrom {
    /// Those that failed
    LastFailed,
    /// Those that succeeded
    LastOk,
}

/// How a run's failures are shown.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The run summary (plain when stdout is not a terminal)
    Text,
    /// The summary, with each failed host also as a GitHub Actions error annotation
    Github,
}

/// Which outcomes make the exit code 1.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    /// Any host failed
    Any,
    /// No host succeeded
    All,
    /// Never: hosts' failures are reported, the exit code is 0 (2 still means a usage or inventory error)
    None,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Reports written by the shards: JUnit files (`--junit`) or JSON documents (`--json` output), in any
    /// order
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Write the JUnit files merged into FILE: one testsuite per run, every shard's testcases in it
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// When to exit 1, as for the run itself
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Only runs whose line or label mentions this pipeline (or any text)
    #[arg(long, value_name = "P")]
    pub pipeline: Option<String>,
    /// Only this host's outcomes, and only runs that had it
    #[arg(long, value_name = "H")]
    pub host: Option<String>,
    /// Only runs since this long ago (e.g. 30m, 1h, 7d)
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub since: Option<std::time::Duration>,
    /// The N newest runs, newest first [default: 10; 0 for all; with --json every run, oldest first, unless
    /// given]
    #[arg(long, value_name = "N")]
    pub last: Option<usize>,
    /// Each host's kept output under its line
    #[arg(long)]
    pub output: bool,
    /// What the history holds instead: its size on disk, its rows and its oldest record
    #[arg(long, conflicts_with_all = ["pipeline", "host", "since", "last", "output"])]
    pub stats: bool,
}

#[derive(Args, Debug)]
pub struct HostsArgs {
    /// Group of hosts from the inventory; without it, the groups are listed
    pub group: Option<String>,
}

/// Limits of every remote command a subcommand runs.
#[derive(Args, Debug)]
pub struct SessionArgs {
    /// Kill a remote command after this long (e.g. 500ms, 5s, 2m)
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = positive_duration)]
    pub timeout: Duration,
    /// Give up connecting to a host after this long [default: the host's ConnectTimeout in ~/.ssh/config,
    /// else 10s]
    #[arg(long, value_name = "DURATION", value_parser = positive_duration)]
    pub connect_timeout: Option<Duration>,
    /// Output kept from all hosts of one step together (e.g. 256MiB, 10M, 500k); the rest is dropped and the
    /// hosts it was dropped from say so. Each host also keeps at most 64 MiB per stream
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = parse_size)]
    pub max_output: usize,
    /// Try a host again this many times when its connection fails or its command fails or times out (never
    /// for a host key, a login or a setting); a failed command is run again, so ask only where that is safe
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: u32,
    /// Wait this long before the first retry; each next wait is twice as long, up to a minute
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = retry_delay)]
    pub retry_delay: Duration,
    /// Ask once, on the terminal, for the password sudo needs on hosts that run commands as root (`become`,
    /// `sudo`); REMOTE_BECOME_PASSWORD gives it without asking
    #[arg(long)]
    pub ask_become_pass: bool,
}

impl SessionArgs {
    /// How connections are opened: the command line's connect timeout wins over `ConnectTimeout`.
    pub fn connect_options(&self) -> remote_ssh::ConnectOptions {
        let default = remote_ssh::ConnectOptions::default();
        match self.connect_timeout {
            Some(timeout) => remote_ssh::ConnectOptions { timeout, timeout_is_explicit: true, ..default },
            None => default,
        }
    }
}

/// `--retry-delay`: a duration of at most a minute, the longest wait between two tries.
fn retry_delay(text: &str) -> Result<Duration, String> {
    let delay = humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a duration ({e}); write e.g. 500ms or 5s"))?;
    if delay > Duration::from_secs(60) {
        return Err(format!("`{text}` is longer than a minute, the longest wait between two tries"));
    }
    Ok(delay)
}

/// A size like `256MiB`, `10M`, `500k` or `1024` (bytes); K, M and G count in 1024s, with or without
/// `iB`/`B`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let digits = text.trim().trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &text.trim()[digits.len()..];
    let number: f64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write e.g. 256MiB, 10M or 500k"))?;
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit `{other}` in `{text}`; use k, M or G")),
    };
    let bytes = number * scale as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes <= usize::MAX as f64) {
        return Err(format!("`{text}` is not a usable size; give at least one byte"));
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        let check = |text: &str, expected: Result<usize, &str>| {
            assert_eq!(parse_size(text), expected.map_err(str::to_string), "{text}")
        };
        check("256MiB", Ok(256 << 20));
        check("10M", Ok(10 << 20));
        check("500k", Ok(500 << 10));
        check("1G", Ok(1 << 30));
        check("1.5k", Ok(1536));
        check("1024", Ok(1024));
        check("12 MB", Ok(12 << 20));
        check("ten", Err("`ten` is not a size; write e.g. 256MiB, 10M or 500k"));
        check("5T", Err("unknown size unit `t` in `5T`; use k, M or G"));
        check("0", Err("`0` is not a usable size; give at least one byte"));
    }
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The pipeline, e.g. 'ls(sandbox, "/", "-la") | pretty' (quote it for your shell)
    pub expression: String,
    #[command(flatten)]
    pub session: SessionArgs,
    #[command(flatten)]
    pub ci: CiArgs,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// A pipeline exported by ops (see `remote list`)
    pub pipeline: String,
    /// Group of hosts from the inventory
    pub group: String,
    #[command(flatten)]
    pub session: SessionArgs,
    #[command(flatten)]
    pub ci: CiArgs,
}

#[derive(Args, Debug)]
pub struct LiveArgs {
    /// Run the lines of FILE in order instead of reading the terminal; exit 0 when every line was accepted
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// Lines run at start and on `go` (e.g. `watch up every 5s uptime(web)`) [default: .remote/init beside
    /// the inventory, when it exists]
    #[arg(long, value_name = "FILE")]
    pub init: Option<PathBuf>,
    /// Do not build ops on save; only reload when its library file changes (run
    /// `cargo watch -x 'rustc -p ops --lib --crate-type cdylib'`, bacon or watchexec yourself)
    #[arg(long)]
    pub no_build: bool,
    /// Serve the stock hub here: viewers at /stream, Prometheus at /metrics. A non-loopback address serves
    /// every stock to anyone who can reach it, without authentication [default: $REMOTE_HUB, else
    /// 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub hub: Option<std::net::SocketAddr>,
    /// Serve no hub: `publish` still reaches the history
    #[arg(long, conflicts_with = "hub")]
    pub no_hub: bool,
    /// Keep runs and samples in the history (`.remote/history.sqlite` beside the inventory) this long
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = positive_duration)]
    pub keep_history: std::time::Duration,
    /// Keep the history under this size: past it, the oldest runs and samples go first (e.g. 512MiB, 4GiB)
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    pub history_max_size: usize,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Group of hosts from the inventory
    pub group: String,
    #[command(flatten)]
    pub session: SessionArgs,
    #[command(flatten)]
    pub ci: CiArgs,
    /// Print each host's output line by line as it arrives, prefixed with the host, then the run summary
    #[arg(long)]
    pub stream: bool,
    /// The program and its arguments; each is quoted, so no value is read as shell code
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub action: SandboxAction,
}

#[derive(Subcommand, Debug)]
pub enum SandboxAction {
    /// Start N sshd hosts (default 3) and write group `sandbox` into the inventory
    Up {
        /// How many hosts
        #[arg(default_value_t = 3)]
        count: usize,
        /// Account the hosts let in [default: the current user]
        #[arg(long)]
        user: Option<String>,
        /// First loopback address; the hosts count up from it (must be in 127.0.0.0/8)
        #[arg(long, value_name = "IP", env = "REMOTE_SANDBOX_FIRST", default_value = "127.0.1.1")]
        first: std::net::Ipv4Addr,
    },
    /// Stop the sandbox's sshd hosts
    Down,
}

/// A duration above zero: `0s` as a timeout or deadline would stop every command before it could answer.
fn positive_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(duration) if duration.is_zero() => {
            Err(format!("{text} is no time at all; give a duration above zero, e.g. 30s"))
        }
        Ok(duration) => Ok(duration),
        Err(err) => Err(err.to_string()),
    }
}
