//! The viewer against the real hub of `remote live` (remote's `Hub`, served over HTTP on loopback) and a real
//! history file: what the viewer shows is what was published, through a restart of the hub.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use remote_core::stocks::{Sample, Shape};
use remote_host::history::History;
use remote_host::hub::Hub;
use viewer::client::{Status, Update, connect};
use viewer::store::Store;
use viewer::ui::{Clock, State, Window};
use viewer::wire::Event;

fn sample(host: &str, at_ms: i64, value: f64) -> Sample {
    Sample { field: "idle".into(), host: host.into(), item: String::new(), at_ms, value }
}

/// A hub serving on `address` from a runtime of its own; dropping the runtime stops it, connections and all.
fn serve(hub: &Hub, address: SocketAddr) -> (tokio::runtime::Runtime, SocketAddr) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let bound = hub.serve(address, runtime.handle()).expect("serving the hub");
    (runtime, bound)
}

/// Updates from the connection until `done` says the store and the status are as wanted, or 20 s pass.
fn until(
    updates: &Receiver<Update>,
    store: &mut Store,
    status: &mut Vec<Status>,
    done: impl Fn(&Store, &[Status]) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(store, status) {
        let left = deadline.saturating_duration_since(Instant::now());
        match updates.recv_timeout(left) {
            Ok(Update::Status(s)) => status.push(s),
            Ok(Update::Event(event)) => store.apply(event),
            Err(e) => panic!("waited 20 s ({e}); statuses so far: {status:?}"),
        }
    }
}

fn values(store: &Store, host: &str) -> Vec<f64> {
    let Some(chart) = store.charts().iter().find(|c| c.title == "Idle CPU") else { return vec![] };
    chart
        .lines
        .iter()
        .find(|l| l.host == host)
        .map(|l| l.points.iter().map(|p| p.y).collect())
        .unwrap_or_default()
}

#[test]
fn the_viewer_gets_history_then_live_samples_and_comes_back_after_the_hub_restarts() {
    // The hub keeps the last hour: samples of a minute ago.
    let t = remote_core::stocks::now_ms() - 60_000;
    let sample = |host: &str, at_ms: i64, value: f64| sample(host, t + at_ms, value);
    let first = Hub::default();
    first.publish(
        "Idle CPU",
        Shape::default(),
        &[sample("web-1", 1_000, 10.0), sample("web-2", 1_000, 20.0)],
    );
    let (runtime, address) = serve(&first, "127.0.0.1:0".parse().unwrap());
    let updates = connect(format!("http://{address}/stream"), || {});
    let (mut store, mut status) = (Store::default(), Vec::new());

    // What was published before the viewer came: the history event.
    until(&updates, &mut store, &mut status, |s, st| {
        st.contains(&Status::Live) && values(s, "web-2") == [20.0]
    });
    // Then live.
    first.publish("Idle CPU", Shape::default(), &[sample("web-1", 2_000, 11.0)]);
    until(&updates, &mut store, &mut status, |s, _| values(s, "web-1") == [10.0, 11.0]);

    // The hub goes away: the status says so, and why.
    runtime.shutdown_timeout(Duration::from_secs(5));
    status.clear();
    until(&updates, &mut store, &mut status, |_, st| {
        st.iter().filter(|s| matches!(s, Status::Down { .. })).count() >= 2
    });
    let reasons: Vec<String> = status
        .iter()
        .filter_map(|s| if let Status::Down { reason, .. } = s { Some(reason.clone()) } else { None })
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("no hub answers (cannot connect:") && r.contains("Connection refused")),
        "{reasons:?}"
    );

    // A new hub at the same address, with what it published meanwhile: the viewer reconnects by itself and
    // has every sample once.
    let second = Hub::default();
    second.publish(
        "Idle CPU",
        Shape::default(),
        &[sample("web-1", 2_000, 11.0), sample("web-1", 3_000, 12.0)],
    );
    let (_runtime, _) = serve(&second, address);
    status.clear();
    until(&updates, &mut store, &mut status, |s, st| {
        st.contains(&Status::Live) && values(s, "web-1").len() == 3
    });
    assert_eq!(values(&store, "web-1"), [10.0, 11.0, 12.0]);
    second.publish("Idle CPU", Shape::default(), &[sample("web-2", 4_000, 21.0)]);
    until(&updates, &mut store, &mut status, |s, _| values(s, "web-2") == [20.0, 21.0]);
}

