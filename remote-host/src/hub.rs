//! The stock hub of `remote live`: what `publish` sends, kept for an hour in memory and served over HTTP, to
//! viewers as server-sent events (`GET /stream`: the recent history, then live batches) and to Prometheus
//! (`GET /metrics`: each series' latest value).
//!
//! Architecture invariant: publishing never waits for a reader. Live batches go through a bounded broadcast
//! channel; a viewer that falls behind loses the oldest batches and is told how many, while the publisher and
//! the other viewers go on.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::stream::{self, Stream};
use remote_core::stocks::{Sample, Shape, now_ms};
use remote_core::wire::{self, Batch, Dropped};
use serde::Serialize;
use tokio::sync::broadcast;

use crate::history::History;

mod connections;
mod host;

use connections::ConnectionLimits;

/// How long published samples stay in memory for viewers that connect later.
const KEEP_MS: i64 = 60 * 60 * 1000;
/// The most samples kept in memory, whatever their age, so a big fleet or a flood cannot exhaust it
/// (~100 bytes each: ~200 MB at most).
const KEEP_SAMPLES: usize = 2_000_000;
/// The host names of a `fleet` stock's extra lines.
const FLEET_MEAN: &str = "fleet mean";
const FLEET_MAX: &str = "fleet max";
/// Live batches a viewer may be behind before it loses the oldest.
const BACKLOG: usize = 1024;
/// Viewers served at once. Each new one is sent the last hour (up to ~200 MB of JSON at the sample cap), so a
/// client reconnecting in a loop, or many at once, must not be able to exhaust the host's memory.
const VIEWERS: usize = 32;

/// A series, as Prometheus names it: stock, field, host and item.
type SeriesKey = (String, String, String, String);
/// A series' latest point: when (milliseconds since the epoch) and its value.
type Point = (i64, f64);

/// The hub's state, shared by the publishers (pipelines) and the HTTP server.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    /// Where every sample is kept on disk, when there is a history.
    history: Option<Arc<History>>,
    /// The last hour's batches. A batch is added and sent to live viewers under this lock, and a new viewer
    /// subscribes and copies it under it too, so no batch reaches a viewer both ways, or neither.
    recent: Mutex<Recent>,
    latest: Mutex<BTreeMap<SeriesKey, Point>>,
    /// The last readings of each series a `sliding` stock averages over.
    windows: Mutex<HashMap<SeriesKey, (i64, VecDeque<f64>)>>,
    live: broadcast::Sender<Arc<Batch>>,
    /// One permit per viewer being served; a stream holds its permit until its connection ends.
    viewers: Arc<tokio::sync::Semaphore>,
    /// How many permits there are.
    viewer_limit: usize,
}

/// The batches kept for viewers that connect later, and how many samples they hold.
#[derive(Default)]
struct Recent {
    batches: VecDeque<Arc<Batch>>,
    samples: usize,
}

impl Recent {
    fn push(&mut self, batch: Arc<Batch>) {
        self.samples += batch.samples.len();
        self.batches.push_back(batch);
    }

    /// Drops what is older than an hour or beyond the sample cap, oldest first.
    fn prune(&mut self, now_ms: i64) {
        let oldest = now_ms - KEEP_MS;
        while self.samples > KEEP_SAMPLES
            || self.batches.front().is_some_and(|b| b.samples.iter().all(|s| s.at_ms < oldest))
        {
            let Some(batch) = self.batches.pop_front() else { break };
            self.samples -= batch.samples.len();
        }
    }
}

impl Default for Hub {
    fn default() -> Self {
        Hub::with_backlog(BACKLOG)
    }
}

