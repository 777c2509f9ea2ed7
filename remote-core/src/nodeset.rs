//! Node sets as ClusterShell writes them: `web-[01-40]`, `10.0.0.[1-9]`, `db-[1,3,5-7]`, expanded to host
//! names and folded back into the shortest such text for people to read.
//!
//! One grammar serves the inventory, `--limit`/`--exclude` and the headers of grouped output, so that what a
//! summary prints can be pasted back where hosts are named. A bracket is a range only when it holds digits,
//! commas, dashes and `/` steps; anything else (an IPv6 literal such as `[::1]:22`) is plain text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The most names one node set may expand to: `web-[1-999999999]` is a typo, not a fleet, and must not
/// exhaust memory before it is reported.
pub const MAX_NAMES: usize = 100_000;

/// Why text is not a node set, with the text and the 1-based column of the fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NodeSetError {
    /// A `[` with no `]` after it.
    #[error("`{text}`: the `[` at column {column} is never closed; write ranges as web-[01-40]")]
    Unclosed { text: String, column: usize },
    /// A `]` with no `[` before it.
    #[error("`{text}`: the `]` at column {column} closes nothing; write ranges as web-[01-40]")]
    Unopened { text: String, column: usize },
    /// A bracket inside a bracket.
    #[error(
        "`{text}`: brackets nest at column {column}; write one range list per bracket, e.g. web-[1-3]-[1-2]"
    )]
    Nested { text: String, column: usize },
    /// Nothing between two commas, or at either end.
    #[error("`{text}`: an empty name at column {column}; separate names with one comma")]
    Empty { text: String, column: usize },
    /// A range inside brackets that does not read as `N`, `A-B` or `A-B/STEP`.
    #[error(
        "`{text}`: `{range}` is not a range ({why}); write N, A-B or A-B/STEP with A ≤ B, e.g. [01-40,42]"
    )]
    Range { text: String, range: String, why: &'static str },
    /// More names than [`MAX_NAMES`].
    #[error("`{text}` names more than {MAX_NAMES} hosts; narrow its ranges")]
    TooMany { text: String },
}

/// True when `text` holds a range bracket, so it names hosts by pattern rather than one host by name.
pub fn is_pattern(text: &str) -> bool {
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) if is_range_list(&after[..close]) => return true,
            Some(close) => rest = &after[close + 1..],
            None => return false,
        }
    }
    false
}

/// The text between brackets is a range list when it is digits, commas, dashes and steps (and spaces).
fn is_range_list(inner: &str) -> bool {
    inner.bytes().any(|b| b.is_ascii_digit())
        && inner.bytes().all(|b| b.is_ascii_digit() || matches!(b, b',' | b'-' | b'/' | b' '))
}

/// The host names `text` stands for, in written order (a name written twice comes twice): comma-separated
/// names, each with any number of range brackets, expanded left to right.
pub fn expand(text: &str) -> Result<Vec<String>, NodeSetError> {
    let mut names = Vec::new();
    for (start, element) in split_top(text)? {
        let trimmed = element.trim();
        if trimmed.is_empty() {
            return Err(NodeSetError::Empty { text: text.to_string(), column: column(text, start) });
        }
        expand_one(text, trimmed, &mut names)?;
    }
    Ok(names)
}

/// The comma-separated elements of `text` outside brackets, each with its byte offset.
fn split_top(text: &str) -> Result<Vec<(usize, &str)>, NodeSetError> {
    let mut elements = Vec::new();
    let mut depth_open: Option<usize> = None;
    let mut start = 0;
    for (at, c) in text.char_indices() {
        match c {
            '[' if depth_open.is_some() => {
                return Err(NodeSetError::Nested { text: text.to_string(), column: column(text, at) });
            }
            '[' => depth_open = Some(at),
            ']' if depth_open.is_none() => {
                return Err(NodeSetError::Unopened { text: text.to_string(), column: column(text, at) });
            }
            ']' => depth_open = None,
            ',' if depth_open.is_none() => {
                elements.push((start, &text[start..at]));
                start = at + 1;
            }
            _ => {}
        }
    }
    if let Some(open) = depth_open {
        return Err(NodeSetError::Unclosed { text: text.to_string(), column: column(text, open) });
    }
    elements.push((start, &text[start..]));
    Ok(elements)
}

fn column(text: &str, at: usize) -> usize {
    text[..at].chars().count() + 1
}

