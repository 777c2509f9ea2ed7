//! The viewer's UI driven like a user would, through egui_kittest: controls found by their labels, clicked,
//! and the charts checked to react; a few image snapshots rendered by wgpu (Mesa's software Vulkan in CI).

use std::time::Instant;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use remote_core::stocks::Sample;
use viewer::client::Status;
use viewer::stocks_ui;
use viewer::store::Store;
use viewer::ui::{Clock, Source, State, Window};
use viewer::wire::{Batch, Event};

/// "Now" in every test: 2026-11-18 11:06:40 UTC, so snapshots never move.
const NOW: f64 = 1_795_000_000.0;
const HOSTS: [&str; 3] = ["web-1", "web-2", "db-1"];

/// Two hours of samples every 5 s for `HOSTS` in two stocks. Idle CPU on web-1 dips to 0 an hour ago (outside
/// the 5-minute window, inside the hour), so the legend's minimum tells which window is shown.
fn store() -> Store {
    let mut store = Store::default();
    let mut idle = Vec::new();
    let mut load = Vec::new();
    for step in 0..(2 * 3600 / 5) {
        let at = NOW - 7200.0 + f64::from(step) * 5.0;
        for (h, host) in HOSTS.iter().enumerate() {
            let wave = ((at / 60.0) + h as f64).sin();
            let mut value = 80.0 + 10.0 * wave - 5.0 * h as f64;
            if h == 0 && (NOW - at - 3600.0).abs() < 3.0 {
                value = 0.0;
            }
            let sample = |field: &str, value: f64| Sample {
                field: field.into(),
                host: host.to_string(),
                item: String::new(),
                at_ms: (at * 1000.0) as i64,
                value,
            };
            idle.push(sample("idle", value));
            load.push(sample("load_1", 1.0 + 0.5 * wave + h as f64 * 0.3));
        }
    }
    store.apply(Event::History(vec![
        Batch { stock: "Idle CPU".into(), samples: idle },
        Batch { stock: "Load".into(), samples: load },
    ]));
    store
}

fn state() -> State {
    let mut state = State::new(Source::Hub { url: "http://127.0.0.1:8080/stream".into() });
    state.store = store();
    state.status = Status::Live;
    state.clock = Clock::Fixed(NOW);
    state.time_zone = jiff::tz::TimeZone::UTC;
    state
}

fn harness(state: State) -> Harness<'static, State> {
    let mut harness = Harness::builder().with_size([1280.0, 720.0]).wgpu().build_ui_state(stocks_ui, state);
    harness.run_steps(2);
    harness
}

#[test]
fn every_stock_has_a_plot_and_every_host_a_legend_entry_and_the_controls_are_there() {
    let harness = harness(state());
    for title in ["Idle CPU", "Load"] {
        harness.get_by_label(title);
    }
    for host in HOSTS {
        assert_eq!(harness.get_all_by_label(host).count(), 2, "a legend entry for {host} in each chart");
    }
    for control in ["5 min", "1 h", "24 h", "all", "Pause"] {
        harness.get_by_label(control);
    }
    harness.get_by_label("live from 127.0.0.1:8080");
}

#[test]
fn the_window_selector_changes_the_time_shown_and_the_legend() {
    let mut harness = harness(state());
    // web-1's dip to 0% an hour ago is outside five minutes…
    assert!(harness.query_by_label("0.0%").is_none(), "the dip shows in the 5 min window");
    harness.get_by_label("1 h").click();
    harness.run_steps(2);
    assert_eq!(harness.state().window, Window::Hour);
    let (start, end) = harness.state().shown_range();
    assert_eq!((start, end), (NOW - 3600.0, NOW));
    // …and inside the hour: the legend's minimum for web-1 says so.
    harness.get_by_label("0.0%");
    harness.get_by_label("all").click();
    harness.run_steps(2);
    assert_eq!(harness.state().shown_range(), (NOW - 7200.0, NOW));
}

