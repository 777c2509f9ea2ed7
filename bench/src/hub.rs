//! Stock hub benchmark (issue 17): 5 viewers and 1,000 samples a second, then the same with one viewer
//! stalled.
//!
//! Run: `cargo build --release -p bench && ./target/release/bench --hub 60`. One process: the `Hub` of
//! `remote live` served on 127.0.0.1 by a tokio runtime of 2 workers; 5 viewers, each on its own thread,
//! reading `GET /stream` over a plain `TcpStream` (chunked framing undone, server-sent events parsed, the
//! samples of every `batch` counted); a publisher thread calling `publish` 10 times a second with 100 samples
//! (20 hosts × 5 fields) on a fixed schedule, timing each call. Phase A runs with the 5 viewers; phase B with
//! the same 5 and a sixth that sends its request and never reads its socket. Publishing starts only once
//! every viewer is subscribed, and each phase ends with a marker batch every reading viewer must see, so a
//! viewer that keeps up must have counted every sample of the phase.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use remote_core::stocks::{Sample, Shape, now_ms};
use remote_host::hub::Hub;

/// The stock the samples are published to, and the one whose single batch ends a phase.
const STOCK: &str = "Bench";
const END_STOCK: &str = "Bench end";
const READING_VIEWERS: usize = 5;
const HOSTS: usize = 20;
const FIELDS: [&str; 5] = ["usr", "sys", "idle", "iowait", "steal"];
const BATCHES_PER_SECOND: u32 = 10;
const PHASES: [&str; 2] = ["A: 5 reading viewers", "B: 5 reading + 1 stalled"];
/// How long viewers may take to subscribe, and to read a phase's end marker once it is published.
const WAIT: Duration = Duration::from_secs(10);
/// A viewer gives up on a silent socket after this (the hub sends a keep-alive every 15 s).
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// What a viewer thread tells the publisher, with its number.
enum Heard {
    /// Its `history` event came: it is subscribed.
    Subscribed,
    /// A phase's end marker came, and what it received in that phase.
    PhaseEnd { phase: usize, tally: Tally },
    /// It stopped reading, and why.
    Failed(String),
}

/// What one viewer received in one phase.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    samples: u64,
    dropped_notices: u64,
    dropped_batches: u64,
}

/// One `publish` call, as the publisher thread lived it.
#[derive(Clone, Copy)]
struct Call {
    /// Wall time, in microseconds.
    micros: f64,
    /// The thread gave up its core inside the call (a voluntary context switch: it waited, on a lock say).
    waited: bool,
    /// The scheduler gave its core to another thread inside the call (an involuntary context switch): to the
    /// runtime's workers the call woke, to a viewer, or to anything else on the machine.
    preempted: bool,
}

/// One phase's figures.
struct Phase {
    samples: u64,
    /// Every `publish` call.
    calls: Vec<Call>,
    /// What each reading viewer received.
    reading: Vec<Tally>,
    /// From the end marker's publish to the last reading viewer having read it.
    drain: Duration,
}

/// Runs phase A and phase B for `seconds` each and prints their table.
pub fn run(seconds: u64) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let hub = Hub::default();
    let address = hub
        .serve(SocketAddr::from(([127, 0, 0, 1], 0)), runtime.handle())
        .expect("serve the hub on loopback");
    eprintln!("bench: hub on {address}, {READING_VIEWERS} viewers, {seconds} s a phase");
    let (tell, heard) = channel();
    let mut viewers = Vec::new();
    for id in 0..READING_VIEWERS {
        let stream = request_stream(address);
        let tell = tell.clone();
        viewers.push(std::thread::spawn(move || read_stream(stream, 0, id, tell)));
    }
    wait_subscribed(&heard, READING_VIEWERS);

    let mut phases = Vec::new();
    phases.push(run_phase(&hub, seconds, 0, &heard));
    let stalled = request_stream(address);
    // The response head is written after the hub subscribed this viewer; peeking at it leaves it unread.
    let mut head = [0; 12];
    let peeked = stalled.peek(&mut head).expect("the stalled viewer's response");
    assert!(head[..peeked].starts_with(b"HTTP/1.1 200"), "bench: the hub refused the stalled viewer");
    phases.push(run_phase(&hub, seconds, 1, &heard));

    // Read at last, the stalled viewer shows what the hub kept for it while it was stalled.
    let stalled_id = READING_VIEWERS;
    viewers.push(std::thread::spawn(move || read_stream(stalled, 1, stalled_id, tell)));
    let stalled_tally = wait_phase_end(&heard, 1, &[stalled_id], Duration::from_secs(120)).0[0];
    for viewer in viewers {
        let _ = viewer.join();
    }
    report(&phases, stalled_tally, seconds);
}

