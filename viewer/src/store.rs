//! The viewer's data: every chart (stock) it has heard of, a line per host, item and field, points in time
//! order. Fed by the hub's events or a history file; read by the UI each frame.

use std::collections::HashMap;

use egui::Color32;
use egui_plot::PlotPoint;
use remote_core::pretty::sanitize;

use crate::units::Unit;
use crate::wire::{Batch, Event};

/// The most points one line keeps (the oldest go first): 24 h of one-second samples, ~1.4 MB a line.
pub const MAX_POINTS: usize = 86_400;

/// The names the hub gives a `fleet` stock's extra lines (remote-host/src/hub.rs).
const FLEET_MEAN: &str = "fleet mean";
const FLEET_MAX: &str = "fleet max";

/// Everything received, chart by chart, the charts in order of their titles.
#[derive(Default)]
pub struct Store {
    charts: Vec<Chart>,
    by_title: HashMap<String, usize>,
    colours: Colours,
    /// Batches the hub left out because this viewer fell behind, since it started.
    pub dropped: u64,
}

/// One stock: a title and its lines, sorted by name (fleet lines last).
pub struct Chart {
    /// The stock's title.
    pub title: String,
    /// Its lines.
    pub lines: Vec<Series>,
    by_key: HashMap<(String, String, String), usize>,
    fields: Vec<String>,
}

/// One line: a field's values on one host (and item) over time.
pub struct Series {
    /// The field (`idle`).
    pub field: String,
    /// The host, or `fleet mean` / `fleet max`.
    pub host: String,
    /// The filesystem, interface or sensor; empty for host-wide values.
    pub item: String,
    /// How the legend and the hover label call it.
    pub name: String,
    /// Its colour, the same in every chart and every run.
    pub colour: Color32,
    /// The unit of its field.
    pub unit: Unit,
    /// x: seconds since the Unix epoch, y: the value; sorted by x, one point per x.
    pub points: Vec<PlotPoint>,
}

impl Store {
    /// Takes in one event of the stream (or of a history file).
    pub fn apply(&mut self, event: Event) {
        match event {
            Event::History(batches) => batches.iter().for_each(|b| self.add(b)),
            Event::Batch(batch) => self.add(&batch),
            Event::Dropped(n) => self.dropped += n,
            Event::Other(_) => {}
        }
    }

    /// Adds a batch's samples. A sample already held (the same line at the same millisecond, as a
    /// reconnection's history repeats what came live before) replaces the one held rather than doubling it.
    pub fn add(&mut self, batch: &Batch) {
        if batch.samples.is_empty() {
            return;
        }
        let index = match self.by_title.get(&batch.stock) {
            Some(&i) => i,
            None => {
                // By title, so the charts keep their places whichever job publishes first after a restart.
                let at = self.charts.partition_point(|c| c.title < batch.stock);
                self.charts.insert(at, Chart::new(&batch.stock));
                self.by_title = self.charts.iter().enumerate().map(|(i, c)| (c.title.clone(), i)).collect();
                at
            }
        };
        let chart = &mut self.charts[index];
        for sample in &batch.samples {
            if !sample.value.is_finite() {
                continue;
            }
            let line = chart.line(&sample.field, &sample.host, &sample.item, &mut self.colours);
            insert(&mut line.points, PlotPoint::new(sample.at_ms as f64 / 1000.0, sample.value));
        }
    }

    /// The charts, by title.
    pub fn charts(&self) -> &[Chart] {
        &self.charts
    }

    /// The earliest and latest time of any point, in seconds since the epoch.
    pub fn span(&self) -> Option<(f64, f64)> {
        let lines = self.charts.iter().flat_map(|c| &c.lines);
        lines
            .filter_map(|l| Some((l.points.first()?.x, l.points.last()?.x)))
            .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
    }

    /// How many points are held, in all lines.
    pub fn points(&self) -> usize {
        self.charts.iter().flat_map(|c| &c.lines).map(|l| l.points.len()).sum()
    }

