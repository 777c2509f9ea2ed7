//! Metric benchmark: `cpu` on N real sshd hosts over warm connections, its wall time against the interval it
//! waits, beside `cpu_over` 200 ms, `ram` (no interval) and `exec "true"` (the floor of any warm command).
//!
//! Run: `cargo build --release -p bench && ./target/release/bench --metrics 20 --rounds 5`. The operations
//! are called from Rust in this process through the driver `remote live` gives pipelines (a `SessionWorld`
//! over one `SessionPool`), after one warm-up call has opened every connection. The rounds take the four
//! operations in turn, so a slow moment of the machine falls on all of them rather than on one; client CPU is
//! `getrusage` of this process around each call, per host.

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use remote_config::Inventory;
use remote_core::data::{Cpu, Ram};
use remote_core::pretty::View;
use remote_core::{Driver, HostResult, Hosts, Report, Run};
use remote_sandbox as sandbox;
use remote_ssh::pool::{ExecOptions, PoolConfig, SessionPool};
use remote_ssh::world::SessionWorld;

/// What `cpu` ran before its reads used shell built-ins: the same files and interval with `cat`, kept beside
/// it so the run shows what the forks cost (the output is not parsed, which costs no measurable wall time).
const CAT_READS: &str = "set -e\necho '@@ /proc/uptime'\ncat /proc/uptime\necho '@@ /proc/stat'\ncat /proc/stat\nsleep 1\n\
echo '@@ /proc/uptime'\ncat /proc/uptime\necho '@@ /proc/stat'\ncat /proc/stat";

/// The target for `cpu` on 20 warm hosts: wall time at most the interval plus this.
const TARGET_OVERHEAD_MS: f64 = 50.0;

/// One operation under measurement, and what it must have given every host.
struct Operation {
    name: &'static str,
    /// What the operation waits on the host between its two readings; 0 when it reads once.
    interval_ms: f64,
    call: fn(&Hosts) -> Run,
    /// Why a host that exited 0 still does not count, if it does not: a metric without its data would be
    /// measured as fast as a failure is.
    missing: fn(&HostResult) -> Option<&'static str>,
}

/// One operation's figures over all rounds.
struct Measured {
    operation: Operation,
    /// Wall time of each call, in seconds.
    seconds: Vec<f64>,
    /// This process's CPU seconds over all calls.
    cpu_seconds: f64,
    /// The slowest host's own time in each call, in seconds.
    slowest_host: Vec<f64>,
    /// The interval each host measured between its readings (`cpu` only), in milliseconds.
    host_intervals_ms: Vec<f64>,
}

fn operations() -> Vec<Operation> {
    let no_cpu = |r: &HostResult| r.data::<Cpu>().is_none().then_some("no `Cpu` data");
    vec![
        Operation {
            name: "cpu",
            interval_ms: 1000.0,
            call: |hs| remote_std::metrics::cpu(hs),
            missing: no_cpu,
        },
        Operation {
            name: "cpu_over \"200ms\"",
            interval_ms: 200.0,
            call: |hs| remote_std::metrics::cpu_over(hs, "200ms"),
            missing: no_cpu,
        },
        Operation {
            name: "`cpu`'s reads with `cat` (exec)",
            interval_ms: 1000.0,
            call: |hs| remote_std::operations::exec(hs, CAT_READS),
            missing: |_| None,
        },
        Operation {
            name: "ram",
            interval_ms: 0.0,
            call: |hs| remote_std::metrics::ram(hs),
            missing: |r| r.data::<Ram>().is_none().then_some("no `Ram` data"),
        },
        Operation {
            name: "exec \"true\" (floor)",
            interval_ms: 0.0,
            call: |hs| remote_std::operations::exec(hs, "true"),
            missing: |_| None,
        },
    ]
}

