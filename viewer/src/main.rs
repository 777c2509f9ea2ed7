//! `viewer`: opens the chart window on a hub (`viewer`, `viewer --hub 127.0.0.1:8080`) or on a history file
//! (`viewer --history .remote/history.sqlite`); with `--charts`, prints what it would draw instead.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use remote_core::pretty::sanitize;
use viewer::client::{Status, Update};
use viewer::store::Store;
use viewer::wire::Event;
use viewer::{App, State};

/// Charts of the stocks `remote live` publishes: one plot per stock, a line per host.
#[derive(clap::Parser)]
#[command(version)]
struct Args {
    /// The hub of `remote live` to watch: an address (`127.0.0.1:8080`) or a URL.
    #[arg(long, env = "REMOTE_HUB", default_value = "127.0.0.1:8080")]
    hub: String,
    /// Open a history file offline instead (`.remote/history.sqlite` beside the inventory).
    #[arg(long, value_name = "PATH")]
    history: Option<PathBuf>,
    /// With --history: only samples this recent (`24h`, `7d`); all of them when not given.
    #[arg(long, value_name = "DURATION", requires = "history", value_parser = humantime::parse_duration)]
    since: Option<std::time::Duration>,
    /// Print the charts the window would draw (each stock, its lines and their last values) and exit,
    /// without a window: for a terminal over SSH, or to check what reaches the hub
    #[arg(long)]
    charts: bool,
}

/// How long `--charts` waits for the hub's first event (the last hour it kept).
const CHARTS_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

fn main() -> ExitCode {
    let matches = Args::command().get_matches();
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // A hub given on the command line and a history file are two sources; REMOTE_HUB beside --history is not.
    if args.history.is_some() && matches.value_source("hub") == Some(ValueSource::CommandLine) {
        Args::command()
            .error(ErrorKind::ArgumentConflict, "--hub and --history are two sources: give one of them")
            .exit();
    }
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
            if args.charts {
                return print(&store);
            }
            let mut state = State::file(path.clone(), store);
            state.window = viewer::ui::Window::All;
            (format!("remote viewer: {}", path.display()), state)
        }
        None if args.charts => return print_hub(&stream_url(&args.hub)),
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

/// `--charts` on a hub: what it kept of the last hour, as the window would draw it on connecting.
fn print_hub(url: &str) -> ExitCode {
    let updates = viewer::client::connect(url.to_string(), || {});
    let deadline = std::time::Instant::now() + CHARTS_WAIT;
    let mut store = Store::default();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match updates.recv_timeout(left) {
            Ok(Update::Event(event @ Event::History(_))) => {
                store.apply(event);
                return print(&store);
            }
            Ok(Update::Event(event)) => store.apply(event),
            Ok(Update::Status(Status::Down { reason, .. })) => {
                eprintln!("viewer: {}: {}", sanitize(url), sanitize(&reason));
                return ExitCode::FAILURE;
            }
            Ok(Update::Status(_)) => {}
            Err(_) => {
                eprintln!(
                    "viewer: {} sent nothing within {} s; is it the hub of `remote live`?",
                    sanitize(url),
                    CHARTS_WAIT.as_secs()
                );
                return ExitCode::FAILURE;
            }
        }
    }
}

/// Prints [`Store::summary`]; a closed stdout (`viewer --charts | head -1`) is not an error.
fn print(store: &Store) -> ExitCode {
    use std::io::Write as _;
    match std::io::stdout().lock().write_all(store.summary().as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("viewer: cannot write the charts: {e}");
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
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
