//! What the property tests of the crates that read text share: a proptest configuration sized for CI, and
//! samples with text spliced in, cut out or duplicated (`spliced`), the inputs that find parsers' panics and
//! errors placed on lines the input does not have. A dev-dependency only: nothing here ships.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;

/// `cases` cases, few enough that every property of a crate runs in seconds in a debug build on two cores,
/// unless `PROPTEST_CASES` asks for more (a longer hunt, by hand); nothing is written to the repository when
/// one fails.
pub fn config(cases: u32) -> Config {
    let default = Config::default();
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() { default.cases } else { cases };
    Config { cases, failure_persistence: None, ..default }
}

/// Noise to splice in: random bytes read as lossily as a host's output is, printable text, or one of
/// `special` (what the format in question gives a meaning to), which chance alone would rarely produce.
fn noise(special: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..12)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        "\\PC{0,12}",
        prop::sample::select(special).prop_map(str::to_string),
    ]
}

/// One change to a sample.
#[derive(Clone, Debug)]
enum Edit {
    /// Text inserted at a point.
    Insert(Index, String),
    /// Up to this many characters cut out from a point.
    Cut(Index, usize),
    /// A stretch of up to this many characters repeated where it stands.
    Repeat(Index, usize),
    /// A line inserted before a line: noise, or a line of any sample.
    Line(Index, String),
    /// A line removed.
    Drop(Index),
    /// A line copied before another.
    Copy(Index, Index),
}

/// `text` with `edit` made at character boundaries.
fn apply(text: &mut String, edit: &Edit) {
    let points: Vec<usize> = text.char_indices().map(|(at, _)| at).chain([text.len()]).collect();
    let span = |at: &Index, len: usize| {
        let start = at.index(points.len());
        points[start]..points[(start + len).min(points.len() - 1)]
    };
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    // A line moved or added ends with a line break, so that it stays a line of its own.
    let whole = |line: &str| if line.ends_with('\n') { line.to_string() } else { format!("{line}\n") };
    match edit {
        Edit::Insert(at, noise) => text.insert_str(points[at.index(points.len())], noise),
        Edit::Cut(at, len) => text.replace_range(span(at, *len), ""),
        Edit::Repeat(at, len) => {
            let range = span(at, *len);
            let copy = text[range.clone()].to_string();
            text.insert_str(range.start, &copy);
        }
        Edit::Line(at, line) => {
            lines.insert(at.index(lines.len() + 1), whole(line));
            *text = lines.concat();
        }
        Edit::Drop(at) if !lines.is_empty() => {
            lines.remove(at.index(lines.len()));
            *text = lines.concat();
        }
        Edit::Copy(from, to) if !lines.is_empty() => {
            let line = whole(&lines[from.index(lines.len())]);
            lines.insert(to.index(lines.len() + 1), line);
            *text = lines.concat();
        }
        Edit::Drop(_) | Edit::Copy(..) => {}
    }
}

/// One of `samples` with one to five edits: noise or `special` pieces inserted, lines of any sample spliced
/// in, stretches and lines cut out or duplicated.
pub fn spliced(samples: Vec<String>, special: &'static [&'static str]) -> impl Strategy<Value = String> {
    let pool: Vec<String> = samples.iter().flat_map(|sample| sample.lines()).map(str::to_string).collect();
    let line = prop_oneof![prop::sample::select(pool), noise(special)];
    let edit = prop_oneof![
        (any::<Index>(), noise(special)).prop_map(|(at, text)| Edit::Insert(at, text)),
        (any::<Index>(), 1..24usize).prop_map(|(at, len)| Edit::Cut(at, len)),
        (any::<Index>(), 1..24usize).prop_map(|(at, len)| Edit::Repeat(at, len)),
        (any::<Index>(), line).prop_map(|(at, line)| Edit::Line(at, line)),
        any::<Index>().prop_map(Edit::Drop),
        (any::<Index>(), any::<Index>()).prop_map(|(from, to)| Edit::Copy(from, to)),
    ];
    (prop::sample::select(samples), prop::collection::vec(edit, 1..6)).prop_map(|(sample, edits)| {
        let mut text = sample;
        for edit in &edits {
            apply(&mut text, edit);
        }
        text
    })
}

/// `samples` as owned strings, for [`spliced`].
pub fn owned(samples: &[&str]) -> Vec<String> {
    samples.iter().map(|sample| sample.to_string()).collect()
}

/// Arbitrary text: printable, or random bytes read lossily, over a few lines.
pub fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,200}",
        prop::collection::vec(any::<u8>(), 0..200)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        prop::collection::vec("[ -~\t]{0,30}", 0..8).prop_map(|lines| lines.join("\n")),
    ]
}

/// Whether `line` (from 1) is a line of `text`, or the one just after its last.
pub fn line_of(text: &str, line: usize) -> bool {
    (1..=text.lines().count() + 1).contains(&line)
}

/// The number after `marker` in `message`, e.g. the 3 of "line 3" after "line ".
pub fn number_after(message: &str, marker: &str) -> Option<usize> {
    let rest = &message[message.find(marker)? + marker.len()..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}