/// Publishes one phase on the publisher thread, then its end marker, and waits for every reading viewer to
/// read it.
fn run_phase(hub: &Hub, seconds: u64, phase: usize, heard: &Receiver<(usize, Heard)>) -> Phase {
    eprintln!("bench: phase {}", PHASES[phase]);
    let publisher = hub.clone();
    let thread = std::thread::Builder::new().name("publisher".into());
    let calls = thread.spawn(move || publish_for(&publisher, seconds)).expect("publisher thread").join();
    let calls = calls.expect("the publisher panicked");
    let marker = Sample {
        field: "phase".into(),
        host: "bench".into(),
        item: PHASES[phase].into(),
        at_ms: now_ms(),
        value: 0.0,
    };
    let ended = Instant::now();
    hub.publish(END_STOCK, Shape::default(), &[marker]);
    let ids: Vec<usize> = (0..READING_VIEWERS).collect();
    let (reading, last_done) = wait_phase_end(heard, phase, &ids, WAIT);
    let drain = last_done.duration_since(ended);
    Phase { samples: calls.len() as u64 * (HOSTS * FIELDS.len()) as u64, calls, reading, drain }
}

/// Publishes 100 samples `BATCHES_PER_SECOND` times a second for `seconds`, timing each call.
fn publish_for(hub: &Hub, seconds: u64) -> Vec<Call> {
    let period = Duration::from_secs(1) / BATCHES_PER_SECOND;
    let batches = seconds as u32 * BATCHES_PER_SECOND;
    let mut calls = Vec::with_capacity(batches as usize);
    let started = Instant::now();
    for n in 0..batches {
        // On a fixed schedule, so that a slow call does not lower the rate.
        if let Some(wait) = (started + period * n).checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let at_ms = now_ms();
        let samples: Vec<Sample> = (0..HOSTS)
            .flat_map(|host| {
                FIELDS.iter().enumerate().map(move |(f, field)| Sample {
                    field: field.to_string(),
                    host: format!("host-{host:02}"),
                    item: String::new(),
                    at_ms,
                    value: ((n as usize + host * 7 + f * 13) % 100) as f64,
                })
            })
            .collect();
        let switches = context_switches();
        let before = Instant::now();
        hub.publish(STOCK, Shape::default(), &samples);
        let micros = before.elapsed().as_secs_f64() * 1e6;
        let (voluntary, involuntary) = context_switches();
        calls.push(Call { micros, waited: voluntary > switches.0, preempted: involuntary > switches.1 });
    }
    calls
}

/// This thread's context switches so far: voluntary (it waited) and involuntary (it was preempted).
fn context_switches() -> (i64, i64) {
    // SAFETY: getrusage fills the struct we hand it; zeroed is a valid initial value.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
        usage
    };
    (usage.ru_nvcsw, usage.ru_nivcsw)
}

/// A viewer's connection: `GET /stream` sent, nothing read.
fn request_stream(address: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(address).expect("connect to the hub");
    stream.set_read_timeout(Some(READ_TIMEOUT)).expect("read timeout");
    write!(stream, "GET /stream HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n\r\n")
        .expect("send the request");
    stream
}

