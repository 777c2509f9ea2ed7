//! Fan-out benchmark: N real sshd hosts on loopback, `uptime` on all of them, cold and warm, against other
//! tools.
//!
//! Run: `cargo build --release -p remote -p bench && ./target/release/bench [--hosts 20,200] [--rounds 5]`,
//! and for one controller against a big fleet (servers on 16 loopback addresses each): `bench --fleet 1000
//! --rounds 3`; for the live loop (save of an `ops` edit → first call running it, see `reload`): `bench
//! --reload 10`; for the metric operations (`cpu` on warm connections against its interval, see `metrics`):
//! `bench --metrics 20 --rounds 5`; for the stock hub (5 viewers, 1,000 samples a second, one viewer stalled,
//! see `hub`): `bench --hub 60`; for the viewer's frame time (20 hosts × 6 stocks × a day of 5-second
//! samples, see `viewer`): `bench --viewer 60`; for the static CI binary's size and start-up (`remote list`,
//! see `startup`): `bench --startup 200`; for the history under a fleet's samples (cap, prune pauses, bytes
//! per sample, see `history`): `bench --history 24`; for the first build a newcomer waits for (`cargo build -p
//! remote` cold, at a base revision and at HEAD, see `first_build`): `bench --first-build BASE_REV`; for the
//! grouped summary's client CPU (1,000 hosts × 100 lines, see `grouping`): `bench --grouping 1000`. Every
//! figure comes from one run on one machine, so the
//! ratios compare like with like.

use std::io::Read;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use remote_config::Inventory;
use remote_config::local::current_user;
use remote_core::HostSpec;
use remote_sandbox::{self as sandbox, Sandbox, SandboxConfig};
use remote_ssh::pool::{ExecOptions, PoolConfig, SessionPool};

mod first_build;
mod grouping;
mod history;
mod hub;
mod metrics;
mod reload;
mod startup;
mod viewer;

/// The system allocator, counting the bytes live on the heap, so that the fleet run can tell what connections
/// cost in allocations from what the process's resident memory shows (pages, fragmentation, locked crypto
/// buffers).
struct CountingAllocator;