/// Expands one element (no top-level commas) into `names`: the cross product of its range brackets.
fn expand_one(text: &str, element: &str, names: &mut Vec<String>) -> Result<(), NodeSetError> {
    // The element as literal pieces and range lists: "web-[01-03].x" is ["web-", [01,02,03], ".x"].
    let mut parts: Vec<Vec<String>> = Vec::new();
    let mut literal = String::new();
    let mut rest = element;
    while let Some(open) = rest.find('[') {
        let close = open + rest[open..].find(']').expect("split_top checked the brackets");
        let inner = &rest[open + 1..close];
        if is_range_list(inner) {
            literal.push_str(&rest[..open]);
            parts.push(vec![std::mem::take(&mut literal)]);
            parts.push(range_list(text, inner)?);
        } else {
            literal.push_str(&rest[..=close]);
        }
        rest = &rest[close + 1..];
    }
    literal.push_str(rest);
    parts.push(vec![literal]);
    let count =
        parts.iter().try_fold(1usize, |n, part| n.checked_mul(part.len()).filter(|&n| n <= MAX_NAMES));
    if count.is_none_or(|count| names.len() + count > MAX_NAMES) {
        return Err(NodeSetError::TooMany { text: text.to_string() });
    }
    let mut built = vec![String::new()];
    for part in &parts {
        built = built
            .iter()
            .flat_map(|prefix| part.iter().map(move |piece| format!("{prefix}{piece}")))
            .collect();
    }
    names.extend(built);
    Ok(())
}

/// The numbers a bracket's list stands for, as text with their padding: `01-03,7` is 01, 02, 03, 7.
fn range_list(text: &str, inner: &str) -> Result<Vec<String>, NodeSetError> {
    let mut numbers = Vec::new();
    for range in inner.split(',') {
        let range = range.trim();
        let bad = |why| NodeSetError::Range { text: text.to_string(), range: range.to_string(), why };
        if range.is_empty() {
            return Err(bad("it is empty"));
        }
        let (span, step) = match range.split_once('/') {
            Some((span, step)) => (span, Some(step)),
            None => (range, None),
        };
        let step: u64 = match step {
            None => 1,
            Some(step) => {
                step.parse().ok().filter(|&s| s > 0).ok_or_else(|| bad("its step is not a number above 0"))?
            }
        };
        let (low, high) = span.split_once('-').unwrap_or((span, span));
        let number = |digits: &str| -> Result<u64, NodeSetError> {
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 18 {
                return Err(bad("a bound is not a number"));
            }
            Ok(digits.parse().expect("checked digits"))
        };
        let (from, to) = (number(low)?, number(high)?);
        if from > to {
            return Err(bad("it runs backwards"));
        }
        let width = padded_width(low);
        if padded_width(high) != 0 && padded_width(high) != width.max(low.len()) {
            return Err(bad("its bounds are padded differently"));
        }
        // Counted before any is made: `[1-99999,1-99999,…]` must be refused without building it first.
        if (to - from) / step >= (MAX_NAMES - numbers.len()) as u64 {
            return Err(NodeSetError::TooMany { text: text.to_string() });
        }
        let mut n = Some(from);
        while let Some(value) = n.filter(|&value| value <= to) {
            numbers.push(format!("{value:0width$}"));
            n = value.checked_add(step);
        }
    }
    Ok(numbers)
}

/// The width a number written with leading zeros keeps (`007` is 3), or 0 for one written without.
fn padded_width(digits: &str) -> usize {
    if digits.len() > 1 && digits.starts_with('0') { digits.len() } else { 0 }
}

/// The operators of a host-set expression, each written with a space on both sides (a `-` inside a name such
/// as `web-03` is part of the name).
const OPERATORS: [&str; 3] = ["-", "&", "+"];

/// Whether `words` (split at white space) read as a host-set expression: one term, or terms joined by `-`
/// (all but), `&` (both) and `+` (either).
pub fn is_expression(words: &[&str]) -> bool {
    words.len() % 2 == 1 && words.iter().enumerate().all(|(i, word)| (i % 2 == 1) == OPERATORS.contains(word))
}

/// Why a host-set expression names no hosts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// A term is not a node set.
    #[error(transparent)]
    Syntax(#[from] NodeSetError),
    /// The words are not terms joined by operators.
    #[error(
        "`{text}` is not a host set; join groups and hosts with ` - ` (all but), ` & ` (both) or ` + ` (either), spaces around each, e.g. `web - web-[03]`"
    )]
    Shape { text: String },
    /// A term is neither a group nor hosts of the inventory.
    #[error("`{term}` is no group or host of {origin}{hint}")]
    Unknown { term: String, origin: String, hint: String },
}