    /// What the window would draw, as text (`viewer --charts`): a line per chart with its lines and points,
    /// then each line's last value in its unit. Names come from hosts and pipelines, so they are sanitised
    /// before a terminal sees them.
    pub fn summary(&self) -> String {
        if self.charts.is_empty() {
            return "no charts: nothing was published in the time this covers\n".to_string();
        }
        let mut text = String::new();
        for chart in &self.charts {
            let points: usize = chart.lines.iter().map(|l| l.points.len()).sum();
            let lines = chart.lines.len();
            text.push_str(&format!(
                "{}: {lines} line{}, {points} point{}\n",
                sanitize(&chart.title),
                if lines == 1 { "" } else { "s" },
                if points == 1 { "" } else { "s" },
            ));
            for line in &chart.lines {
                let last = line.points.last().map(|p| line.unit.format(p.y)).unwrap_or_default();
                text.push_str(&format!("  {}  {last}\n", sanitize(&line.name)));
            }
        }
        text
    }
}

impl Chart {
    fn new(title: &str) -> Chart {
        Chart { title: title.to_string(), lines: Vec::new(), by_key: HashMap::new(), fields: Vec::new() }
    }

    /// The line of `field` on `host` and `item`, made when new.
    fn line(&mut self, field: &str, host: &str, item: &str, colours: &mut Colours) -> &mut Series {
        let key = (field.to_string(), host.to_string(), item.to_string());
        if let Some(&i) = self.by_key.get(&key) {
            return &mut self.lines[i];
        }
        if !self.fields.iter().any(|f| f == field) {
            self.fields.push(field.to_string());
        }
        let name = [host, item].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" ");
        let taken: Vec<Color32> = self.lines.iter().map(|l| l.colour).collect();
        let series = Series {
            field: field.to_string(),
            host: host.to_string(),
            item: item.to_string(),
            colour: colours.of(&name, host, &taken),
            name,
            unit: Unit::of(field),
            points: Vec::new(),
        };
        let at = self.lines.partition_point(|l| order(l) < order(&series));
        self.lines.insert(at, series);
        self.by_key = self
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| ((l.field.clone(), l.host.clone(), l.item.clone()), i))
            .collect();
        let i = self.by_key[&key];
        // A chart of several fields names each line's field too.
        if self.fields.len() > 1 {
            for line in &mut self.lines {
                if !line.name.ends_with(&format!("· {}", line.field)) {
                    line.name = format!("{} · {}", line.name, line.field);
                }
            }
        }
        &mut self.lines[i]
    }
}

/// Lines sort by host (fleet lines last), then item, then field; hosts by natural order, so `web-2` comes
/// before `web-10`.
fn order(line: &Series) -> (bool, Vec<Chunk<'_>>, &str, &str) {
    let fleet = line.host == FLEET_MEAN || line.host == FLEET_MAX;
    (fleet, natural(&line.host), &line.item, &line.field)
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Chunk<'a> {
    Number(u64),
    Text(&'a str),
}

fn natural(s: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits > 0 {
            chunks.push(Chunk::Number(rest[..digits].parse().unwrap_or(u64::MAX)));
            rest = &rest[digits..];
        } else {
            let text = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
            chunks.push(Chunk::Text(&rest[..text]));
            rest = &rest[text..];
        }
    }
    chunks
}

/// Puts `point` in its place by time; a point at a time already held replaces it.
fn insert(points: &mut Vec<PlotPoint>, point: PlotPoint) {
    match points.last() {
        None => points.push(point),
        Some(last) if last.x < point.x => points.push(point),
        _ => {
            let at = points.partition_point(|p| p.x < point.x);
            if points.get(at).is_some_and(|p| p.x == point.x) {
                points[at] = point;
            } else {
                points.insert(at, point);
            }
        }
    }
    // Dropped in chunks, so a full line does not move all its points for every new one.
    if points.len() > MAX_POINTS + MAX_POINTS / 16 {
        points.drain(..points.len() - MAX_POINTS);
    }
}