static HEAP_LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is updated beside it.
unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        HEAP_LIVE.fetch_add(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        HEAP_LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        HEAP_LIVE.fetch_add(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        HEAP_LIVE.fetch_add(new_size, std::sync::atomic::Ordering::Relaxed);
        HEAP_LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Bytes live on the heap now.
fn heap_live() -> usize {
    HEAP_LIVE.load(std::sync::atomic::Ordering::Relaxed)
}

/// The account the benchmark hosts let in when we run as root: root's shell profile on these machines
/// costs ~120 ms a command, which would measure the profile, not the tools.
const BENCH_USER: &str = "remote-bench";

struct Options {
    sizes: Vec<usize>,
    rounds: usize,
    /// Hosts of the one-controller fleet run; when set, only that run is made.
    fleet: Option<usize>,
    /// Another `remote` binary (e.g. built from an earlier commit) measured beside this one in the same run.
    baseline: Option<PathBuf>,
    /// Edits of the edit → live run; when set, only that run is made.
    reload: Option<usize>,
    /// Hosts of the metric operations run; when set, only that run is made.
    metrics: Option<usize>,
    /// Seconds of each phase of the stock hub run; when set, only that run is made.
    hub: Option<u64>,
    /// Frames drawn per case of the viewer run; when set, only that run is made.
    viewer: Option<usize>,
    /// Starts of each program of the start-up run; when set, only that run is made.
    startup: Option<usize>,
    /// Simulated hours of the history run, and its cap; when set, only that run is made.
    history: Option<f64>,
    history_cap: u64,
    /// The base revision of `--first-build`.
    first_build: Option<String>,
    /// Hosts of the grouped-summary run; when set, only that run is made.
    grouping: Option<usize>,
}

fn options() -> Options {
    let mut options = Options {
        sizes: vec![20, 200],
        rounds: 5,
        fleet: None,
        baseline: None,
        reload: None,
        metrics: None,
        hub: None,
        viewer: None,
        startup: None,
        history: None,
        history_cap: 1 << 30,
        first_build: None,
        grouping: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        match (word.as_str(), words.next()) {
            ("--hosts", Some(list)) => {
                options.sizes = list.split(',').filter_map(|n| n.trim().parse().ok()).collect()
            }
            ("--rounds", Some(n)) => options.rounds = n.parse().unwrap_or(5).max(1),
            ("--fleet", Some(n)) => options.fleet = n.parse().ok(),
            ("--baseline", Some(path)) => options.baseline = Some(PathBuf::from(path)),
            ("--reload", Some(n)) => options.reload = n.parse().ok(),
            ("--metrics", Some(n)) => options.metrics = n.parse().ok(),
            ("--hub", Some(n)) => options.hub = n.parse().ok().map(|seconds: u64| seconds.max(1)),
            ("--viewer", Some(n)) => options.viewer = n.parse().ok().map(|frames: usize| frames.max(1)),
            ("--startup", Some(n)) => options.startup = n.parse().ok().map(|runs: usize| runs.max(1)),
            ("--history", Some(hours)) => options.history = hours.parse().ok().filter(|h: &f64| *h > 0.0),
            ("--history-cap", Some(size)) => options.history_cap = parse_mib(size),
            ("--first-build", Some(rev)) => options.first_build = Some(rev.clone()),
            ("--grouping", Some(n)) => options.grouping = n.parse().ok().map(|hosts: usize| hosts.max(1)),
            _ => {
                eprintln!(
                    "usage: bench [--hosts 20,200] [--rounds 5] [--baseline OTHER_REMOTE] | bench --fleet 1000 [--rounds 3] | bench --reload 10 | bench --metrics 20 [--rounds 5] | bench --hub 60 | bench --viewer 60 | bench --startup 200 | bench --history 24 [--history-cap 1024MiB] | bench --first-build BASE_REV | bench --grouping 1000 [--rounds 5]"
                );
                std::process::exit(2);
            }
        }
    }
    options
}

/// `256MiB` or `1GiB` (or a plain number of MiB) in bytes.
fn parse_mib(text: &str) -> u64 {
    let (number, unit) = match text.strip_suffix("GiB") {
        Some(number) => (number, 1u64 << 30),
        None => (text.strip_suffix("MiB").unwrap_or(text), 1 << 20),
    };
    number
        .trim()
        .parse::<u64>()
        .map(|n| n * unit)
        .unwrap_or_else(|_| panic!("--history-cap {text}: give e.g. 256MiB"))
}

/// One measured series.
struct Series {
    hosts: usize,
    tool: String,
    seconds: Vec<f64>,
    cpu_per_host_ms: f64,
    /// Largest resident set of one run's process (0 when measured in-process).
    peak_rss_kb: i64,
}

impl Series {
    fn median(&self) -> f64 {
        let mut sorted = self.seconds.clone();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    }
}

/// CPU seconds (user + system) this process has used.
fn own_cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct we hand it; zeroed is a valid initial value.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    timeval_seconds(usage.ru_utime) + timeval_seconds(usage.ru_stime)
}

fn main() {
    let options = options();
    if let Some(hosts) = options.fleet {
        fleet(hosts, options.rounds);
        return;
    }
    if let Some(hosts) = options.grouping {
        grouping::run(hosts, options.rounds);
        return;
    }
    if let Some(base) = &options.first_build {
        first_build::run(base);
        return;
    }
    if let Some(frames) = options.viewer {
        viewer::run(frames);
        return;
    }
    if let Some(runs) = options.startup {
        startup::run(runs);
        return;
    }
    if let Some(seconds) = options.hub {
        hub::run(seconds);
        return;
    }
    let work = tempfile::Builder::new().prefix("remote-bench-").tempdir().expect("temporary folder");
    if let Some(hours) = options.history {
        history::run(hours, options.history_cap, work.path());
        return;
    }
    if let Some(edits) = options.reload {
        reload::run(edits, work.path());
        return;
    }
    if let Some(hosts) = options.metrics {
        metrics::run(hosts, options.rounds, work.path());
        return;
    }
    let max_hosts = options.sizes.iter().copied().max().unwrap_or(20);
    let user = login_user();
    let port = bench_port();
    let addresses = sandbox::loopback_addresses(max_hosts, Ipv4Addr::new(127, 77, 1, 1), port);
    eprintln!("bench: starting {max_hosts} sshd hosts on {}… for user {user}", addresses[0]);
    let hosts = start_servers(work.path(), addresses, 1, &user);

    let inventory = write_inventory(&hosts, &options.sizes, work.path());
    let remote = std::env::current_exe().expect("own path").with_file_name("remote");
    assert!(
        remote.exists(),
        "{} is missing; build it with `cargo build --release -p remote`",
        remote.display()
    );

    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut table = Vec::new();
    for &n in &options.sizes {
        let group = format!("b{n}");
        let specs =
            Inventory::load(&inventory).expect("bench inventory").group(&group).expect("group").hosts.clone();
        table.push(measure_command(n, "remote exec (cold, CLI)", options.rounds, || {
            let mut command = Command::new(&remote);
            command.args([
                "--inventory",
                inventory.to_str().unwrap_or_default(),
                "exec",
                &group,
                "--",
                "uptime",
            ]);
            command
        }));
        // Ten lines at the live prompt: one cold fan-out, then nine over the connections kept open.
        let script = work.path().join(format!("live-{n}.remote"));
        std::fs::write(&script, format!("uptime({group})\n").repeat(10)).expect("live script");
        let live = |binary: PathBuf| {
            let (inventory, script) = (inventory.clone(), script.clone());
            move || {
                let mut command = Command::new(&binary);
                command.arg("--inventory").arg(&inventory).arg("live").arg("--script").arg(&script);
                command
            }
        };
        table.push(measure_command(n, "remote live, 10 lines (CLI)", options.rounds, live(remote.clone())));
        if let Some(baseline) = &options.baseline {
            table.push(measure_command(n, "remote exec (cold, CLI, baseline)", options.rounds, || {
                let mut command = Command::new(baseline);
                command.args([
                    "--inventory",
                    inventory.to_str().unwrap_or_default(),
                    "exec",
                    &group,
                    "--",
                    "uptime",
                ]);
                command
            }));
            table.push(measure_command(
                n,
                "remote live, 10 lines (CLI, baseline)",
                options.rounds,
                live(baseline.clone()),
            ));
        }
        table.push(measure_pool(
            n,
            "remote pool (cold, in-process)",
            options.rounds,
            &runtime,
            &specs,
            false,
        ));
        table.push(measure_pool(n, "remote pool (warm, in-process)", options.rounds, &runtime, &specs, true));
        for (tool, build) in other_tools(&hosts, n, work.path()) {
            table.push(measure_command(n, tool, options.rounds, build));
        }
    }
    report(&table, options.rounds, &user);
}

/// The port benchmark hosts listen on: 22 when we may bind it, as on a real fleet.
fn bench_port() -> u16 {
    if sandbox::is_root() { 22 } else { 2222 }
}

/// Starts sshd servers in `dir` for `addresses`, `per_server` addresses each, letting `user` in.
fn start_servers(dir: &Path, addresses: Vec<std::net::SocketAddr>, per_server: usize, user: &str) -> Sandbox {
    let started = Instant::now();
    let config = SandboxConfig {
        dir: dir.to_path_buf(),
        addresses,
        addresses_per_server: per_server,
        login_user: user.to_string(),
        detach: false,
    };
    let sandbox = Sandbox::start(&config).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "bench: {} sshd servers up in {:.1}s",
        sandbox.servers().len(),
        started.elapsed().as_secs_f64()
    );
    sandbox
}