/// The hosts a host-set expression names, in inventory order of their first appearance: terms are groups
/// (`web`, `@web`) or node sets of host names (`web-[01-03]`, by entry or by name without `user@` and
/// `:port`), joined left to right by ` - `, ` & ` and ` + `.
pub fn select(text: &str, groups: &dyn crate::Groups) -> Result<Vec<crate::HostSpec>, SelectError> {
    // A node set may be written with spaces after its commas (`web-01, web-02`), as `--limit` reads it.
    let joined = text.split(',').map(str::trim).collect::<Vec<_>>().join(",");
    let words: Vec<&str> = joined.split_whitespace().collect();
    if !is_expression(&words) {
        return Err(SelectError::Shape { text: text.to_string() });
    }
    let all = Known::of(groups);
    let mut hosts = term(words[0], groups, &all)?;
    for pair in words[1..].chunks(2) {
        let right = term(pair[1], groups, &all)?;
        let named: std::collections::HashSet<&str> = right.iter().map(|r| r.name.as_str()).collect();
        match pair[0] {
            "-" => hosts.retain(|h| !named.contains(h.name.as_str())),
            "&" => hosts.retain(|h| named.contains(h.name.as_str())),
            _ => {
                let have: std::collections::HashSet<String> = hosts.iter().map(|h| h.name.clone()).collect();
                hosts.extend(right.iter().filter(|r| !have.contains(&r.name)).cloned());
            }
        }
    }
    Ok(hosts)
}

/// Every host of the groups by the names a term may call it: its entry, and its name alone (the first host
/// of a name wins).
struct Known<'a> {
    hosts: Vec<&'a crate::HostSpec>,
    by_name: std::collections::HashMap<&'a str, usize>,
}

impl<'a> Known<'a> {
    fn of(groups: &'a dyn crate::Groups) -> Self {
        let hosts: Vec<&crate::HostSpec> =
            groups.names().into_iter().filter_map(|n| groups.group(n)).flat_map(|g| g.hosts.iter()).collect();
        let mut by_name = std::collections::HashMap::new();
        for (at, host) in hosts.iter().enumerate() {
            by_name.entry(host.name.as_str()).or_insert(at);
        }
        for (at, host) in hosts.iter().enumerate() {
            by_name.entry(host_part(&host.name)).or_insert(at);
        }
        Known { hosts, by_name }
    }
}

/// The hosts one term names: a group, or a node set of hosts found in the groups.
fn term(
    word: &str,
    groups: &dyn crate::Groups,
    all: &Known<'_>,
) -> Result<Vec<crate::HostSpec>, SelectError> {
    if let Some(group) = groups.group(word.strip_prefix('@').unwrap_or(word)) {
        return Ok(group.hosts.clone());
    }
    let mut hosts: Vec<crate::HostSpec> = Vec::new();
    let mut have = std::collections::HashSet::new();
    for name in expand(word)? {
        match all.by_name.get(name.as_str()).map(|&at| all.hosts[at]) {
            Some(host) if have.insert(host.name.clone()) => hosts.push(host.clone()),
            Some(_) => {}
            None => {
                let candidates = groups.names().into_iter().chain(all.hosts.iter().map(|h| h.name.as_str()));
                let hint = crate::did_you_mean(&name, candidates)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                let origin = groups.origin().display().to_string();
                return Err(SelectError::Unknown { term: name, origin, hint });
            }
        }
    }
    Ok(hosts)
}

/// A host entry's name without `user@` and `:port`: `deploy@web-1:2222` is `web-1`, `[::1]:22` is `::1`.
pub fn host_part(name: &str) -> &str {
    let host = name.rsplit_once('@').map_or(name, |(_, host)| host);
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or(host, |(address, _)| address);
    }
    match host.rsplit_once(':') {
        // One colon is a port; more are a bare IPv6 address.
        Some((address, port)) if !address.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            address
        }
        _ => host,
    }
}

