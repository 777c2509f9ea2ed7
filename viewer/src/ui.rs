//! The viewer's UI as a library function, [`stocks_ui`], over plain [`State`]: the window's `main` and the
//! egui_kittest tests call the same function.
//!
//! One plot per stock, a line per host, a legend table beside it (last, min, max and mean over the time
//! shown; a click hides a line), one cursor shared by all plots, time windows, pause and follow.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use egui::{Color32, Id, RichText, Ui};
use egui_plot::{GridMark, HoverPosition, Line, Plot, PlotPoints};
use jiff::tz::TimeZone;

use crate::client::{Status, Update};
use crate::decimate::{Stats, prepare, stats};
use crate::store::{Chart, Store};
use crate::units::Unit;

/// The plot's height; the legend beside it scrolls when a chart has more lines than fit.
const PLOT_HEIGHT: f32 = 220.0;
/// The legend table's width.
const LEGEND_WIDTH: f32 = 400.0;
/// A chart's whole height: its title, its plot and the space below.
const CHART_HEIGHT: f32 = PLOT_HEIGHT + 36.0;

/// How much time the plots show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    FiveMinutes,
    Hour,
    Day,
    All,
}

impl Window {
    /// Every window, in the order of the buttons.
    pub const ALL: [Window; 4] = [Window::FiveMinutes, Window::Hour, Window::Day, Window::All];

    /// The button's label.
    pub fn label(self) -> &'static str {
        match self {
            Window::FiveMinutes => "5 min",
            Window::Hour => "1 h",
            Window::Day => "24 h",
            Window::All => "all",
        }
    }

    fn seconds(self) -> Option<f64> {
        match self {
            Window::FiveMinutes => Some(300.0),
            Window::Hour => Some(3600.0),
            Window::Day => Some(86_400.0),
            Window::All => None,
        }
    }
}

/// Where the data comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A hub's stream (`http://127.0.0.1:8080/stream`).
    Hub { url: String },
    /// A history file, read once.
    File { path: PathBuf },
}

/// What "now" is: the wall clock, or a fixed time (tests and snapshots, which must not move).
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    System,
    /// Seconds since the Unix epoch.
    Fixed(f64),
}

/// Everything the UI shows and remembers between frames.
pub struct State {
    /// The data.
    pub store: Store,
    /// Where it comes from.
    pub source: Source,
    /// The connection's state (for a hub).
    pub status: Status,
    /// How much time is shown.
    pub window: Window,
    /// Whether the plots follow the newest data; when paused, the time shown stays put and may be dragged
    /// and zoomed.
    pub following: bool,
    /// The time shown while paused (seconds since the epoch).
    pub paused_range: Option<(f64, f64)>,
    /// Lines hidden by a click in a legend: (stock, line name).
    pub hidden: HashSet<(String, String)>,
    /// What "now" is.
    pub clock: Clock,
    /// Whether long lines are decimated for drawing (min/max per pixel column). Always on in the viewer; off
    /// only in `bench --viewer`, to show what it saves.
    pub decimation: bool,
    /// The time zone of the time axis.
    pub time_zone: TimeZone,
    updates: Option<Receiver<Update>>,
}

impl State {
    /// A state fed by a hub's stream through `updates` (see [`crate::client::connect`]).
    pub fn hub(url: String, updates: Receiver<Update>) -> State {
        let mut state = State::new(Source::Hub { url });
        state.listen(updates);
        state
    }

    /// Takes the connection's updates from now on.
    pub fn listen(&mut self, updates: Receiver<Update>) {
        self.updates = Some(updates);
    }

    /// A state over what a history file held.
    pub fn file(path: PathBuf, store: Store) -> State {
        State { store, ..State::new(Source::File { path }) }
    }

    /// An empty state for `source`, following, showing five minutes.
    pub fn new(source: Source) -> State {
        State {
            store: Store::default(),
            source,
            status: Status::Connecting,
            window: Window::FiveMinutes,
            following: true,
            paused_range: None,
            hidden: HashSet::new(),
            clock: Clock::System,
            decimation: true,
            time_zone: TimeZone::system(),
            updates: None,
        }
    }

    /// Takes in whatever the connection delivered since the last frame.
    pub fn poll(&mut self) {
        let Some(updates) = &self.updates else { return };
        while let Ok(update) = updates.try_recv() {
            match update {
                Update::Status(status) => self.status = status,
                Update::Event(event) => self.store.apply(event),
            }
        }
    }

    fn now(&self) -> f64 {
        match self.clock {
            Clock::Fixed(at) => at,
            Clock::System => {
                SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
            }
        }
    }