/// The login user for the hosts: a plain account without shell rc files.
fn login_user() -> String {
    if !sandbox::is_root() {
        return current_user();
    }
    let exists = Command::new("id").arg(BENCH_USER).output().is_ok_and(|o| o.status.success());
    if !exists {
        eprintln!("bench: creating plain login user `{BENCH_USER}` (shell /bin/sh, no rc files)");
        let status = Command::new("useradd")
            .args(["--create-home", "--shell", "/bin/sh", BENCH_USER])
            .status()
            .expect("run useradd");
        assert!(status.success(), "useradd {BENCH_USER} failed");
    }
    // `useradd` locks the account (`!`), which sshd without PAM refuses even for key logins; `*` unlocks it
    // without a password.
    let _ = Command::new("usermod").args(["-p", "*", BENCH_USER]).status();
    BENCH_USER.to_string()
}

fn write_inventory(hosts: &Sandbox, sizes: &[usize], dir: &Path) -> PathBuf {
    let mut text = String::new();
    let entries = hosts.host_entries();
    for &n in sizes {
        let list: Vec<String> = entries[..n].iter().map(|h| format!("\"{h}\"")).collect();
        text.push_str(&format!(
            "[groups.b{n}]\nhosts = [{}]\nuser = \"{}\"\nkey = \"{}\"\nknown_hosts = \"{}\"\n\n",
            list.join(", "),
            hosts.login_user(),
            hosts.client_key().display(),
            hosts.known_hosts().display()
        ));
    }
    let path = dir.join("bench.toml");
    std::fs::write(&path, text).expect("write bench inventory");
    path
}

