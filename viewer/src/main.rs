//! `viewer`: opens the chart window on a hub (`viewer`, `viewer --hub 127.0.0.1:8080`) or on a history file
//! (`viewer --history .remote/history.sqlite`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use viewer::store::Store;
use viewer::wire::Event;
use viewer::{App, State};

/// Charts of the stocks `remote live` publishes: one plot per stock, a line per host.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The hub of `remote live` to watch: an address (`127.0.0.1:8080`) or a URL.
    #[arg(long, default_value = "127.0.0.1:8080", conflicts_with = "history")]
    hub: String,
    /// Open a history file offline instead (`.remote/history.sqlite` beside the inventory).
    #[arg(long, value_name = "PATH")]
    history: Option<PathBuf>,
    /// With --history: only samples this recent (`24h`, `7d`); all of them when not given.
    #[arg(long, value_name = "DURATION", requires = "history", value_parser = humantime::parse_duration)]
    since: Option<std::time::Duration>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (title, state) = match &args.history {
        Some(path) => {
            let since_ms = args
                .since
                .map(|d| now_ms().saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
                .unwrap_or(i64::MIN);
            let batches = match viewer::history::load(path, since_ms) {
                Ok(batches) => batches,
                Err(e) => {
                    eprintln!("viewer: {e}");
                    return ExitCode::from(2);
                }
            };
            let mut store = Store::default();
            store.apply(Event::History(batches));
            let mut state = State::file(path.clone(), store);
            state.window = viewer::ui::Window::All;
            (format!("remote viewer: {}", path.display()), state)
        }
        None => (
            format!("remote viewer: {}", args.hub),
            State::new(viewer::ui::Source::Hub { url: stream_url(&args.hub) }),
        ),
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_title(&title).with_inner_size([1280.0, 860.0]),
        ..Default::default()
    };
    let result = eframe::run_native(
        "remote viewer",
        options,
        Box::new(move |cc| {
            let mut state = state;
            if let viewer::ui::Source::Hub { url } = &state.source {
                let ctx = cc.egui_ctx.clone();
                state.listen(viewer::client::connect(url.clone(), move || ctx.request_repaint()));
            }
            Ok(Box::new(App { state }))
        }),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("viewer: cannot open a window: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The stream's URL from what the user gave: an address or a URL, with or without `/stream`.
fn stream_url(hub: &str) -> String {
    let base = if hub.contains("://") { hub.to_string() } else { format!("http://{hub}") };
    let base = base.trim_end_matches('/');
    if base.ends_with("/stream") { base.to_string() } else { format!("{base}/stream") }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