#[test]
fn pause_holds_the_time_shown_and_follow_catches_up() {
    let mut harness = harness(state());
    harness.get_by_label("Pause").click();
    harness.run_steps(2);
    assert!(!harness.state().following);
    let held = harness.state().shown_range();
    // Time passes and a new sample arrives: a paused view stays put.
    harness.state_mut().clock = Clock::Fixed(NOW + 60.0);
    let sample = Sample {
        field: "idle".into(),
        host: "web-1".into(),
        item: String::new(),
        at_ms: ((NOW + 60.0) * 1000.0) as i64,
        value: 42.0,
    };
    harness.state_mut().store.apply(Event::Batch(Batch { stock: "Idle CPU".into(), samples: vec![sample] }));
    harness.run_steps(2);
    assert_eq!(harness.state().shown_range(), held);
    assert!(harness.query_by_label("Pause").is_none());
    harness.get_by_label("Follow").click();
    harness.run_steps(2);
    assert!(harness.state().following);
    assert_eq!(harness.state().shown_range(), (NOW + 60.0 - 300.0, NOW + 60.0));
    // The new sample is web-1's last value and its lowest in the five minutes shown.
    assert_eq!(harness.get_all_by_label("42.0%").count(), 2, "web-1's last and min");
}

#[test]
fn a_paused_plot_dragged_to_the_right_shows_earlier_time_in_every_plot() {
    let mut harness = harness(state());
    harness.get_by_label("Pause").click();
    harness.run_steps(2);
    let (start, end) = harness.state().shown_range();
    // Drag the first plot 200 px to the right: its 800 px show five minutes, so 75 s earlier.
    let plot = harness.get_by_label("Idle CPU").rect();
    let from = egui::pos2(plot.left() + 300.0, plot.bottom() + 100.0);
    harness.hover_at(from);
    harness.run_steps(1);
    harness.drag_at(from);
    harness.run_steps(1);
    for step in 1..=10 {
        harness.hover_at(from + egui::vec2(20.0 * step as f32, 0.0));
        harness.run_steps(1);
    }
    harness.drop_at(from + egui::vec2(200.0, 0.0));
    harness.run_steps(2);
    let (moved_start, moved_end) = harness.state().shown_range();
    let shift = start - moved_start;
    assert!(
        shift > 30.0 && shift < 120.0,
        "the time shown moved by {shift:.1} s: {start}..{end} → {moved_start}..{moved_end}"
    );
    assert!(((moved_end - moved_start) - (end - start)).abs() < 1e-6, "a drag keeps the window's length");
    // The time shown stays where it was dragged, and following again comes back to now.
    harness.run_steps(3);
    assert_eq!(harness.state().shown_range(), (moved_start, moved_end));
    harness.get_by_label("Follow").click();
    harness.run_steps(2);
    assert_eq!(harness.state().shown_range(), (NOW - 300.0, NOW));
}

#[test]
fn a_click_on_a_legend_entry_hides_its_line_and_another_shows_it() {
    let mut harness = harness(state());
    harness.get_all_by_label("web-2").next().expect("a legend entry").click();
    harness.run_steps(2);
    assert!(harness.state().hidden.contains(&("Idle CPU".to_string(), "web-2".to_string())));
    harness.get_all_by_label("web-2").next().expect("a legend entry").click();
    harness.run_steps(2);
    assert!(harness.state().hidden.is_empty());
}

#[test]
fn the_status_line_says_why_the_hub_is_not_there_and_what_was_missed() {
    let mut state = state();
    state.status = Status::Down {
        reason: "no hub answers (cannot connect: Connection refused (os error 111))".into(),
        retry_at: Instant::now() + std::time::Duration::from_secs(3),
    };
    state.store.apply(Event::Dropped(4));
    let harness = harness(state);
    harness.get_by_label_contains(
        "127.0.0.1:8080: no hub answers (cannot connect: Connection refused (os error 111)); retrying in",
    );
    harness.get_by_label("4 batches missed (this viewer fell behind)");
}

#[test]
fn an_empty_hub_says_how_to_publish() {
    let mut state = State::new(Source::Hub { url: "http://127.0.0.1:8080/stream".into() });
    state.clock = Clock::Fixed(NOW);
    let harness = harness(state);
    harness.get_by_label_contains("stats_jobs sandbox");
    harness.get_by_label("connecting to 127.0.0.1:8080…");
}

#[test]
fn snapshots() {
    let mut harness = harness(state());
    harness.snapshot("five_minutes");
    // db-1 hidden, the pointer on web-1's line in the first plot: its label (host, time, value) is shown, and
    // the cursor is drawn in both plots (one cursor for all plots).
    harness.get_all_by_label("db-1").next().expect("a legend entry").click();
    harness.run_steps(2);
    harness.hover_at(egui::pos2(280.0, 216.0));
    harness.run_steps(2);
    harness.snapshot("hidden_line_and_cursor");
    harness.get_by_label("24 h").click();
    harness.run_steps(2);
    harness.snapshot("day");
}