/// Runs the command `rounds` times; CPU and peak RSS come from `wait4` on each run's own process tree.
// The child is reaped by `wait4` (which `Child::wait` cannot do: it drops the resource usage).
#[allow(clippy::zombie_processes)]
fn measure_command(hosts: usize, tool: &str, rounds: usize, mut build: impl FnMut() -> Command) -> Series {
    let mut seconds = Vec::with_capacity(rounds);
    let (mut cpu, mut peak_rss_kb) = (0.0, 0);
    for _ in 0..rounds {
        let started = Instant::now();
        let mut child = build()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{tool}: {e}"));
        // Drain both pipes on threads so a chatty tool never blocks on a full pipe.
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut text = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut text);
                }
                text
            })
        };
        let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
        let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
        let (status, usage) = wait4(child.id());
        seconds.push(started.elapsed().as_secs_f64());
        let (stdout, stderr) = (stdout.join().unwrap_or_default(), stderr.join().unwrap_or_default());
        cpu += timeval_seconds(usage.ru_utime) + timeval_seconds(usage.ru_stime);
        peak_rss_kb = peak_rss_kb.max(usage.ru_maxrss);
        // A `remote` run that failed fast would look fast: its figures are not figures. Other tools only
        // warn, as before, since their own quirks are not ours to stop the run for.
        if status != 0 {
            eprintln!(
                "bench: {tool} failed on {hosts} hosts (wait status {status}):\n{}\n{}",
                tail(&stdout),
                tail(&stderr)
            );
            assert!(
                !tool.starts_with("remote"),
                "{tool} failed: the run is stopped rather than report its time"
            );
        }
    }
    eprintln!(
        "bench: {tool:<32} {hosts:>4} hosts  median {:.3}s  peak RSS {:.1} MB",
        median(&seconds),
        peak_rss_kb as f64 / 1024.0
    );
    Series {
        hosts,
        tool: tool.to_string(),
        seconds,
        cpu_per_host_ms: cpu * 1e3 / (rounds * hosts) as f64,
        peak_rss_kb,
    }
}

/// Waits for `pid` and returns its wait status and the resources it and its reaped descendants used.
fn wait4(pid: u32) -> (i32, libc::rusage) {
    // SAFETY: wait4 fills the status and rusage we hand it; zeroed is a valid initial value.
    unsafe {
        let mut status = 0;
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage);
        (status, usage)
    }
}