    /// The time the plots show, in seconds since the epoch. Following a hub, it ends now; following a file,
    /// at its last sample.
    pub fn shown_range(&self) -> (f64, f64) {
        if let (false, Some(range)) = (self.following, self.paused_range) {
            return range;
        }
        let span = self.store.span();
        let end = match self.source {
            Source::Hub { .. } => self.now(),
            Source::File { .. } => span.map(|(_, last)| last).unwrap_or_else(|| self.now()),
        };
        let start = match self.window.seconds() {
            Some(seconds) => end - seconds,
            None => span.map(|(first, _)| first).unwrap_or(end - 300.0).min(end - 1.0),
        };
        (start, end)
    }

    /// Stops the plots where they are; they may be dragged and zoomed until [`State::follow`].
    pub fn pause(&mut self) {
        self.paused_range = Some(self.shown_range());
        self.following = false;
    }

    /// Makes the plots follow the newest data again.
    pub fn follow(&mut self) {
        self.following = true;
        self.paused_range = None;
    }

    /// Shows `window`, following again when paused (the window is relative to now).
    pub fn show_window(&mut self, window: Window) {
        self.window = window;
        self.follow();
    }
}

/// Draws the viewer into `ui` (the whole window): the top bar, then one chart per stock.
pub fn stocks_ui(ui: &mut Ui, state: &mut State) {
    egui::Frame::central_panel(ui.style()).show(ui, |ui| charts_ui(ui, state));
}

fn charts_ui(ui: &mut Ui, state: &mut State) {
    top_bar(ui, state);
    ui.separator();
    if state.store.charts().is_empty() {
        ui.add_space(40.0);
        ui.vertical_centered(|ui| {
            ui.label(RichText::new(empty_text(state)).size(16.0).weak());
        });
        return;
    }
    let range = state.shown_range();
    let mut new_range = None;
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        for index in 0..state.store.charts().len() {
            // Every chart takes the same height, so one scrolled out of sight is only its space: its lines
            // are neither read nor drawn.
            let (rect, _) =
                ui.allocate_exact_size(egui::vec2(ui.available_width(), CHART_HEIGHT), egui::Sense::hover());
            if !ui.is_rect_visible(rect) {
                continue;
            }
            let mut chart = ui.new_child(
                egui::UiBuilder::new().max_rect(rect).layout(egui::Layout::top_down(egui::Align::Min)),
            );
            if let Some(range) = chart_ui(&mut chart, state, index, range) {
                new_range = Some(range);
            }
        }
    });
    // Dragged or zoomed while paused: every plot shows the new range from the next frame on.
    if let (false, Some(range)) = (state.following, new_range) {
        state.paused_range = Some(range);
    }
}

fn empty_text(state: &State) -> String {
    match &state.source {
        Source::Hub { .. } => {
            "No stock published yet. In `remote live`, run `cpu_publish(sandbox)`, or schedule\n\
            all five stocks every 5 s with `stats_jobs sandbox`."
                .to_string()
        }
        Source::File { path } => {
            format!("{} holds no published samples (as recent as --since asks, when given).", path.display())
        }
    }
}

fn top_bar(ui: &mut Ui, state: &mut State) {
    ui.horizontal(|ui| {
        status_ui(ui, state);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if state.following {
                if ui.button("Pause").on_hover_text("Hold the time shown; drag and zoom the plots").clicked()
                {
                    state.pause();
                }
            } else if ui.button("Follow").on_hover_text("Follow the newest data again").clicked() {
                state.follow();
            }
            ui.separator();
            for window in Window::ALL.iter().rev() {
                let selected = state.window == *window && state.following;
                if ui.selectable_label(selected, window.label()).clicked() {
                    state.show_window(*window);
                }
            }
            ui.label("Show:");
        });
    });
}

fn status_ui(ui: &mut Ui, state: &State) {
    const GREEN: Color32 = Color32::from_rgb(80, 200, 120);
    const AMBER: Color32 = Color32::from_rgb(230, 180, 60);
    const RED: Color32 = Color32::from_rgb(230, 90, 80);
    match &state.source {
        Source::File { path } => {
            dot(ui, Color32::GRAY);
            ui.label(format!("history {} (offline)", path.display()));
        }
        Source::Hub { url } => {
            let address = url.trim_start_matches("http://").trim_end_matches("/stream");
            match &state.status {
                Status::Live => {
                    dot(ui, GREEN);
                    ui.label(format!("live from {address}"));
                }
                Status::Connecting => {
                    dot(ui, AMBER);
                    ui.label(format!("connecting to {address}…"));
                }
                Status::Down { reason, retry_at } => {
                    let seconds = retry_at.saturating_duration_since(Instant::now()).as_secs_f32().ceil();
                    dot(ui, RED);
                    ui.label(format!("{address}: {reason}; retrying in {seconds:.0} s"));
                    // The countdown moves without new data.
                    ui.ctx().request_repaint_after(std::time::Duration::from_millis(250));
                }
            }
        }
    }
    if state.store.dropped > 0 {
        ui.separator();
        ui.label(
            RichText::new(format!("{} batches missed (this viewer fell behind)", state.store.dropped))
                .color(AMBER),
        );
    }
}

