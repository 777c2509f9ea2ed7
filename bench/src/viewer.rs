//! Viewer frame time: 20 hosts × 6 stocks × 24 h of 5-second samples (17,280 points a line), drawn headless
//! by the viewer's own UI function through egui_kittest and wgpu (on this machine, Mesa's software Vulkan).
//!
//! Run: `cargo build --release -p bench && ./target/release/bench --viewer 60`. For each time window, the
//! same frames are drawn with decimation (min/max per pixel column, as the viewer draws) and without (every
//! point handed to egui_plot), in turn, so both see the same machine. The viewer's work in a frame is the UI
//! pass (egui, egui_plot, decimation, legends) plus tessellation; the whole frame adds rasterising and
//! reading the image back, as `Harness::render` does, which on a machine without a GPU is the software
//! renderer's work. Two floors are measured first: an empty window and one filled by a single panel.

use std::time::Instant;

use egui_kittest::Harness;
use remote_core::stocks::Sample;
use viewer::store::Store;
use viewer::ui::{Clock, Source, State, Window};
use viewer::wire::{Batch, Event};

const HOSTS: usize = 20;
const STOCKS: [(&str, &str); 6] = [
    ("Idle CPU", "idle"),
    ("User CPU", "usr"),
    ("RAM used %", "ram_used_percent"),
    ("Load per core", "load_per_core"),
    ("Network in", "rx_bytes_per_sec"),
    ("Disk used %", "disk_used_percent"),
];
const POINTS: usize = 24 * 3600 / 5;
/// The target: at most this per frame.
const TARGET_MS: f64 = 16.0;
const NOW: f64 = 1_795_000_000.0;

fn store() -> Store {
    let mut store = Store::default();
    let mut batches = Vec::new();
    for (s, (title, field)) in STOCKS.iter().enumerate() {
        let mut samples = Vec::with_capacity(HOSTS * POINTS);
        for i in 0..POINTS {
            let at = NOW - ((POINTS - 1 - i) * 5) as f64;
            for h in 0..HOSTS {
                // A slow wave plus a fast jitter, different per host and stock: lines that cross and wiggle
                // like real metrics, so no column is a flat run that draws for free.
                let jitter = (((i * 7919 + h * 104_729 + s * 1_299_709) % 1000) as f64) / 100.0;
                let value = 50.0 + 30.0 * ((at / 3600.0) + h as f64 * 0.7 + s as f64).sin() + jitter;
                samples.push(Sample {
                    field: field.to_string(),
                    host: format!("web-{}", h + 1),
                    item: String::new(),
                    at_ms: (at * 1000.0) as i64,
                    value,
                });
            }
        }
        batches.push(Batch { stock: title.to_string(), samples });
    }
    store.apply(Event::History(batches));
    store
}