fn timeval_seconds(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

fn measure_pool(
    hosts: usize,
    tool: &str,
    rounds: usize,
    runtime: &tokio::runtime::Runtime,
    specs: &[HostSpec],
    warm: bool,
) -> Series {
    let shared = SessionPool::new(PoolConfig::default());
    if warm {
        let results = runtime.block_on(shared.exec(specs, "uptime", &ExecOptions::default()));
        assert!(results.iter().all(|r| r.ok()), "warm-up failed: {:?}", results.iter().find(|r| !r.ok()));
    }
    let mut seconds = Vec::with_capacity(rounds);
    let cpu_before = own_cpu_seconds();
    for _ in 0..rounds {
        let pool = if warm { shared.clone() } else { SessionPool::new(PoolConfig::default()) };
        let started = Instant::now();
        let results = runtime.block_on(pool.exec(specs, "uptime", &ExecOptions::default()));
        seconds.push(started.elapsed().as_secs_f64());
        assert!(results.iter().all(|r| r.ok()), "{tool}: {:?}", results.iter().find(|r| !r.ok()));
        if !warm {
            runtime.block_on(pool.close_all());
        }
    }
    let cpu = own_cpu_seconds() - cpu_before;
    eprintln!("bench: {tool:<32} {hosts:>4} hosts  median {:.3}s", median(&seconds));
    Series {
        hosts,
        tool: tool.to_string(),
        seconds,
        cpu_per_host_ms: cpu * 1e3 / (rounds * hosts) as f64,
        peak_rss_kb: 0,
    }
}

type CommandBuilder = Box<dyn FnMut() -> Command>;

/// The same work with pyinfra, parallel-ssh and Ansible, for each that is installed.
fn other_tools(hosts: &Sandbox, n: usize, dir: &Path) -> Vec<(&'static str, CommandBuilder)> {
    let servers = &hosts.servers()[..n];
    let (user, key, known_hosts) = (hosts.login_user().to_string(), hosts.client_key(), hosts.known_hosts());
    let ssh_options = format!(
        "-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes -o BatchMode=yes",
        known_hosts.display()
    );
    let mut tools: Vec<(&'static str, CommandBuilder)> = Vec::new();

    if let Some(pssh) = find(&["parallel-ssh", "pssh"]) {
        let list = dir.join(format!("pssh-{n}.txt"));
        let lines: Vec<String> =
            servers.iter().map(|s| format!("{}:{}", s.address.ip(), s.address.port())).collect();
        std::fs::write(&list, lines.join("\n") + "\n").expect("pssh host list");
        let extra = format!("-i {} {ssh_options}", key.display());
        let user = user.clone();
        tools.push((
            "parallel-ssh (cold)",
            Box::new(move || {
                let mut command = Command::new(&pssh);
                command.arg("-h").arg(&list).args([
                    "-l",
                    &user,
                    "-p",
                    &n.to_string(),
                    "-t",
                    "60",
                    "-x",
                    &extra,
                    "uptime",
                ]);
                command
            }),
        ));
    }
    if let Some(pyinfra) = find(&["pyinfra"]) {
        let inventory = dir.join(format!("pyinfra_{n}.py"));
        let entries: Vec<String> = servers
            .iter()
            .map(|s| {
                format!(
                    "    (\"{}\", {{\"ssh_port\": {}, \"ssh_user\": \"{user}\", \"ssh_key\": \"{}\", \"ssh_known_hosts_file\": \"{}\", \"ssh_strict_host_key_checking\": \"yes\"}}),",
                    s.address.ip(),
                    s.address.port(),
                    key.display(),
                    known_hosts.display()
                )
            })
            .collect();
        std::fs::write(&inventory, format!("hosts = [\n{}\n]\n", entries.join("\n")))
            .expect("pyinfra inventory");
        tools.push((
            "pyinfra (cold)",
            Box::new(move || {
                let mut command = Command::new(&pyinfra);
                command
                    .arg("-y")
                    .args(["--parallel", &n.to_string()])
                    .arg(&inventory)
                    .args(["exec", "--", "uptime"]);
                command
            }),
        ));
    }
    if let Some(ansible) = find(&["ansible"]) {
        let inventory = dir.join(format!("ansible_{n}.ini"));
        let mut text = String::from("[bench]\n");
        for (i, s) in servers.iter().enumerate() {
            text.push_str(&format!(
                "h{i} ansible_host={} ansible_port={}\n",
                s.address.ip(),
                s.address.port()
            ));
        }
        text.push_str(&format!(
            "[bench:vars]\nansible_user={user}\nansible_ssh_private_key_file={}\nansible_ssh_common_args='{ssh_options}'\n",
            key.display()
        ));
        std::fs::write(&inventory, text).expect("ansible inventory");
        tools.push((
            "ansible -m raw (cold)",
            Box::new(move || {
                let mut command = Command::new(&ansible);
                command.args(["bench", "-i"]).arg(&inventory).args([
                    "-m",
                    "raw",
                    "-a",
                    "uptime",
                    "-f",
                    &n.to_string(),
                ]);
                // No ControlPersist master may survive between rounds, or later rounds would be warm.
                command
                    .env("ANSIBLE_SSH_ARGS", "-o ControlMaster=no")
                    .env("ANSIBLE_HOST_KEY_CHECKING", "True");
                command
            }),
        ));
    }
    tools
}

fn find(names: &[&str]) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    names.iter().find_map(|name| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()))
}