/// A viewer thread: reads `stream` from phase `first_phase` to the last and says what it heard on `tell`.
fn read_stream(stream: TcpStream, first_phase: usize, id: usize, tell: Sender<(usize, Heard)>) {
    if let Err(err) = read_events(stream, first_phase, |heard| {
        let _ = tell.send((id, heard));
    }) {
        let _ = tell.send((id, Heard::Failed(err.to_string())));
    }
}

fn read_events(stream: TcpStream, first_phase: usize, tell: impl Fn(Heard)) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut lines: Box<dyn BufRead> = if read_head(&mut reader)? {
        Box::new(BufReader::new(Chunked { inner: reader, left: 0 }))
    } else {
        Box::new(reader)
    };
    let (mut phase, mut tally) = (first_phase, Tally::default());
    let (mut line, mut event, mut data) = (String::new(), String::new(), String::new());
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the hub closed the stream"));
        }
        let text = line.trim_end_matches(['\r', '\n']);
        if let Some(name) = text.strip_prefix("event:") {
            event = name.trim_start().to_string();
        } else if let Some(more) = text.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(more.strip_prefix(' ').unwrap_or(more));
        } else if text.is_empty() {
            // A blank line ends an event; keep-alive comments (`:`) leave no event behind.
            match event.as_str() {
                "history" => tell(Heard::Subscribed),
                "batch" => {
                    let batch: serde_json::Value = serde_json::from_str(&data)?;
                    let samples = batch["samples"].as_array().map_or(0, Vec::len) as u64;
                    match batch["stock"].as_str() {
                        Some(STOCK) => tally.samples += samples,
                        Some(END_STOCK) => {
                            tell(Heard::PhaseEnd { phase, tally });
                            (phase, tally) = (phase + 1, Tally::default());
                            if phase == PHASES.len() {
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                }
                "dropped" => {
                    let notice: serde_json::Value = serde_json::from_str(&data)?;
                    tally.dropped_notices += 1;
                    tally.dropped_batches += notice["batches"].as_u64().unwrap_or(0);
                }
                _ => {}
            }
            event.clear();
            data.clear();
        }
    }
}

/// Reads the response head; whether the body is chunked.
fn read_head(reader: &mut impl BufRead) -> std::io::Result<bool> {
    let (mut line, mut chunked) = (String::new(), false);
    reader.read_line(&mut line)?;
    if !line.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(format!("the hub answered {:?}", line.trim_end())));
    }
    while line != "\r\n" {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the response head ended early",
            ));
        }
        let lower = line.to_ascii_lowercase();
        chunked |= lower.starts_with("transfer-encoding:") && lower.contains("chunked");
    }
    Ok(chunked)
}

/// The body of a `Transfer-Encoding: chunked` response without its framing.
struct Chunked<R> {
    inner: R,
    /// Bytes of the current chunk not read yet.
    left: usize,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            let mut size = String::new();
            // The line break that ends the previous chunk's data comes first.
            while size.trim().is_empty() {
                size.clear();
                if self.inner.read_line(&mut size)? == 0 {
                    return Ok(0);
                }
            }
            let hex = size.trim().split(';').next().unwrap_or_default();
            self.left = usize::from_str_radix(hex, 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {hex:?}")))?;
            if self.left == 0 {
                return Ok(0);
            }
        }
        let wanted = buf.len().min(self.left);
        let read = self.inner.read(&mut buf[..wanted])?;
        if read == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the stream ended inside a chunk",
            ));
        }
        self.left -= read;
        Ok(read)
    }
}

fn wait_subscribed(heard: &Receiver<(usize, Heard)>, viewers: usize) {
    let deadline = Instant::now() + WAIT;
    let mut subscribed = 0;
    while subscribed < viewers {
        match heard.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok((_, Heard::Subscribed)) => subscribed += 1,
            Ok((id, Heard::Failed(why))) => {
                panic!("bench: viewer {id} failed before publishing began: {why}")
            }
            Ok(_) => {}
            Err(_) => {
                panic!("bench: {subscribed} of {viewers} viewers got their `history` event within {WAIT:?}")
            }
        }
    }
}