impl Hub {
    /// A hub that keeps every sample in `history` too, and starts from the last hour of it: viewers of a host
    /// that restarted see what was published before.
    pub fn with_history(history: Arc<History>) -> Result<Hub, crate::history::HistoryError> {
        let (live, _) = broadcast::channel(BACKLOG);
        let mut batches: VecDeque<Arc<Batch>> = VecDeque::new();
        let mut latest = BTreeMap::new();
        for (stock, sample) in history.published_since(now_ms() - KEEP_MS)? {
            let key = (stock.clone(), sample.field.clone(), sample.host.clone(), sample.item.clone());
            latest.insert(key, (sample.at_ms, sample.value));
            // Samples of one publish share a stock and a time: they make one batch again.
            match batches.back_mut() {
                Some(last)
                    if last.stock == stock
                        && last.samples.first().is_some_and(|s| s.at_ms == sample.at_ms) =>
                {
                    Arc::make_mut(last).samples.push(sample);
                }
                _ => batches.push_back(Arc::new(Batch { stock, samples: vec![sample] })),
            }
        }
        let mut recent = Recent { samples: batches.iter().map(|b| b.samples.len()).sum(), batches };
        recent.prune(now_ms());
        let inner = Inner {
            history: Some(history),
            recent: Mutex::new(recent),
            latest: Mutex::new(latest),
            windows: Mutex::default(),
            live,
            viewers: Arc::new(tokio::sync::Semaphore::new(VIEWERS)),
            viewer_limit: VIEWERS,
        };
        Ok(Hub { inner: Arc::new(inner) })
    }

    /// A hub whose live viewers may fall `backlog` batches behind before they lose some.
    fn with_backlog(backlog: usize) -> Hub {
        Hub::with_limits(backlog, VIEWERS)
    }

    /// A hub with a backlog of `backlog` batches that serves at most `viewers` viewers at once.
    fn with_limits(backlog: usize, viewers: usize) -> Hub {
        let (live, _) = broadcast::channel(backlog);
        let inner = Inner {
            history: None,
            recent: Mutex::default(),
            latest: Mutex::default(),
            windows: Mutex::default(),
            live,
            viewers: Arc::new(tokio::sync::Semaphore::new(viewers)),
            viewer_limit: viewers,
        };
        Hub { inner: Arc::new(inner) }
    }

    /// The batches published in the last hour, oldest first.
    #[cfg(test)]
    fn recent(&self) -> Vec<Arc<Batch>> {
        self.subscribe().0
    }

    /// The last hour's batches and a receiver of every batch after them, taken together.
    fn subscribe(&self) -> (Vec<Arc<Batch>>, broadcast::Receiver<Arc<Batch>>) {
        let mut recent = self.inner.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.prune(now_ms());
        (recent.batches.iter().cloned().collect(), self.inner.live.subscribe())
    }

    /// Every series' latest value in the Prometheus text format (version 0.0.4): a gauge per field, named
    /// `remote_FIELD`, with the stock, host and item as labels.
    pub fn metrics(&self) -> String {
        let mut latest = self.inner.latest.lock().unwrap_or_else(|e| e.into_inner());
        // A series not published for an hour (an interface that went away) leaves: pruned here, on a scrape,
        // rather than on every publish.
        let oldest = now_ms() - KEEP_MS;
        latest.retain(|_, (at_ms, _)| *at_ms >= oldest);
        let mut by_metric: BTreeMap<String, Vec<(&SeriesKey, &Point)>> = BTreeMap::new();
        for (key, point) in latest.iter() {
            by_metric.entry(metric_name(&key.1)).or_default().push((key, point));
        }
        let mut text = String::new();
        for (metric, series) in by_metric {
            let help = format!("The field `{}` of hosts' typed data, as published to stocks.", series[0].0.1);
            text.push_str(&format!("# HELP {metric} {}\n", help.replace('\\', "\\\\").replace('\n', "\\n")));
            text.push_str(&format!("# TYPE {metric} gauge\n"));
            // No timestamps: Prometheus stamps each scrape itself, and refuses old or out-of-order stamps.
            for ((stock, _, host, item), (_, value)) in series {
                let labels =
                    format!("stock=\"{}\",host=\"{}\",item=\"{}\"", label(stock), label(host), label(item));
                text.push_str(&format!("{metric}{{{labels}}} {}\n", number(*value)));
            }
        }
        text
    }

    /// Binds `address` and serves the hub there on `runtime` until the process ends; the address it got (the
    /// port is the kernel's choice when `address` has port 0).
    pub fn serve(
        &self,
        address: SocketAddr,
        runtime: &tokio::runtime::Handle,
    ) -> std::io::Result<SocketAddr> {
        self.serve_within(address, runtime, ConnectionLimits::default())
    }