fn median(seconds: &[f64]) -> f64 {
    let mut sorted = seconds.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(8)..].join("\n")
}

fn report(table: &[Series], rounds: usize, user: &str) {
    println!("\n`uptime` on N real sshd hosts on loopback, login user `{user}`, median of {rounds} rounds\n");
    println!("| hosts | tool | median | min | client CPU per host | client peak RSS |");
    println!("|---:|---|---:|---:|---:|---:|");
    for series in table {
        let min = series.seconds.iter().copied().fold(f64::INFINITY, f64::min);
        let rss = if series.peak_rss_kb > 0 {
            format!("{:.1} MB", series.peak_rss_kb as f64 / 1024.0)
        } else {
            "—".into()
        };
        println!(
            "| {} | {} | {:.3} s | {:.3} s | {:.2} ms | {rss} |",
            series.hosts,
            series.tool,
            series.median(),
            min,
            series.cpu_per_host_ms
        );
    }
    println!();
    let sizes: Vec<usize> = {
        let mut sizes: Vec<usize> = table.iter().map(|s| s.hosts).collect();
        sizes.dedup();
        sizes
    };
    for n in sizes {
        let of = |tool: &str| table.iter().find(|s| s.hosts == n && s.tool == tool).map(Series::median);
        let Some(cold) = of("remote exec (cold, CLI)") else { continue };
        if let Some(baseline) = of("remote exec (cold, CLI, baseline)") {
            println!(
                "- {n} hosts: the baseline binary's cold `remote exec` takes {:.2}× as long as this build's",
                baseline / cold
            );
        }
        if let (Some(live), Some(baseline)) =
            (of("remote live, 10 lines (CLI)"), of("remote live, 10 lines (CLI, baseline)"))
        {
            println!(
                "- {n} hosts: the baseline binary's 10 live lines take {:.2}× as long as this build's",
                baseline / live
            );
        }
        for other in table.iter().filter(|s| s.hosts == n && !s.tool.starts_with("remote")) {
            println!(
                "- {n} hosts: {} takes {:.1}× as long as `remote exec` (cold)",
                other.tool,
                other.median() / cold
            );
        }
        if let Some(warm) = of("remote pool (warm, in-process)") {
            println!("- {n} hosts: warm sessions are {:.1}× faster than a cold `remote exec`", cold / warm);
        }
    }
}