pub fn run(hosts: usize, rounds: usize, dir: &Path) {
    let user = crate::login_user();
    let addresses = sandbox::loopback_addresses(hosts, Ipv4Addr::new(127, 77, 1, 1), crate::bench_port());
    eprintln!("bench: starting {hosts} sshd hosts on {}… for user {user}", addresses[0]);
    let servers = crate::start_servers(dir, addresses, 1, &user);
    let inventory = crate::write_inventory(&servers, &[hosts], dir);
    let group = format!("b{hosts}");
    let specs =
        Inventory::load(&inventory).expect("bench inventory").group(&group).expect("group").hosts.clone();

    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let pool = SessionPool::new(PoolConfig::default());
    let world = SessionWorld::new(pool, runtime.handle().clone(), ExecOptions::default());
    let hs = Hosts::new("bench", specs, Driver::new(Arc::new(world), Arc::new(|_: &Report, _: View| {})));
    // Warm means every connection is open before the first measured call, as at the live prompt after its
    // first command; the connect time is the fan-out benchmark's subject, not this one's.
    check("warm-up exec \"true\"", &remote_std::operations::exec(&hs, "true"), hosts, |_| None);

    let mut table: Vec<Measured> = operations()
        .into_iter()
        .map(|operation| Measured {
            operation,
            seconds: Vec::new(),
            cpu_seconds: 0.0,
            slowest_host: Vec::new(),
            host_intervals_ms: Vec::new(),
        })
        .collect();
    for round in 1..=rounds {
        for measured in &mut table {
            let op = &measured.operation;
            let (cpu_before, started) = (crate::own_cpu_seconds(), Instant::now());
            let run = (op.call)(&hs);
            let wall = started.elapsed().as_secs_f64();
            measured.cpu_seconds += crate::own_cpu_seconds() - cpu_before;
            check(op.name, &run, hosts, op.missing);
            measured.seconds.push(wall);
            measured
                .slowest_host
                .push(run.results().iter().map(|r| r.elapsed.as_secs_f64()).fold(0.0, f64::max));
            measured
                .host_intervals_ms
                .extend(run.results().iter().filter_map(|r| r.data::<Cpu>()).map(|c| c.interval_ms as f64));
            eprintln!("bench: round {round}: {:<24} {hosts:>4} hosts  {:.3}s", op.name, wall);
        }
    }
    report(&table, hosts, rounds, &user);
}

/// Stops the run at the first host that failed or gave no data: its time would not be the operation's.
fn check(name: &str, run: &Run, hosts: usize, missing: fn(&HostResult) -> Option<&'static str>) {
    assert_eq!(
        run.results().len(),
        hosts,
        "bench: {name} answered for {} of {hosts} hosts",
        run.results().len()
    );
    let bad: Vec<(&HostResult, String)> = run
        .results()
        .iter()
        .filter_map(|r| r.error_text().or_else(|| missing(r).map(str::to_string)).map(|why| (r, why)))
        .collect();
    if let Some((first, why)) = bad.first() {
        panic!(
            "bench: {name} failed on {} of {hosts} hosts, e.g. {}: {why}; the run is stopped rather than report its time",
            bad.len(),
            first.host
        );
    }
}

fn report(table: &[Measured], hosts: usize, rounds: usize, user: &str) {
    let command: Vec<String> = std::env::args().collect();
    println!(
        "\nMetric operations on {hosts} real sshd hosts on loopback, warm connections, login user `{user}`, {rounds} rounds\n"
    );
    println!("Command: `{}`\n", command.join(" "));
    println!(
        "| operation | hosts | interval | median wall | worst wall | overhead median | client CPU/host/call |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for m in table {
        let ms = m.operation.interval_ms;
        let interval = if ms == 0.0 {
            "—".to_string()
        } else if ms >= 1000.0 {
            format!("{} s", ms / 1000.0)
        } else {
            format!("{ms} ms")
        };
        println!(
            "| {} | {hosts} | {interval} | {:.3} s | {:.3} s | {:.1} ms | {:.3} ms |",
            m.operation.name,
            crate::median(&m.seconds),
            worst(&m.seconds),
            overhead_ms(m),
            m.cpu_seconds * 1e3 / (rounds * hosts) as f64
        );
    }
    println!();
    println!(
        "- failures: 0 of {hosts} hosts in every call (the run stops at the first failure or missing data)"
    );
    for m in table {
        println!(
            "- {}: slowest host's own time median {:.1} ms, worst overhead {:.1} ms",
            m.operation.name,
            crate::median(&m.slowest_host) * 1e3,
            worst(&m.seconds) * 1e3 - m.operation.interval_ms
        );
    }
    let of = |name: &str| table.iter().find(|m| m.operation.name == name);
    if let (Some(cpu), Some(floor)) = (of("cpu"), of("exec \"true\" (floor)")) {
        let overhead = overhead_ms(cpu);
        let verdict = if overhead <= TARGET_OVERHEAD_MS { "met" } else { "not met" };
        println!(
            "- `cpu` overhead {overhead:.1} ms against the target of ≤ {TARGET_OVERHEAD_MS:.0} ms: {verdict}; the floor \
             (`exec \"true\"`) is {:.1} ms of it",
            crate::median(&floor.seconds) * 1e3
        );
        if !cpu.host_intervals_ms.is_empty() {
            println!(
                "- `cpu`: the hosts' own interval between readings (`/proc/uptime`, 10 ms steps) median {:.0} ms, worst {:.0} ms",
                crate::median(&cpu.host_intervals_ms),
                worst(&cpu.host_intervals_ms)
            );
        }
    }
}

/// Median wall time less the interval the operation waits, in milliseconds.
fn overhead_ms(m: &Measured) -> f64 {
    crate::median(&m.seconds) * 1e3 - m.operation.interval_ms
}

fn worst(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}
