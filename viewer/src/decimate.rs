//! Decimation for drawing: a line's points inside the visible time range, reduced to the lowest and highest
//! point of each pixel column, so a frame costs the same whether a line holds an hour or a week.
//!
//! Min/max per column keeps every spike and dip a full drawing would show (unlike averaging or taking every
//! n-th point), and the points stay in time order, so the line looks the same as drawn from all points.

use std::borrow::Cow;

use egui_plot::PlotPoint;

/// A line's summary over the time shown: its last, lowest, highest and mean value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    pub last: f64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
}

/// Sums up points one at a time, in time order.
#[derive(Default)]
struct Summary {
    count: usize,
    sum: f64,
    min: f64,
    max: f64,
    last: f64,
}

impl Summary {
    fn add(&mut self, y: f64) {
        if self.count == 0 {
            (self.min, self.max) = (y, y);
        }
        self.count += 1;
        self.sum += y;
        self.min = self.min.min(y);
        self.max = self.max.max(y);
        self.last = y;
    }

    fn stats(&self) -> Option<Stats> {
        (self.count > 0).then(|| Stats {
            last: self.last,
            min: self.min,
            max: self.max,
            mean: self.sum / self.count as f64,
        })
    }
}

/// `points`' last, lowest, highest and mean value between `x0` and `x1`; none when no point is in it.
pub fn stats(points: &[PlotPoint], x0: f64, x1: f64) -> Option<Stats> {
    let mut summary = Summary::default();
    let start = points.partition_point(|p| p.x < x0);
    let end = points.partition_point(|p| p.x <= x1);
    points.get(start..end).unwrap_or_default().iter().for_each(|p| summary.add(p.y));
    summary.stats()
}