/// Resident memory of this process now, in KiB (`VmRSS`).
fn own_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// One controller against `hosts` hosts: sshd servers on 16 loopback addresses each (sshd's limit), every
/// host a distinct address with strict host-key checking. Reports wall time, the client's CPU per cold
/// connection and per warm command (getrusage of this process), the memory each open connection costs (VmRSS
/// with every connection open, less before), and the CLI's own figures from a cold `remote exec`.
fn fleet(hosts: usize, rounds: usize) {
    let user = login_user();
    let work = tempfile::Builder::new().prefix("remote-fleet-").tempdir().expect("temporary folder");
    let port = bench_port();
    let addresses = sandbox::loopback_addresses(hosts, Ipv4Addr::new(127, 78, 1, 1), port);
    eprintln!("bench: starting {} sshd servers for {hosts} hosts from {}…", hosts.div_ceil(16), addresses[0]);
    let sandbox = start_servers(work.path(), addresses, 16, &user);
    let inventory = write_inventory(&sandbox, &[hosts], work.path());
    let specs = Inventory::load(&inventory)
        .expect("fleet inventory")
        .group(&format!("b{hosts}"))
        .expect("group")
        .hosts
        .clone();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let check = |results: &[remote_core::HostResult]| {
        let failed: Vec<_> = results.iter().filter(|r| !r.ok()).collect();
        assert!(failed.is_empty(), "{} of {hosts} hosts failed, e.g. {:?}", failed.len(), failed.first());
    };

    // Warm first, while this process has allocated nothing for connections yet: one pool whose connections
    // stay open; memory is read before and with all of them open.
    let pool = SessionPool::new(PoolConfig::default());
    let (rss_before, heap_before) = (own_rss_kib(), heap_live());
    check(&runtime.block_on(pool.exec(&specs, "true", &ExecOptions::default())));
    let (rss_open, heap_open) = (own_rss_kib(), heap_live());
    let (mut warm_seconds, warm_cpu_before) = (Vec::new(), own_cpu_seconds());
    for _ in 0..rounds {
        let round = Instant::now();
        let results = runtime.block_on(pool.exec(&specs, "uptime", &ExecOptions::default()));
        warm_seconds.push(round.elapsed().as_secs_f64());
        check(&results);
    }
    let warm_cpu_ms = (own_cpu_seconds() - warm_cpu_before) * 1e3 / (rounds * hosts) as f64;
    let open = pool.open_connections();
    let rss_per_connection_kib = rss_open.saturating_sub(rss_before) as f64 / open.max(1) as f64;
    let heap_per_connection_kib = heap_open.saturating_sub(heap_before) as f64 / 1024.0 / open.max(1) as f64;
    runtime.block_on(pool.close_all());

    // Cold: a new pool per round, so every round opens every connection.
    let (mut cold_seconds, cold_cpu_before) = (Vec::new(), own_cpu_seconds());
    for _ in 0..rounds {
        let pool = SessionPool::new(PoolConfig::default());
        let round = Instant::now();
        let results = runtime.block_on(pool.exec(&specs, "uptime", &ExecOptions::default()));
        cold_seconds.push(round.elapsed().as_secs_f64());
        check(&results);
        runtime.block_on(pool.close_all());
    }
    let cold_cpu_ms = (own_cpu_seconds() - cold_cpu_before) * 1e3 / (rounds * hosts) as f64;

    let remote = std::env::current_exe().expect("own path").with_file_name("remote");
    let group = format!("b{hosts}");
    let cli = measure_command(hosts, "remote exec (cold, CLI)", rounds, || {
        let mut command = Command::new(&remote);
        command.args(["--inventory", inventory.to_str().unwrap_or_default(), "exec", &group, "--", "uptime"]);
        command
    });

    println!(
        "\n`uptime` on {hosts} hosts ({} sshd servers × 16 loopback addresses), login user `{user}`, {rounds} rounds\n",
        sandbox.servers().len()
    );
    println!("| measure | median | min | client CPU per host |");
    println!("|---|---:|---:|---:|");
    let row = |name: &str, seconds: &[f64], cpu_ms: f64| {
        let min = seconds.iter().copied().fold(f64::INFINITY, f64::min);
        println!("| {name} | {:.3} s | {min:.3} s | {cpu_ms:.3} ms |", median(seconds));
    };
    row("cold, in-process (new connections every round)", &cold_seconds, cold_cpu_ms);
    row("warm, in-process (connections kept open)", &warm_seconds, warm_cpu_ms);
    row("`remote exec` (cold, CLI)", &cli.seconds, cli.cpu_per_host_ms);
    println!();
    println!("- failures: 0 of {hosts} hosts in every round (the run stops at the first failure)");
    println!(
        "- open connections after warm-up: {open}; resident memory {rss_before} KiB before, {rss_open} KiB with all open"
    );
    println!(
        "- memory per open connection: {rss_per_connection_kib:.1} KiB resident (target ≤ 60 KB), of which \
         {heap_per_connection_kib:.1} KiB are live heap allocations"
    );
    println!(
        "- client CPU per cold connection: {cold_cpu_ms:.3} ms (target ≤ 1.0 ms); per warm command: {warm_cpu_ms:.3} ms (target ≤ 0.15 ms)"
    );
    println!("- `remote exec` peak RSS with {hosts} connections: {:.1} MB", cli.peak_rss_kb as f64 / 1024.0);
}