    /// [`Hub::serve`] with its connections held to `limits`.
    fn serve_within(
        &self,
        address: SocketAddr,
        runtime: &tokio::runtime::Handle,
        limits: ConnectionLimits,
    ) -> std::io::Result<SocketAddr> {
        // Bound here, synchronously, so a port in use is reported to the user before the prompt starts.
        let listener = std::net::TcpListener::bind(address)?;
        listener.set_nonblocking(true)?;
        let bound = listener.local_addr()?;
        let loopback = bound.ip().is_loopback();
        let app = Router::new()
            .route("/", get(index))
            .route("/metrics", get(metrics))
            .route("/stream", get(stream))
            .with_state(self.clone())
            .layer(axum::middleware::from_fn(move |request: Request, next: Next| async move {
                // A web page the operator visits could point a name of its own at 127.0.0.1 (DNS rebinding)
                // and read the stocks; a hub on loopback answers only requests addressed to loopback. A
                // `Host` that is no single authority is refused on any address, as HTTP asks, rather than
                // guessed at.
                if let Err(refusal) = host::check(request.headers(), request.version(), loopback) {
                    return (refusal.status(), format!("{refusal}\n")).into_response();
                }
                next.run(request).await
            }));
        runtime.spawn(async move {
            match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => connections::accept(listener, app, limits).await,
                Err(err) => tracing::warn!("the stock hub could not listen: {err}"),
            }
        });
        Ok(bound)
    }
}

impl Hub {
    /// The samples as the stock draws them: each the mean of its series' last readings under `sliding`, and
    /// the fleet's mean and max per field and item as hosts `fleet mean` and `fleet max` under `fleet`.
    fn shape(&self, stock: &str, shape: Shape, samples: &[Sample]) -> Vec<Sample> {
        let mut shaped = samples.to_vec();
        if let Some(readings) = shape.sliding {
            let mut windows = self.inner.windows.lock().unwrap_or_else(|e| e.into_inner());
            for sample in &mut shaped {
                let key = (stock.to_string(), sample.field.clone(), sample.host.clone(), sample.item.clone());
                let (seen_ms, window) = windows.entry(key).or_default();
                *seen_ms = sample.at_ms;
                window.push_back(sample.value);
                while window.len() > readings {
                    window.pop_front();
                }
                sample.value = window.iter().sum::<f64>() / window.len() as f64;
            }
            // A series not read for an hour (a host left the group) does not keep its window for ever.
            let oldest = now_ms() - KEEP_MS;
            windows.retain(|_, (seen_ms, _)| *seen_ms >= oldest);
        }
        if shape.fleet {
            let mut groups: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
            for sample in &shaped {
                groups.entry((sample.field.clone(), sample.item.clone())).or_default().push(sample.value);
            }
            let at_ms = shaped.iter().map(|s| s.at_ms).max().unwrap_or_else(now_ms);
            for ((field, item), values) in groups {
                let mean = values.iter().sum::<f64>() / values.len() as f64;
                let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                for (host, value) in [(FLEET_MEAN, mean), (FLEET_MAX, max)] {
                    shaped.push(Sample {
                        field: field.clone(),
                        host: host.into(),
                        item: item.clone(),
                        at_ms,
                        value,
                    });
                }
            }
        }
        shaped
    }
}

impl Hub {
    /// Keeps collected samples (every field, `collect`) in the history only; the hub serves what is
    /// published.
    pub fn record(&self, samples: &[Sample]) {
        if let Some(history) = &self.inner.history {
            history.record_samples("", samples);
        }
    }