/// `names` written as the shortest node set this module folds to: names that differ in one number are one
/// pattern (`127.0.1.[1-3]`, `web-[01-40,42]`), patterns in natural order, duplicates once. Names holding
/// `[`, `]` or `,` are written as they are. `expand(&fold(names))` gives the same set of names.
pub fn fold<S: AsRef<str>>(names: &[S]) -> String {
    let mut plain: Vec<String> = Vec::new();
    // Names by shape: their text pieces with the digit runs taken out.
    let mut shapes: BTreeMap<Vec<String>, Vec<Vec<String>>> = BTreeMap::new();
    for name in names {
        let name = name.as_ref();
        if name.contains(['[', ']', ',']) {
            plain.push(name.to_string());
            continue;
        }
        let (texts, digits) = tokens(name);
        shapes.entry(texts).or_default().push(digits);
    }
    let mut patterns: Vec<(String, String)> = Vec::new();
    for (texts, mut members) in shapes {
        members.sort();
        members.dedup();
        if members[0].is_empty() {
            patterns.push((texts[0].clone(), texts[0].clone()));
            continue;
        }
        let dimension = best_dimension(&members);
        let mut by_rest: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
        for digits in members {
            let mut rest = digits.clone();
            let varying = std::mem::take(&mut rest[dimension]);
            by_rest.entry(rest).or_default().push(varying);
        }
        for (rest, varying) in by_rest {
            let mut text = String::new();
            for (i, piece) in texts.iter().enumerate() {
                text.push_str(piece);
                if i < rest.len() {
                    if i == dimension {
                        text.push_str(&fold_numbers(&varying));
                    } else {
                        text.push_str(&rest[i]);
                    }
                }
            }
            let first = varying.iter().min_by_key(|d| (d.len(), (*d).clone())).cloned().unwrap_or_default();
            let mut key_digits = rest.clone();
            key_digits[dimension] = first;
            patterns.push((natural_key(&texts, &key_digits), text));
        }
    }
    plain.sort();
    plain.dedup();
    patterns.extend(plain.into_iter().map(|name| (name.clone(), name)));
    patterns.sort();
    let mut out = String::new();
    for (i, (_, pattern)) in patterns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(pattern);
    }
    out
}

/// A name's text pieces and digit runs, alternating: "web-01.x" is (["web-", ".x"], ["01"]); there is
/// always one text piece more than digit runs. Runs longer than 18 digits are text (no u64 holds them).
fn tokens(name: &str) -> (Vec<String>, Vec<String>) {
    let mut texts = vec![String::new()];
    let mut digits = Vec::new();
    let bytes = name.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let run = bytes[at..].iter().take_while(|b| b.is_ascii_digit()).count();
        if run > 0 && run <= 18 {
            digits.push(name[at..at + run].to_string());
            texts.push(String::new());
            at += run;
        } else {
            let len = if run > 0 { run } else { name[at..].chars().next().map_or(1, char::len_utf8) };
            texts.last_mut().expect("one text piece at least").push_str(&name[at..at + len]);
            at += len;
        }
    }
    (texts, digits)
}

/// The digit run to fold on: the one that leaves fewest patterns, the last one on a tie (`10.0.0.[1-9]`).
fn best_dimension(members: &[Vec<String>]) -> usize {
    let runs = members[0].len();
    (0..runs)
        .rev()
        .min_by_key(|&d| {
            let mut rests: Vec<Vec<&String>> = members
                .iter()
                .map(|m| m.iter().enumerate().filter(|(i, _)| *i != d).map(|(_, s)| s).collect())
                .collect();
            rests.sort();
            rests.dedup();
            rests.len()
        })
        .unwrap_or(0)
}

/// Sorts names as people count: "web-2" before "web-10".
fn natural_key(texts: &[String], digits: &[String]) -> String {
    let mut key = String::new();
    for (i, text) in texts.iter().enumerate() {
        key.push_str(text);
        if let Some(d) = digits.get(i) {
            let _ = write!(key, "{:020}", d.parse::<u64>().unwrap_or(0));
            let _ = write!(key, "{:02}", d.len());
        }
    }
    key
}