/// The status light: a filled circle (drawn, as the default fonts have no such glyph).
fn dot(ui: &mut Ui, colour: Color32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
    ui.painter().circle_filled(rect.center(), 4.5, colour);
}

/// Grid steps a clock reads well (seconds): the axis marks whole minutes, hours, days rather than 100 s.
const TIME_STEPS: [f64; 20] = [
    1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10_800.0,
    21_600.0, 43_200.0, 86_400.0, 172_800.0, 604_800.0,
];

/// The three grid steps (thin, medium, thick) for marks at least `base` seconds apart; the thick ones far
/// enough apart for a time label between them.
fn time_steps(base: f64) -> [f64; 3] {
    let first = TIME_STEPS.iter().position(|&s| s >= base).unwrap_or(TIME_STEPS.len() - 1);
    let at = |i: usize| TIME_STEPS[i.min(TIME_STEPS.len() - 1)];
    [at(first), at(first + 2), at(first + 4)]
}

/// Draws chart `index`; gives the plot's time range when the user moved it.
fn chart_ui(ui: &mut Ui, state: &mut State, index: usize, (x0, x1): (f64, f64)) -> Option<(f64, f64)> {
    let chart = &state.store.charts()[index];
    // The axis speaks the fields' unit when they share one (a stock of `used` and `ram_used_percent` does
    // not).
    let first = chart.lines.first().map(|l| l.unit).unwrap_or(Unit::Number);
    let unit = if chart.lines.iter().all(|l| l.unit == first) { first } else { Unit::Number };
    ui.label(RichText::new(&chart.title).heading());
    let mut moved = None;
    let mut toggled = None;
    ui.horizontal_top(|ui| {
        let width = (ui.available_width() - LEGEND_WIDTH - 8.0).max(200.0);
        // Each line read once a frame: its points to draw and its legend's figures in one pass.
        let span = x1 - x0;
        let paused = !state.following;
        // Drawn a window's width beyond each side while paused, so a drag shows data before the next frame.
        let (drawn, columns) =
            if paused { ((x0 - span, x1 + span), width as usize * 3) } else { ((x0, x1), width as usize) };
        let lines: Vec<(Cow<'_, [egui_plot::PlotPoint]>, Option<Stats>)> = chart
            .lines
            .iter()
            .map(|line| {
                if state.decimation {
                    prepare(&line.points, (x0, x1), drawn, columns)
                } else {
                    (Cow::Borrowed(line.points.as_slice()), stats(&line.points, x0, x1))
                }
            })
            .collect();
        moved = plot_ui(ui, state, chart, &lines, unit, width, (x0, x1));
        toggled = legend_ui(ui, state, chart, &lines);
    });
    if let Some(name) = toggled {
        let key = (state.store.charts()[index].title.clone(), name);
        if !state.hidden.remove(&key) {
            state.hidden.insert(key);
        }
    }
    moved
}

/// The points of a chart's lines as drawn this frame, and their legend figures, in the chart's line order.
type Prepared<'a> = [(Cow<'a, [egui_plot::PlotPoint]>, Option<Stats>)];