    /// Serves one chart's samples (`publish`) to viewers and `/metrics`, and keeps them in the history.
    pub fn publish(&self, stock: &str, shape: Shape, samples: &[Sample]) {
        if samples.is_empty() {
            return;
        }
        let shaped = self.shape(stock, shape, samples);
        let samples = shaped.as_slice();
        if let Some(history) = &self.inner.history {
            history.record_samples(stock, samples);
        }
        let batch = Arc::new(Batch { stock: stock.to_string(), samples: samples.to_vec() });
        let now = now_ms();
        {
            let mut latest = self.inner.latest.lock().unwrap_or_else(|e| e.into_inner());
            for s in samples {
                let key = (stock.to_string(), s.field.clone(), s.host.clone(), s.item.clone());
                // Two jobs may publish one series; the newer reading stays the latest.
                if latest.get(&key).is_none_or(|(at_ms, _)| *at_ms <= s.at_ms) {
                    latest.insert(key, (s.at_ms, s.value));
                }
            }
        }
        let mut recent = self.inner.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.push(batch.clone());
        recent.prune(now);
        // No receiver is not an error: nobody is watching.
        let _ = self.inner.live.send(batch);
    }
}

/// A Prometheus metric name for `field`: `remote_` and the field, other characters as `_`.
fn metric_name(field: &str) -> String {
    let clean: String =
        field.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    format!("remote_{clean}")
}

/// A label value escaped as the text format wants: backslash, double quote and line feed.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A sample value as the text format writes it (`NaN`, `+Inf`, `-Inf` by name).
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        value.to_string()
    }
}

/// `value` as one line of JSON (an event's data may not hold a line break; JSON escapes them).
fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

async fn index() -> &'static str {
    "remote live: stock hub\n\
     GET /stream   server-sent events: `history` (the last hour's batches, a JSON array), then `batch` (one\n\
     \x20             JSON batch per publish), and `dropped` ({\"batches\": N}) when this reader fell behind\n\
     GET /metrics  every series' latest value in the Prometheus text format\n"
}

async fn metrics(State(hub): State<Hub>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], hub.metrics())
}

/// What a viewer's stream has yet to send.
enum Pending {
    History(Vec<Arc<Batch>>, broadcast::Receiver<Arc<Batch>>),
    Live(broadcast::Receiver<Arc<Batch>>),
}