/// Digit strings as one run: a single one as it is, several as a bracket of ranges
/// (`["01","02","03","07"]` is `[01-03,07]`). A number keeps its padding; one written without leading zeros
/// joins the padded ones of its length (`08,09,10` is `08-10`).
fn fold_numbers(numbers: &[String]) -> String {
    if numbers.len() == 1 {
        return numbers[0].clone();
    }
    let padded: Vec<usize> = numbers.iter().map(|n| padded_width(n)).filter(|&w| w > 0).collect();
    // Each number's width class: the padding it must be printed with.
    let mut classes: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
    for n in numbers {
        let width = match padded_width(n) {
            0 if padded.contains(&n.len()) => n.len(),
            w => w,
        };
        classes.entry(width).or_default().push(n.parse().expect("digit runs are numbers"));
    }
    let mut ranges: Vec<(u64, String)> = Vec::new();
    for (width, mut values) in classes {
        values.sort_unstable();
        values.dedup();
        let mut i = 0;
        while i < values.len() {
            let mut j = i;
            while j + 1 < values.len() && values[j + 1] == values[j] + 1 {
                j += 1;
            }
            let text = if i == j {
                format!("{:0width$}", values[i])
            } else {
                format!("{:0width$}-{:0width$}", values[i], values[j])
            };
            ranges.push((values[i], text));
            i = j + 1;
        }
    }
    ranges.sort();
    let inner: Vec<&str> = ranges.iter().map(|(_, text)| text.as_str()).collect();
    format!("[{}]", inner.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_expand(text: &str, expected: &[&str]) {
        assert_eq!(expand(text).unwrap(), expected, "expand({text:?})");
    }

    fn check_error(text: &str, expected: &str) {
        let err = expand(text).expect_err(text).to_string();
        assert!(err.contains(expected), "expand({text:?}) said {err:?}, wanted {expected:?}");
    }

    fn check_fold(names: &[&str], expected: &str) {
        assert_eq!(fold(names), expected, "fold({names:?})");
    }

    #[test]
    fn ranges_expand_in_written_order_with_their_padding() {
        check_expand("web-1", &["web-1"]);
        check_expand("web-[1-3]", &["web-1", "web-2", "web-3"]);
        check_expand("web-[01-03]", &["web-01", "web-02", "web-03"]);
        check_expand("web-[08-10]", &["web-08", "web-09", "web-10"]);
        check_expand("10.0.0.[1-3]", &["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
        check_expand("db-[1,3,5-7]", &["db-1", "db-3", "db-5", "db-6", "db-7"]);
        check_expand("n[1-7/3]", &["n1", "n4", "n7"]);
        check_expand("a,b", &["a", "b"]);
        check_expand(" a , b ", &["a", "b"]);
        check_expand("r[1-2]-n[1-2]", &["r1-n1", "r1-n2", "r2-n1", "r2-n2"]);
        check_expand("web-[1-2].example.org", &["web-1.example.org", "web-2.example.org"]);
        check_expand("deploy@web-[1-2]:2222", &["deploy@web-1:2222", "deploy@web-2:2222"]);
        check_expand("b,a,b", &["b", "a", "b"]);
        check_expand("web-[1-5/18446744073709551615]", &["web-1"]);
    }

    #[test]
    fn brackets_that_are_not_ranges_are_text() {
        check_expand("[::1]:22", &["[::1]:22"]);
        check_expand("[::1]", &["[::1]"]);
        check_expand("[fe80::1]:2222,h", &["[fe80::1]:2222", "h"]);
        assert!(!is_pattern("[::1]:22"));
        assert!(!is_pattern("web-1"));
        assert!(is_pattern("web-[1-2]"));
        assert!(is_pattern("[::1]-[1-2]"));
    }

    #[test]
    fn bad_node_sets_say_where_and_how_to_write_them() {
        check_error("web-[1-3", "the `[` at column 5 is never closed");
        check_error("web-1-3]", "the `]` at column 8 closes nothing");
        check_error("web-[1-[2]]", "brackets nest at column 8");
        check_error("a,,b", "an empty name at column 3");
        check_error("a,", "an empty name at column 3");
        check_error("web-[3-1]", "`3-1` is not a range (it runs backwards)");
        check_error("web-[1-]", "`1-` is not a range (a bound is not a number)");
        check_error("web-[1,]", "`` is not a range (it is empty)");
        check_error("web-[1-9/0]", "its step is not a number above 0");
        check_error("web-[1-999999999]", "names more than 100000 hosts");
        check_error("a[1-1000]-b[1-1000]", "names more than 100000 hosts");
        check_error("web-[01-0010]", "its bounds are padded differently");
        check_error("web-[1-99999,1-99999]", "names more than 100000 hosts");
    }

    #[test]
    fn folds_are_compact_natural_and_keep_padding() {
        check_fold(&["127.0.1.1", "127.0.1.2", "127.0.1.3"], "127.0.1.[1-3]");
        check_fold(&["web-01", "web-02", "web-03", "web-05"], "web-[01-03,05]");
        check_fold(&["web-2", "web-10", "web-1"], "web-[1-2,10]");
        check_fold(&["web-08", "web-09", "web-10"], "web-[08-10]");
        check_fold(&["web-007", "web-08", "web-100"], "web-[007,08,100]");
        check_fold(&["a"], "a");
        check_fold(&["web-1"], "web-1");
        check_fold(&["b", "a", "a"], "a,b");
        check_fold(&["db-1", "web-1", "web-2"], "db-1,web-[1-2]");
        check_fold(&["web-10", "web-9"], "web-[9-10]");
        check_fold(&["127.0.1.1:2222", "127.0.1.2:2222"], "127.0.1.[1-2]:2222");
        check_fold(&["r1-n1", "r1-n2", "r2-n1"], "r1-n[1-2],r2-n1");
        check_fold(&["[::1]:22", "h1", "h2"], "[::1]:22,h[1-2]");
        check_fold(&[], "");
    }

    struct Inventory(Vec<crate::Group>);

    impl crate::Groups for Inventory {
        fn group(&self, name: &str) -> Option<&crate::Group> {
            self.0.iter().find(|g| g.name == name)
        }
        fn names(&self) -> Vec<&str> {
            self.0.iter().map(|g| g.name.as_str()).collect()
        }
        fn origin(&self) -> &std::path::Path {
            std::path::Path::new("remote.toml")
        }
    }

    fn check_select(text: &str, expected: &str) {
        let spec = crate::memory::host;
        let group = |name: &str, hosts: &[&str]| crate::Group {
            name: name.into(),
            hosts: hosts.iter().map(|h| spec(h)).collect(),
        };
        let inventory = Inventory(vec![
            group("web", &["web-01", "web-02", "web-03", "deploy@web-04:2222"]),
            group("canary", &["web-02", "db-1"]),
            group("db", &["db-1", "db-2"]),
        ]);
        let got = match select(text, &inventory) {
            Ok(hosts) => hosts.iter().map(|h| h.name.as_str()).collect::<Vec<_>>().join(" "),
            Err(err) => format!("error: {err}"),
        };
        assert_eq!(got, expected, "{text}");
    }

    #[test]
    fn host_set_expressions_combine_groups_and_ranges_left_to_right() {
        check_select("web", "web-01 web-02 web-03 deploy@web-04:2222");
        check_select("web - web-[03]", "web-01 web-02 deploy@web-04:2222");
        check_select("web - web-[03-04]", "web-01 web-02");
        check_select("web & canary", "web-02");
        check_select("@web & @canary", "web-02");
        check_select("canary + db", "web-02 db-1 db-2");
        check_select("web - canary + db-2", "web-01 web-03 deploy@web-04:2222 db-2");
        check_select("web-[01-02],db-1", "web-01 web-02 db-1");
        check_select("web-01, web-02 + db-2", "web-01 web-02 db-2");
        check_select("web-09", "error: `web-09` is no group or host of remote.toml; did you mean `web-01`?");
        check_select(
            "web -",
            "error: `web -` is not a host set; join groups and hosts with ` - ` (all but), ` & ` (both) or ` + ` (either), spaces around each, e.g. `web - web-[03]`",
        );
        check_select(
            "web canary",
            "error: `web canary` is not a host set; join groups and hosts with ` - ` (all but), ` & ` (both) or ` + ` (either), spaces around each, e.g. `web - web-[03]`",
        );
        check_select(
            "web-[1-",
            "error: `web-[1-`: the `[` at column 5 is never closed; write ranges as web-[01-40]",
        );
    }

    #[test]
    fn what_fold_writes_expands_back_to_the_same_names() {
        use proptest::prelude::*;
        let name = (
            prop::sample::select(vec!["web-", "db", "10.0.0.", "", "n-"]),
            0u64..40,
            prop::sample::select(vec![0usize, 2, 3]),
            prop::sample::select(vec!["", ".example.org", ":2222", "-a"]),
        )
            .prop_map(|(prefix, n, width, suffix)| format!("{prefix}{n:0width$}{suffix}"));
        proptest!(|(names in prop::collection::vec(name, 0..40))| {
            let folded = fold(&names);
            let mut back = if folded.is_empty() { Vec::new() } else { expand(&folded).unwrap() };
            let mut want = names.clone();
            back.sort();
            want.sort();
            want.dedup();
            prop_assert_eq!(back, want, "folded to {}", folded);
        });
    }
}