/// Line colours on a dark background: ten hues far apart, then lighter ones of the same ten for a second
/// round (after Tableau's palettes).
const PALETTE: [Color32; 20] = [
    Color32::from_rgb(0xf2, 0x8e, 0x2b),
    Color32::from_rgb(0x4e, 0x9f, 0xe6),
    Color32::from_rgb(0x6c, 0xc3, 0x5f),
    Color32::from_rgb(0xe1, 0x57, 0x59),
    Color32::from_rgb(0xed, 0xc9, 0x48),
    Color32::from_rgb(0xc1, 0x8f, 0xd6),
    Color32::from_rgb(0x76, 0xb7, 0xb2),
    Color32::from_rgb(0xff, 0x9d, 0xa7),
    Color32::from_rgb(0xc8, 0x9a, 0x6a),
    Color32::from_rgb(0xa0, 0xe3, 0x6b),
    Color32::from_rgb(0xff, 0xbe, 0x7d),
    Color32::from_rgb(0xa0, 0xcb, 0xe8),
    Color32::from_rgb(0x8c, 0xd1, 0x7d),
    Color32::from_rgb(0xff, 0x9d, 0x9a),
    Color32::from_rgb(0xf7, 0xe0, 0x8f),
    Color32::from_rgb(0xd4, 0xa6, 0xc8),
    Color32::from_rgb(0xa8, 0xdc, 0xd6),
    Color32::from_rgb(0xfa, 0xbf, 0xd2),
    Color32::from_rgb(0xd7, 0xb5, 0xa6),
    Color32::from_rgb(0xd4, 0xf2, 0xa5),
];

/// Which colour each line name has: given once, when a name is first seen, and never changed, so a host keeps
/// its colour while the viewer runs and in every chart.
#[derive(Default)]
struct Colours {
    given: HashMap<String, Color32>,
}