fn plot_ui(
    ui: &mut Ui,
    state: &State,
    chart: &Chart,
    lines: &Prepared<'_>,
    unit: Unit,
    width: f32,
    (x0, x1): (f64, f64),
) -> Option<(f64, f64)> {
    let time_zone = state.time_zone.clone();
    let span = x1 - x0;
    let label_zone = time_zone.clone();
    let paused = !state.following;
    let shown =
        |line: &crate::store::Series| !state.hidden.contains(&(chart.title.clone(), line.name.clone()));
    // The hover label writes a value in its own line's unit.
    let units: HashMap<String, Unit> = chart.lines.iter().map(|l| (l.name.clone(), l.unit)).collect();
    // The value axis fits the lines shown over the time shown, not the points drawn beyond it while paused.
    let (low, high) = chart
        .lines
        .iter()
        .zip(lines)
        .filter(|(line, _)| shown(line))
        .filter_map(|(_, (_, figures))| figures.map(|f| (f.min, f.max)))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (min, max)| (l.min(min), h.max(max)));
    let y_range = (low <= high).then(|| {
        let margin = if high > low { (high - low) * 0.05 } else { low.abs().max(1.0) * 0.05 };
        (low - margin)..=(high + margin)
    });
    let response = Plot::new(("stock", &chart.title))
        .width(width)
        .height(PLOT_HEIGHT)
        .link_cursor(Id::unique("remote-viewer-cursor"), [true, false])
        .link_axis(Id::unique("remote-viewer-time"), [true, false])
        .allow_drag([paused, false])
        .allow_zoom([paused, false])
        .allow_scroll([paused, false])
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .x_axis_formatter(move |mark: GridMark, _| time_label(&time_zone, mark.value, span))
        .x_grid_spacer(egui_plot::uniform_grid_spacer(|input| time_steps(input.base_step_size)))
        .y_axis_formatter(move |mark: GridMark, _| unit.axis(mark.value, mark.step_size))
        .y_axis_min_width(56.0)
        .label_formatter(move |position: &HoverPosition<'_>| match position {
            HoverPosition::NearDataPoint { plot_name, position, .. } => {
                let unit = units.get(*plot_name).copied().unwrap_or(Unit::Number);
                Some(format!(
                    "{plot_name}\n{}\n{}",
                    time_label(&label_zone, position.x, 0.0),
                    unit.format(position.y)
                ))
            }
            HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            // While paused the time shown is the state's, which a drag or zoom of any plot moves (below);
            // following, it is the window ending now.
            plot.set_plot_bounds_x(x0..=x1);
            match &y_range {
                Some(range) => plot.set_plot_bounds_y(range.clone()),
                None => plot.set_auto_bounds([false, true]),
            }
            for (line, (points, _)) in chart.lines.iter().zip(lines) {
                if shown(line) {
                    let points = PlotPoints::Borrowed(points);
                    plot.line(Line::new(line.name.clone(), points).color(line.colour).width(1.5));
                }
            }
        });
    // The time this frame ended up showing after a drag or zoom of this plot (the one under the pointer): the
    // time every plot shows from the next frame on. Other plots, drawn before or after it, say nothing.
    let bounds = response.transform.bounds();
    let (b0, b1) = (bounds.min()[0], bounds.max()[0]);
    let touched = response.response.hovered() || response.response.dragged();
    (paused && touched && (b0 != x0 || b1 != x1) && b1 > b0).then_some((b0, b1))
}

/// The legend table: a row per line with its colour, name and last/min/max/mean over the time shown. Gives
/// the name of a line whose row was clicked.
fn legend_ui(ui: &mut Ui, state: &State, chart: &Chart, lines: &Prepared<'_>) -> Option<String> {
    let mut clicked = None;
    ui.vertical(|ui| {
        ui.set_width(LEGEND_WIDTH);
        egui::ScrollArea::vertical().id_salt(("legend", &chart.title)).max_height(PLOT_HEIGHT).show(
            ui,
            |ui| {
                egui::Grid::new(("legend-grid", &chart.title))
                    .num_columns(6)
                    .striped(true)
                    .spacing([10.0, 2.0])
                    .show(ui, |ui| {
                        for heading in ["", "line", "last", "min", "max", "mean"] {
                            ui.label(RichText::new(heading).small().weak());
                        }
                        ui.end_row();
                        for (line, (_, figures)) in chart.lines.iter().zip(lines) {
                            let hidden = state.hidden.contains(&(chart.title.clone(), line.name.clone()));
                            let colour = if hidden { Color32::from_gray(90) } else { line.colour };
                            let (rect, _) =
                                ui.allocate_exact_size(egui::vec2(14.0, 4.0), egui::Sense::hover());
                            ui.painter().rect_filled(rect, 1.0, colour);
                            let name = if hidden {
                                RichText::new(&line.name).weak().strikethrough()
                            } else {
                                RichText::new(&line.name)
                            };
                            let label = ui.add(egui::Label::new(name).sense(egui::Sense::click()));
                            if label
                                .on_hover_text(if hidden { "Show this line" } else { "Hide this line" })
                                .clicked()
                            {
                                clicked = Some(line.name.clone());
                            }
                            match figures {
                                Some(s) => {
                                    for value in [s.last, s.min, s.max, s.mean] {
                                        ui.label(RichText::new(line.unit.format(value)).monospace());
                                    }
                                }
                                None => {
                                    for _ in 0..4 {
                                        ui.label(RichText::new("–").weak());
                                    }
                                }
                            }
                            ui.end_row();
                        }
                    });
            },
        );
    });
    clicked
}

/// A time on the axis or in a hover label, in the viewer's time zone: seconds when the window is short,
/// the day when it is long.
pub fn time_label(time_zone: &TimeZone, seconds: f64, span: f64) -> String {
    let Ok(at) = jiff::Timestamp::from_millisecond((seconds * 1000.0).round() as i64) else {
        return String::new();
    };
    let local = at.to_zoned_datetime(time_zone.clone());
    let format = match span {
        s if s <= 0.0 => "%Y-%m-%d %H:%M:%S",
        s if s <= 3600.0 => "%H:%M:%S",
        s if s <= 86_400.0 => "%H:%M",
        _ => "%b %d %H:%M",
    };
    local.strftime(format).to_string()
}