/// Waits for each of `ids` to read the end of `phase`: what each received, and when the last one had it.
fn wait_phase_end(
    heard: &Receiver<(usize, Heard)>,
    phase: usize,
    ids: &[usize],
    wait: Duration,
) -> (Vec<Tally>, Instant) {
    let deadline = Instant::now() + wait;
    let mut tallies: Vec<Option<Tally>> = vec![None; ids.len()];
    while tallies.iter().any(Option::is_none) {
        match heard.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok((id, Heard::PhaseEnd { phase: ended, tally })) if ended == phase => {
                if let Some(slot) = ids.iter().position(|i| *i == id) {
                    tallies[slot] = Some(tally);
                }
            }
            Ok((id, Heard::Failed(why))) => {
                panic!("bench: viewer {id} failed in phase {}: {why}", PHASES[phase])
            }
            Ok(_) => {}
            Err(_) => {
                let missing: Vec<usize> =
                    ids.iter().zip(&tallies).filter(|(_, t)| t.is_none()).map(|(i, _)| *i).collect();
                panic!(
                    "bench: viewers {missing:?} did not read the end of phase {} within {wait:?}",
                    PHASES[phase]
                );
            }
        }
    }
    (tallies.into_iter().flatten().collect(), Instant::now())
}

/// The time at or below which a `p` share of `calls` took (nearest rank), in microseconds; 0 for no calls.
fn percentile(calls: &[Call], p: f64) -> f64 {
    let mut micros: Vec<f64> = calls.iter().map(|c| c.micros).collect();
    micros.sort_by(f64::total_cmp);
    let rank = ((p * micros.len() as f64).ceil() as usize).clamp(1, micros.len().max(1));
    micros.get(rank - 1).copied().unwrap_or(0.0)
}

fn report(phases: &[Phase], stalled: Tally, seconds: u64) {
    let command: Vec<String> = std::env::args().collect();
    println!(
        "\nStock hub: {} samples a second ({BATCHES_PER_SECOND} batches of {HOSTS} hosts × {} fields) for {seconds} s a \
         phase, {READING_VIEWERS} viewers reading `/stream` over HTTP on loopback\n",
        BATCHES_PER_SECOND as usize * HOSTS * FIELDS.len(),
        FIELDS.len()
    );
    println!("Command: `{}`\n", command.join(" "));
    println!(
        "| phase | samples published | received (fewest of 5 viewers) | lost (most of 5) | dropped notices (5 viewers) \
         | publish p50 | p99 | max | calls waited / preempted | last viewer done |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, phase) in PHASES.iter().zip(phases) {
        let fewest = phase.reading.iter().map(|t| t.samples).min().unwrap_or(0);
        let notices: u64 = phase.reading.iter().map(|t| t.dropped_notices).sum();
        let dropped: u64 = phase.reading.iter().map(|t| t.dropped_batches).sum();
        let us = |p: f64| percentile(&phase.calls, p);
        let waited = phase.calls.iter().filter(|c| c.waited).count();
        let preempted = phase.calls.iter().filter(|c| c.preempted).count();
        println!(
            "| {name} | {} | {fewest} | {} | {notices} ({dropped} batches) | {:.0} µs | {:.0} µs | {:.0} µs \
             | {waited} / {preempted} of {} | {:.1} ms |",
            phase.samples,
            phase.samples.saturating_sub(fewest),
            us(0.5),
            us(0.99),
            us(1.0),
            phase.calls.len(),
            phase.drain.as_secs_f64() * 1e3
        );
    }
    println!();
    if let [a, b] = phases {
        let ratio = |p: f64| percentile(&b.calls, p) / percentile(&a.calls, p);
        println!(
            "- publish latency B / A: p50 {:.2}, p99 {:.2}, max {:.2}",
            ratio(0.5),
            ratio(0.99),
            ratio(1.0)
        );
        println!(
            "- the stalled viewer, read once phase B was over: {} of {} samples, {} dropped notices ({} batches)",
            stalled.samples, b.samples, stalled.dropped_notices, stalled.dropped_batches
        );
    }
}