async fn stream(
    State(hub): State<Hub>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, (StatusCode, String)> {
    let Ok(permit) = hub.inner.viewers.clone().try_acquire_owned() else {
        let message = format!(
            "the hub already serves {} viewers, its most at once; close one, or scrape /metrics for a dashboard \
             of many screens\n",
            hub.inner.viewer_limit
        );
        return Err((StatusCode::SERVICE_UNAVAILABLE, message));
    };
    let (history, receiver) = hub.subscribe();
    // The permit lives in the stream's state, so it is given back when the connection ends and the stream is
    // dropped.
    let events = stream::unfold(Some((Pending::History(history, receiver), permit)), |next| async move {
        let (pending, permit) = next?;
        match pending {
            Pending::History(history, receiver) => {
                let batches: Vec<&Batch> = history.iter().map(|b| &**b).collect();
                let event = Event::default().event(wire::HISTORY).data(json(&batches));
                Some((Ok(event), Some((Pending::Live(receiver), permit))))
            }
            Pending::Live(mut receiver) => {
                let event = match receiver.recv().await {
                    Ok(batch) => Event::default().event(wire::BATCH).data(json(&*batch)),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        Event::default().event(wire::DROPPED).data(json(&Dropped { batches: missed }))
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                Some((Ok(event), Some((Pending::Live(receiver), permit))))
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    use super::*;

    /// A viewer: `GET /stream` on `address`, its response head read.
    fn viewer(address: SocketAddr) -> BufReader<TcpStream> {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(stream, "GET /stream HTTP/1.1\r\nHost: {address}\r\n\r\n").unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        while line != "\r\n" {
            line.clear();
            reader.read_line(&mut line).unwrap();
        }
        reader
    }

    /// Reads `viewer`'s lines until one contains `wanted`; whether it came.
    fn read_until(viewer: &mut BufReader<TcpStream>, wanted: &str) -> bool {
        let mut line = String::new();
        loop {
            line.clear();
            match viewer.read_line(&mut line) {
                Ok(0) | Err(_) => return false,
                Ok(_) if line.contains(wanted) => return true,
                Ok(_) => {}
            }
        }
    }

    #[test]
    fn a_viewer_that_never_reads_stalls_neither_the_publisher_nor_the_others() {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        // A short backlog, so the stalled viewer falls behind whatever this machine's socket buffers hold.
        let hub = Hub::with_backlog(16);
        let address = hub.serve("127.0.0.1:0".parse().unwrap(), runtime.handle()).unwrap();
        let mut stalled = viewer(address);
        let mut reading = viewer(address);
        assert!(read_until(&mut reading, "event: history"));
        let reader = std::thread::spawn(move || read_until(&mut reading, "\"host\":\"last\""));
        // 2,000 batches of ~12 KB (24 MB): more than the stalled viewer's socket buffers and backlog hold.
        let samples: Vec<Sample> =
            (0..100).map(|i| sample("idle", &format!("host-{i:03}"), "", i as f64)).collect();
        for _ in 0..2000 {
            hub.publish("Idle CPU", Shape::default(), &samples);
        }
        hub.publish("Idle CPU", Shape::default(), &[sample("idle", "last", "", 1.0)]);
        assert!(reader.join().unwrap(), "the reading viewer got the last batch");
        // The stalled one, when it reads at last, is told how many batches it lost.
        assert!(read_until(&mut stalled, "event: dropped"), "the stalled viewer was told what it missed");
        assert_eq!(hub.recent().len(), 2001);
    }

    #[test]
    fn viewers_past_the_limit_are_refused_and_a_closed_one_frees_its_place() {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let hub = Hub::with_limits(BACKLOG, 2);
        let address = hub.serve("127.0.0.1:0".parse().unwrap(), runtime.handle()).unwrap();
        let status = |stream: &mut TcpStream| {
            write!(stream, "GET /stream HTTP/1.1\r\nHost: {address}\r\n\r\n").unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            (line, reader)
        };
        let mut first = TcpStream::connect(address).unwrap();
        let mut second = TcpStream::connect(address).unwrap();
        let mut third = TcpStream::connect(address).unwrap();
        for stream in [&mut first, &mut second, &mut third] {
            stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        }
        assert!(status(&mut first).0.starts_with("HTTP/1.1 200"));
        assert!(status(&mut second).0.starts_with("HTTP/1.1 200"));
        let (refused, mut body) = status(&mut third);
        assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
        assert!(read_until(&mut body, "the hub already serves 2 viewers"), "the refusal says why");
        // A viewer goes away: its place is free again (once the hub has noticed the closed connection).
        drop(first);
        let started = std::time::Instant::now();
        loop {
            let mut again = TcpStream::connect(address).unwrap();
            again.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            if status(&mut again).0.starts_with("HTTP/1.1 200") {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "the closed viewer's place was never freed");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn sample(field: &str, host: &str, item: &str, value: f64) -> Sample {
        Sample { field: field.into(), host: host.into(), item: item.into(), at_ms: now_ms(), value }
    }

    #[test]
    fn sliding_averages_each_series_and_fleet_adds_mean_and_max() {
        let hub = Hub::default();
        let sliding = Shape { sliding: Some(3), fleet: false };
        let published = |values: [f64; 2]| {
            let samples = [sample("usr", "a", "", values[0]), sample("usr", "b", "", values[1])];
            hub.publish("User CPU avg", sliding, &samples);
            let last = hub.recent().pop().unwrap();
            last.samples.iter().map(|s| s.value).collect::<Vec<_>>()
        };
        assert_eq!(published([3.0, 30.0]), [3.0, 30.0]);
        assert_eq!(published([6.0, 60.0]), [4.5, 45.0]);
        assert_eq!(published([9.0, 90.0]), [6.0, 60.0]);
        // The oldest reading leaves the window of three.
        assert_eq!(published([12.0, 0.0]), [9.0, 50.0]);

        let fleet = Shape { sliding: None, fleet: true };
        let disks =
            [sample("d", "a", "/", 10.0), sample("d", "b", "/", 30.0), sample("d", "a", "/var", 80.0)];
        hub.publish("Disk", fleet, &disks);
        let last = hub.recent().pop().unwrap();
        let lines: Vec<(&str, &str, f64)> =
            last.samples.iter().map(|s| (s.host.as_str(), s.item.as_str(), s.value)).collect();
        assert_eq!(
            lines,
            [
                ("a", "/", 10.0),
                ("b", "/", 30.0),
                ("a", "/var", 80.0),
                ("fleet mean", "/", 20.0),
                ("fleet max", "/", 30.0),
                ("fleet mean", "/var", 80.0),
                ("fleet max", "/var", 80.0)
            ]
        );
    }

    /// A runtime of `workers` threads for a served hub.
    fn runtime(workers: usize) -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().unwrap()
    }

    /// The answer to a request for `/metrics` with a `Host` header for each of `hosts`, on a fresh connection
    /// to `address`: its status and the whole response.
    fn metrics_answer(address: SocketAddr, hosts: &[&str]) -> (u16, String) {
        let lines: String = hosts.iter().map(|host| format!("Host: {host}\r\n")).collect();
        answer(address, &format!("GET /metrics HTTP/1.1\r\n{lines}Connection: close\r\n\r\n"))
    }

    /// The answer to `request` on a fresh connection to `address`, read to its end: its status and all of it.
    fn answer(address: SocketAddr, request: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = Vec::new();
        // A refused connection may be reset after its answer: what came before stays in `response`.
        let _ = stream.read_to_end(&mut response);
        let response = String::from_utf8_lossy(&response).into_owned();
        let status = response.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
        (status, response)
    }

    #[test]
    fn a_hub_on_loopback_answers_one_well_formed_host_that_names_loopback() {
        let runtime = runtime(1);
        let address = Hub::default().serve("127.0.0.1:0".parse().unwrap(), runtime.handle()).unwrap();
        let check = |hosts: &[&str], expected: u16| {
            let (status, response) = metrics_answer(address, hosts);
            assert_eq!(status, expected, "{hosts:?}: {response}");
        };
        check(&["127.0.0.1:8080"], 200);
        check(&["127.9.9.9"], 200);
        check(&["localhost"], 200);
        check(&["LocalHost:8080"], 200);
        check(&["[::1]:8080"], 200);
        check(&["[::1]"], 200);
        // Not one well-formed authority: 400, whatever it names.
        check(&[], 400);
        check(&[""], 400);
        check(&["localhost", "localhost"], 400);
        check(&["localhost:80@evil"], 400);
        check(&["evil@localhost"], 400);
        check(&["[::1]evil"], 400);
        check(&["[::1"], 400);
        check(&["::1"], 400);
        check(&["[::1]:"], 400);
        check(&["[::1%25lo]:8080"], 400);
        check(&["localhost:65536"], 400);
        check(&["localhost:+80"], 400);
        check(&["127.0.0.1:80:80"], 400);
        check(&["localhost/evil"], 400);
        // Well formed, but a name a web page could point at 127.0.0.1 (DNS rebinding), or another host: 403.
        check(&["evil.example"], 403);
        check(&["evil.example:8080"], 403);
        check(&["127.0.0.1.evil.example"], 403);
        check(&["192.168.1.5:8080"], 403);
        check(&["127.1"], 403);
        check(&["localhost."], 403);
        check(&["app.localhost"], 403);
        // HTTP/1.0 may leave Host out, and no browser does.
        assert_eq!(answer(address, "GET /metrics HTTP/1.0\r\n\r\n").0, 200);
        // Each refusal says why, in one line.
        let (_, response) = metrics_answer(address, &["[::1"]);
        let reason = "the Host header `[::1` is not a host and an optional port: `[` has no `]`\n";
        assert!(response.ends_with(&format!("\r\n\r\n{reason}")), "{response}");
        let (_, response) = metrics_answer(address, &["evil.example"]);
        assert!(response.contains("answers requests addressed to this machine only"), "{response}");
    }

    #[test]
    fn a_hub_beyond_loopback_answers_any_well_formed_host() {
        let runtime = runtime(1);
        let bound = Hub::default().serve("0.0.0.0:0".parse().unwrap(), runtime.handle()).unwrap();
        let address = SocketAddr::from(([127, 0, 0, 1], bound.port()));
        assert_eq!(metrics_answer(address, &["evil.example:8080"]).0, 200);
        assert_eq!(metrics_answer(address, &["localhost:80@evil"]).0, 400);
        assert_eq!(metrics_answer(address, &["evil.example", "localhost"]).0, 400);
    }

    #[test]
    fn a_connection_that_never_finishes_its_headers_is_closed_after_the_timeout() {
        let runtime = runtime(1);
        let limits = ConnectionLimits { header_timeout: Duration::from_millis(500), ..Default::default() };
        let hub = Hub::default();
        let address = hub.serve_within("127.0.0.1:0".parse().unwrap(), runtime.handle(), limits).unwrap();
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.write_all(b"GET /metr").unwrap();
        let started = Instant::now();
        // The hub ends the connection; were it left open, the read would time out.
        let mut response = Vec::new();
        let read = stream.read_to_end(&mut response);
        assert!(read.is_ok(), "{read:?} after {:?}", started.elapsed());
        assert!(started.elapsed() < Duration::from_secs(5), "closed only after {:?}", started.elapsed());
        // So is a kept connection that sends no next request.
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
        let started = Instant::now();
        let mut response = String::new();
        let read = stream.read_to_string(&mut response);
        assert!(read.is_ok() && response.starts_with("HTTP/1.1 200"), "{read:?}: {response}");
        assert!(started.elapsed() < Duration::from_secs(5), "closed only after {:?}", started.elapsed());
    }

    #[test]
    fn connections_past_the_cap_are_refused_at_once_and_viewers_go_on() {
        let runtime = runtime(2);
        let hub = Hub::default();
        let limits = ConnectionLimits { open: 4, header_timeout: Duration::from_secs(3) };
        let address = hub.serve_within("127.0.0.1:0".parse().unwrap(), runtime.handle(), limits).unwrap();
        let mut watching = viewer(address);
        assert!(read_until(&mut watching, "event: history"));
        // With the viewer, three connections that never finish a request fill the cap.
        let idle: Vec<TcpStream> = (0..3)
            .map(|_| {
                let mut stream = TcpStream::connect(address).unwrap();
                stream.write_all(b"GET /metr").unwrap();
                stream
            })
            .collect();
        let (status, response) = metrics_answer(address, &["localhost"]);
        assert_eq!(status, 503, "{response}");
        assert!(response.contains("the hub already has 4 connections open, its most at once"), "{response}");
        // The idle ones are dropped after the header timeout; the viewer, past its headers, is served on.
        for mut stream in idle {
            stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            assert!(stream.read_to_end(&mut Vec::new()).is_ok(), "an idle connection was kept");
        }
        hub.publish("Idle CPU", Shape::default(), &[sample("idle", "web-1", "", 95.5)]);
        assert!(read_until(&mut watching, "\"host\":\"web-1\""), "the viewer got the batch");
        // Their places are free again (once the hub has let go of their sockets).
        let started = Instant::now();
        while metrics_answer(address, &["localhost"]).0 != 200 {
            assert!(started.elapsed() < Duration::from_secs(10), "the idle connections' places stayed taken");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn metrics_has_a_gauge_per_field_and_a_series_per_stock_host_and_item() {
        let hub = Hub::default();
        hub.publish(
            "Idle CPU",
            Shape::default(),
            &[sample("idle", "web-1", "", 95.5), sample("idle", "web-\"2\"", "", 90.0)],
        );
        hub.publish("Disk", Shape::default(), &[sample("disk_used_percent", "web-1", "/var\nlog", 91.0)]);
        hub.publish("Idle CPU", Shape::default(), &[sample("idle", "web-1", "", 42.0)]);
        let text = hub.metrics();
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                r#"remote_disk_used_percent{stock="Disk",host="web-1",item="/var\nlog"} 91"#,
                r#"remote_idle{stock="Idle CPU",host="web-\"2\"",item=""} 90"#,
                r#"remote_idle{stock="Idle CPU",host="web-1",item=""} 42"#,
            ]
        );
        assert!(text.contains("# TYPE remote_idle gauge\n"), "{text}");
        assert_eq!(hub.recent().len(), 3);
    }
}