/// The points of `points` (sorted by x) worth drawing over the time `drawn` on `columns` pixel columns (the
/// lowest and highest of each column, plus the nearest point outside each edge so the line reaches it;
/// borrowed when there are no more points than that to begin with), and the [`Stats`] of the time `shown`
/// (inside it), in one pass over the points: the frame reads each point once.
pub fn prepare(
    points: &[PlotPoint],
    shown: (f64, f64),
    (x0, x1): (f64, f64),
    columns: usize,
) -> (Cow<'_, [PlotPoint]>, Option<Stats>) {
    let start = points.partition_point(|p| p.x < x0).saturating_sub(1);
    let end = (points.partition_point(|p| p.x <= x1) + 1).min(points.len());
    if start >= end {
        return (Cow::Borrowed(&[]), None);
    }
    let visible = &points[start..end];
    let columns = columns.max(1);
    if visible.len() <= 2 * columns + 2 || x1 <= x0 {
        return (Cow::Borrowed(visible), stats(visible, shown.0, shown.1));
    }
    let mut summary = Summary::default();
    let width = (x1 - x0) / columns as f64;
    let column_of = |x: f64| ((x - x0) / width).floor().clamp(-1.0, columns as f64) as i64;
    // Where a column ends: a point belongs to the column while it is left of it (one comparison a point,
    // rather than a division).
    let end_of =
        |column: i64| if column < columns as i64 { x0 + (column + 1) as f64 * width } else { f64::INFINITY };
    let mut out = Vec::with_capacity(2 * columns + 2);
    let mut i = 0;
    while i < visible.len() {
        let column = column_of(visible[i].x);
        let end = end_of(column);
        let (mut low, mut high) = (i, i);
        let mut j = i;
        while j < visible.len() && (j == i || visible[j].x < end) {
            let p = visible[j];
            if p.x >= shown.0 && p.x <= shown.1 {
                summary.add(p.y);
            }
            if p.y < visible[low].y {
                low = j;
            }
            if p.y > visible[high].y {
                high = j;
            }
            j += 1;
        }
        // The points outside the range stand for themselves: only the nearest one is kept (the first
        // run of points before x0 ends with it, the run after x1 starts with it).
        if column < 0 {
            out.push(visible[j - 1]);
        } else if column >= columns as i64 {
            out.push(visible[i]);
        } else {
            let (first, second) = (low.min(high), low.max(high));
            out.push(visible[first]);
            if second != first {
                out.push(visible[second]);
            }
        }
        i = j;
    }
    (Cow::Owned(out), summary.stats())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The drawing alone, over the time shown.
    fn decimate(points: &[PlotPoint], x0: f64, x1: f64, columns: usize) -> Cow<'_, [PlotPoint]> {
        prepare(points, (x0, x1), (x0, x1), columns).0
    }

    fn points(ys: &[f64]) -> Vec<PlotPoint> {
        ys.iter().enumerate().map(|(x, &y)| PlotPoint::new(x as f64, y)).collect()
    }

    /// Decimates `ys` (at x = 0, 1, 2, …) and gives the kept points as `x:y`.
    fn check(ys: &[f64], x0: f64, x1: f64, columns: usize, expected: &str) {
        let all = points(ys);
        let kept = decimate(&all, x0, x1, columns);
        let got: Vec<String> = kept.iter().map(|p| format!("{}:{}", p.x, p.y)).collect();
        assert_eq!(got.join(" "), expected, "{ys:?} in {x0}..{x1} on {columns} columns");
    }

    #[test]
    fn few_points_are_drawn_as_they_are() {
        check(&[], 0.0, 10.0, 4, "");
        check(&[5.0], 0.0, 10.0, 4, "0:5");
        check(&[1.0, 2.0, 3.0], 0.0, 2.0, 4, "0:1 1:2 2:3");
    }

    #[test]
    fn one_point_beyond_each_edge_is_kept() {
        check(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2.0, 3.0, 4, "1:2 2:3 3:4 4:5");
        check(&[1.0, 2.0, 3.0], 5.0, 9.0, 4, "2:3");
        check(&[1.0, 2.0, 3.0], -9.0, -5.0, 4, "0:1");
    }

    #[test]
    fn each_column_keeps_its_lowest_and_highest_in_time_order() {
        // Two columns of five points each (x 0..5 and 5..10): the spike and the dip survive.
        let ys = [1.0, 9.0, 1.0, 1.0, 1.0, 2.0, 2.0, -4.0, 2.0, 3.0];
        check(&ys, 0.0, 10.0, 2, "0:1 1:9 7:-4 9:3");
        // A flat column keeps one point.
        check(&[7.0; 12], 0.0, 12.0, 2, "0:7 6:7");
    }

    #[test]
    fn stats_cover_the_points_shown() {
        let all = points(&[1.0, 5.0, 3.0, 7.0]);
        assert_eq!(stats(&all, 0.0, 3.0), Some(Stats { last: 7.0, min: 1.0, max: 7.0, mean: 4.0 }));
        assert_eq!(stats(&all, 1.0, 2.0), Some(Stats { last: 3.0, min: 3.0, max: 5.0, mean: 4.0 }));
        assert_eq!(stats(&all, 5.0, 9.0), None);
    }

    #[test]
    fn the_drawing_pass_gives_the_same_stats_as_reading_every_point() {
        let ys: Vec<f64> = (0..10_000).map(|i| ((i * 7919) % 1000) as f64 / 7.0).collect();
        let all = points(&ys);
        for (shown, drawn) in [
            ((0.0, 10_000.0), (0.0, 10_000.0)),
            ((2_000.0, 3_000.0), (1_000.0, 4_000.0)),
            ((9_000.0, 20_000.0), (8_000.0, 30_000.0)),
            // Range edges on points, where a point belongs to one column only.
            ((2_500.0, 7_500.0), (2_500.0, 7_500.0)),
        ] {
            let (drawing, got) = prepare(&all, shown, drawn, 100);
            assert!(matches!(drawing, Cow::Owned(_)), "{shown:?}: the one-pass path was not taken");
            let expected = stats(&all, shown.0, shown.1).unwrap();
            let got = got.unwrap();
            assert_eq!(
                (got.last, got.min, got.max),
                (expected.last, expected.min, expected.max),
                "{shown:?}"
            );
            assert!((got.mean - expected.mean).abs() < 1e-9, "{shown:?}: {} vs {}", got.mean, expected.mean);
        }
    }

    #[test]
    fn a_long_line_becomes_at_most_two_points_a_column() {
        let ys: Vec<f64> = (0..100_000).map(|i| ((i * 7919) % 1000) as f64).collect();
        let all = points(&ys);
        let kept = decimate(&all, 0.0, 100_000.0, 800);
        assert!(kept.len() <= 2 * 800 + 2, "{} points", kept.len());
        assert!(kept.windows(2).all(|w| w[0].x < w[1].x), "out of time order");
        let (low, high) = kept.iter().fold((f64::MAX, f64::MIN), |(l, h), p| (l.min(p.y), h.max(p.y)));
        assert_eq!((low, high), (0.0, 999.0), "the extremes are lost");
    }
}