#[test]
fn a_viewer_pointed_at_something_else_says_so() {
    // A plain HTTP server that is not a hub: the hub's own /metrics page, asked for as a stream.
    let hub = Hub::default();
    let (_runtime, address) = serve(&hub, "127.0.0.1:0".parse().unwrap());
    let updates = connect(format!("http://{address}/metrics"), || {});
    let (mut store, mut status) = (Store::default(), Vec::new());
    until(&updates, &mut store, &mut status, |_, st| st.iter().any(|s| matches!(s, Status::Down { .. })));
    let Some(Status::Down { reason, .. }) = status.iter().find(|s| matches!(s, Status::Down { .. })) else {
        unreachable!()
    };
    assert!(reason.contains("answers, but not with a hub's stream"), "{reason}");
}

#[test]
fn a_history_file_opens_offline_with_its_published_stocks() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join(".remote/history.sqlite");
    let history = Arc::new(History::open(&path, None).expect("a history"));
    // Through a hub, as `remote live` writes it: published samples under their stock, collected ones under
    // none.
    let hub = Hub::with_history(history.clone()).expect("a hub over the history");
    let now_ms = 1_795_000_000_000;
    let published: Vec<Sample> =
        (0..60).map(|i| sample("web-1", now_ms - 300_000 + i * 5_000, 50.0 + i as f64)).collect();
    hub.publish("Idle CPU", Shape::default(), &published);
    hub.record(&[Sample { field: "usr".into(), ..sample("web-1", now_ms, 3.0) }]);
    // The history writes on a thread of its own; what was handed to it is on disk once it says so.
    assert!(history.flush(std::time::Duration::from_secs(10)), "the history wrote what it was given");

    let while_open = viewer::history::load(&path, i64::MIN).expect("reading the history");
    assert_eq!(while_open.len(), 1, "only published stocks are charts");
    let batches = while_open;
    assert_eq!((batches[0].stock.as_str(), batches[0].samples.len()), ("Idle CPU", 60));
    let recent = viewer::history::load(&path, now_ms - 60_000).expect("reading the history");
    assert_eq!(recent[0].samples.len(), 12, "--since leaves out older samples");
    // The live host gone (its WAL files closed away), the file still opens.
    drop(hub);
    drop(history);
    let batches =
        viewer::history::load(&path, i64::MIN).expect("reading the history once the host has stopped");
    assert_eq!(batches[0].samples.len(), 60);

    let mut store = Store::default();
    store.apply(Event::History(batches));
    let mut state = State::file(path.clone(), store);
    state.window = Window::All;
    state.clock = Clock::Fixed(0.0);
    let mut harness = Harness::builder().with_size([1280.0, 600.0]).build_ui_state(viewer::stocks_ui, state);
    harness.run_steps(2);
    harness.get_by_label(&format!("history {} (offline)", path.display()));
    harness.get_by_label("Idle CPU");
    harness.get_by_label("web-1");
    // The legend covers the whole file: 50% to 109%, ending at the last sample.
    harness.get_by_label("50.0%");
    assert_eq!(harness.get_all_by_label("109.0%").count(), 2, "last and max");
}

#[test]
fn a_missing_or_foreign_history_file_is_a_clear_error() {
    let folder = tempfile::tempdir().unwrap();
    let missing = folder.path().join("nothing.sqlite");
    let error = viewer::history::load(&missing, 0).unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "there is no history at {}: `remote live` writes it as .remote/history.sqlite beside the inventory",
            missing.display()
        )
    );
    let foreign = folder.path().join("notes.txt");
    std::fs::write(&foreign, "not a database, just notes\n".repeat(100)).unwrap();
    let error = viewer::history::load(&foreign, 0).unwrap_err().to_string();
    assert!(
        error.starts_with(&format!(
            "cannot read samples from {} (is it a history written by `remote live`?): ",
            foreign.display()
        )),
        "{error}"
    );
}