/// Per-frame figures of one case, in milliseconds.
struct Figures {
    ui: Vec<f64>,
    tessellate: Vec<f64>,
    frame: Vec<f64>,
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The median time of `frames` (at least 5) frames of `harness`, each a UI pass and a render, in
/// milliseconds.
fn median_frame_ms(mut harness: Harness<'_>, frames: usize) -> f64 {
    let times: Vec<f64> = (0..frames.max(5))
        .map(|_| {
            let start = Instant::now();
            harness.step();
            harness.render().expect("rendering a frame");
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    percentile(&times, 0.5)
}

pub fn run(frames: usize) {
    let started = Instant::now();
    let store = store();
    println!(
        "viewer: {} stocks × {HOSTS} hosts × {POINTS} points ({} points) made in {:.1} s",
        STOCKS.len(),
        store.points(),
        started.elapsed().as_secs_f64()
    );
    // The renderer's own cost: an empty window of the same size, and one filled by a panel, rendered and read
    // back.
    let empty = Harness::builder().with_size([1280.0, 860.0]).wgpu().build_ui(|ui| {
        ui.label("empty");
    });
    println!("an empty 1280×860 window: {:.1} ms a frame (median)", median_frame_ms(empty, frames));
    let panel = Harness::builder().with_size([1280.0, 860.0]).wgpu().build_ui(|ui| {
        egui::Frame::central_panel(ui.style()).show(ui, |ui| {
            ui.label("a filled panel");
            ui.allocate_space(ui.available_size());
        });
    });
    let filled = median_frame_ms(panel, frames);
    println!(
        "the same window filled by one panel: {filled:.1} ms a frame (median), the renderer's floor for any UI"
    );
    let mut state = State::new(Source::Hub { url: "http://127.0.0.1:8080/stream".into() });
    state.store = store;
    state.clock = Clock::Fixed(NOW);
    state.time_zone = jiff::tz::TimeZone::UTC;
    let mut harness =
        Harness::builder().with_size([1280.0, 860.0]).wgpu().build_ui_state(viewer::stocks_ui, state);
    let windows = [Window::FiveMinutes, Window::Hour, Window::Day];
    let mut rows = Vec::new();
    for window in windows {
        let mut figures = [
            Figures { ui: vec![], tessellate: vec![], frame: vec![] },
            Figures { ui: vec![], tessellate: vec![], frame: vec![] },
        ];
        for mode in [true, false] {
            harness.state_mut().show_window(window);
            harness.state_mut().decimation = mode;
            // Two frames to settle layout and caches, not counted.
            for _ in 0..2 {
                harness.step();
                harness.render().expect("rendering a frame");
            }
        }
        // The two modes in turn, frame by frame.
        for _ in 0..frames {
            for (m, mode) in [true, false].into_iter().enumerate() {
                harness.state_mut().decimation = mode;
                let start = Instant::now();
                harness.step();
                let ui = start.elapsed().as_secs_f64() * 1000.0;
                harness.render().expect("rendering a frame");
                let frame = start.elapsed().as_secs_f64() * 1000.0;
                // Tessellation alone, again, outside the frame's time: the part of rendering egui does on the
                // CPU.
                let shapes = harness.output().shapes.clone();
                let start = Instant::now();
                let meshes = harness.ctx.tessellate(shapes, 1.0);
                figures[m].tessellate.push(start.elapsed().as_secs_f64() * 1000.0);
                drop(meshes);
                figures[m].ui.push(ui);
                figures[m].frame.push(frame);
            }
        }
        rows.push((window, figures));
    }
    println!();
    println!(
        "| window | drawing | UI pass median | tessellation median | viewer's work median | viewer's work p95 | whole frame median | whole frame p95 |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let work = |f: &Figures| -> Vec<f64> { f.ui.iter().zip(&f.tessellate).map(|(u, t)| u + t).collect() };
    for (window, figures) in &rows {
        for (m, name) in ["decimated (the viewer)", "every point"].iter().enumerate() {
            let f = &figures[m];
            println!(
                "| {} | {name} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
                window.label(),
                percentile(&f.ui, 0.5),
                percentile(&f.tessellate, 0.5),
                percentile(&work(f), 0.5),
                percentile(&work(f), 0.95),
                percentile(&f.frame, 0.5),
                percentile(&f.frame, 0.95)
            );
        }
    }
    println!();
    for (window, figures) in &rows {
        let (decimated, full) = (work(&figures[0]), work(&figures[1]));
        let p95 = percentile(&decimated, 0.95);
        let verdict = if p95 <= TARGET_MS { "within" } else { "OVER" };
        println!(
            "{}: the viewer's work is {:.1}× less than drawing every point; its p95 {p95:.1} ms is {verdict} the {TARGET_MS} ms \
             target; the whole frame, rasterised by the software renderer, takes {:.0} ms",
            window.label(),
            percentile(&full, 0.5) / percentile(&decimated, 0.5),
            percentile(&figures[0].frame, 0.5)
        );
    }
}