impl Colours {
    /// The colour of a new line called `name` on `host` in a chart whose other lines have the colours
    /// `taken`. A name keeps the colour it was first given, in every chart, unless another line of this chart
    /// has it; a new name, or one whose colour is taken here, gets the first colour this chart does not use
    /// (the next one nobody has, for a new name, when that is free here too). So a chart's first twenty lines
    /// never share a colour, and a fleet's samples, arriving in the group's host order, get the same colours
    /// in every run. Fleet lines are grey.
    fn of(&mut self, name: &str, host: &str, taken: &[Color32]) -> Color32 {
        match host {
            FLEET_MEAN => return Color32::from_gray(200),
            FLEET_MAX => return Color32::from_gray(140),
            _ => {}
        }
        let free = |colour: &Color32| !taken.contains(colour);
        if let Some(colour) = self.given.get(name).filter(|c| free(c)) {
            return *colour;
        }
        let next = PALETTE[self.given.len() % PALETTE.len()];
        let colour = if free(&next) { next } else { PALETTE.iter().copied().find(free).unwrap_or(next) };
        self.given.entry(name.to_string()).or_insert(colour);
        colour
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use remote_core::stocks::Sample;

    use super::*;

    fn batch(stock: &str, samples: &[(&str, &str, &str, i64, f64)]) -> Batch {
        let samples = samples
            .iter()
            .map(|&(field, host, item, at_ms, value)| Sample {
                field: field.into(),
                host: host.into(),
                item: item.into(),
                at_ms,
                value,
            })
            .collect();
        Batch { stock: stock.into(), samples }
    }

    /// Applies `events` and describes the store: each chart, its lines by name and their points.
    fn check(events: Vec<Event>, expected: &str) {
        let mut store = Store::default();
        events.into_iter().for_each(|e| store.apply(e));
        let mut got = Vec::new();
        for chart in store.charts() {
            got.push(format!("{}:", chart.title));
            for line in &chart.lines {
                let points: Vec<String> = line.points.iter().map(|p| format!("{}={}", p.x, p.y)).collect();
                got.push(format!("  {} [{}]", line.name, points.join(" ")));
            }
        }
        if store.dropped > 0 {
            got.push(format!("dropped {}", store.dropped));
        }
        assert_eq!(got.join("\n"), expected.trim());
    }

    #[test]
    fn lines_per_host_in_natural_order_with_fleet_lines_last() {
        let b = batch(
            "Idle CPU",
            &[
                ("idle", "fleet mean", "", 1000, 50.0),
                ("idle", "web-10", "", 1000, 90.0),
                ("idle", "web-2", "", 1000, 10.0),
                ("idle", "db", "", 1000, 50.0),
            ],
        );
        check(
            vec![Event::Batch(b)],
            "Idle CPU:\n  db [1=50]\n  web-2 [1=10]\n  web-10 [1=90]\n  fleet mean [1=50]",
        );
    }

    #[test]
    fn items_and_fields_name_their_lines() {
        let disk = batch(
            "Disk",
            &[
                ("disk_used_percent", "web-1", "/var", 2000, 10.0),
                ("disk_used_percent", "web-1", "/", 2000, 20.0),
            ],
        );
        check(vec![Event::Batch(disk)], "Disk:\n  web-1 / [2=20]\n  web-1 /var [2=10]");
        let two = batch("CPU", &[("usr", "a", "", 0, 1.0), ("sys", "a", "", 0, 2.0)]);
        check(vec![Event::Batch(two)], "CPU:\n  a · sys [0=2]\n  a · usr [0=1]");
    }

    #[test]
    fn charts_are_in_order_of_their_titles() {
        let load = batch("Load", &[("load_1", "a", "", 0, 1.0)]);
        let disk = batch("Disk", &[("disk_used_percent", "a", "/", 0, 2.0)]);
        let idle = batch("Idle CPU", &[("idle", "a", "", 0, 3.0)]);
        check(
            vec![Event::Batch(load.clone()), Event::Batch(disk), Event::Batch(idle), Event::Batch(load)],
            "Disk:\n  a / [0=2]\nIdle CPU:\n  a [0=3]\nLoad:\n  a [0=1]",
        );
    }

    #[test]
    fn a_repeated_history_does_not_double_points() {
        let first = batch("Idle CPU", &[("idle", "a", "", 1000, 1.0), ("idle", "a", "", 2000, 2.0)]);
        let live = batch("Idle CPU", &[("idle", "a", "", 3000, 3.0)]);
        let again = batch("Idle CPU", &[("idle", "a", "", 2000, 2.0), ("idle", "a", "", 3000, 3.0)]);
        let late = batch("Idle CPU", &[("idle", "a", "", 1500, 1.5)]);
        check(
            vec![
                Event::History(vec![first]),
                Event::Batch(live),
                Event::History(vec![again]),
                Event::Batch(late),
            ],
            "Idle CPU:\n  a [1=1 1.5=1.5 2=2 3=3]",
        );
    }

    #[test]
    fn dropped_batches_are_counted_and_non_finite_values_left_out() {
        let b = batch("Load", &[("load_1", "a", "", 0, f64::NAN), ("load_1", "a", "", 1000, 0.5)]);
        check(vec![Event::Batch(b), Event::Dropped(3), Event::Dropped(2)], "Load:\n  a [1=0.5]\ndropped 5");
    }

    #[test]
    fn a_line_keeps_its_newest_points() {
        let mut store = Store::default();
        let samples: Vec<_> =
            (0..MAX_POINTS as i64 + 10_000).map(|i| ("idle", "a", "", i * 1000, i as f64)).collect();
        store.add(&batch("Idle CPU", &samples));
        let points = &store.charts()[0].lines[0].points;
        assert!(points.len() <= MAX_POINTS + MAX_POINTS / 16);
        assert_eq!(points.last().map(|p| p.y), Some((MAX_POINTS + 9_999) as f64));
    }

    #[test]
    fn hosts_keep_their_colours_and_a_chart_has_no_two_alike() {
        let hosts: Vec<String> = (1..=20).map(|i| format!("127.0.1.{i}")).collect();
        let idle: Vec<_> = hosts.iter().map(|h| ("idle", h.as_str(), "", 0, 1.0)).collect();
        let load: Vec<_> = hosts.iter().rev().map(|h| ("load_1", h.as_str(), "", 0, 1.0)).collect();
        let mut store = Store::default();
        store.add(&batch("Idle CPU", &idle[..3]));
        let first_three: Vec<_> = store.charts()[0].lines.iter().map(|l| l.colour).collect();
        store.add(&batch("Idle CPU", &idle));
        store.add(&batch("Load", &load));
        store.add(&batch("Idle CPU", &[("idle", "fleet max", "", 0, 1.0)]));
        let colours =
            |chart: &Chart| chart.lines.iter().map(|l| (l.name.clone(), l.colour)).collect::<Vec<_>>();
        let (idle, load) = (colours(&store.charts()[0]), colours(&store.charts()[1]));
        assert_eq!(idle[..20], load[..], "a host's colour differs between charts");
        let distinct: HashSet<_> = idle[..20].iter().map(|(_, c)| *c).collect();
        assert_eq!(distinct.len(), 20, "two lines of a chart share a colour");
        assert_eq!(idle[20], ("fleet max".to_string(), Color32::from_gray(140)));
        // Twenty other names given first (filesystems of another chart): a new chart's two hosts still
        // differ.
        let mounts: Vec<String> = (0..20).map(|i| format!("/data{i}")).collect();
        store.add(&batch(
            "Disk",
            &mounts.iter().map(|m| ("disk_used_percent", "db", m.as_str(), 0, 1.0)).collect::<Vec<_>>(),
        ));
        store.add(&batch(
            "Late",
            &[
                ("idle", "late-1", "", 0, 1.0),
                ("idle", "late-2", "", 0, 1.0),
                ("idle", "127.0.1.1", "", 0, 1.0),
            ],
        ));
        let late = colours(store.charts().iter().find(|c| c.title == "Late").unwrap());
        let distinct: HashSet<_> = late.iter().map(|(_, c)| *c).collect();
        assert_eq!(distinct.len(), 3, "{late:?}");
        // The first three hosts kept their colours, the first three, as seventeen more arrived.
        let idle = store.charts().iter().find(|c| c.title == "Idle CPU").unwrap();
        let now: Vec<_> = idle.lines[..3].iter().map(|l| l.colour).collect();
        assert_eq!(now, first_three);
        assert_eq!(first_three, PALETTE[..3]);
    }

    fn check_summary(batches: &[Batch], expected: &str) {
        let mut store = Store::default();
        batches.iter().for_each(|b| store.add(b));
        assert_eq!(store.summary(), expected);
    }

    #[test]
    fn the_summary_names_each_chart_its_lines_and_their_last_values() {
        check_summary(&[], "no charts: nothing was published in the time this covers\n");
        check_summary(
            &[
                batch("Load per core", &[("load_per_core", "web-2", "", 1000, 0.5)]),
                batch("Load per core", &[("load_per_core", "web-1", "", 1000, 0.25)]),
                batch("Load per core", &[("load_per_core", "web-1", "", 6000, 0.125)]),
                batch("Idle CPU", &[("idle", "web-1", "", 1000, 97.0)]),
            ],
            "Idle CPU: 1 line, 1 point\n  web-1  97.0%\n\
             Load per core: 2 lines, 3 points\n  web-1  0.12\n  web-2  0.50\n",
        );
        // A hostile name cannot move the terminal's cursor or change its title.
        check_summary(
            &[batch("CPU\x1b]0;owned\x07", &[("idle", "evil\x1b[2J", "", 0, 1.0)])],
            "CPU·]0;owned·: 1 line, 1 point\n  evil·[2J  1.0%\n",
        );
    }
}
