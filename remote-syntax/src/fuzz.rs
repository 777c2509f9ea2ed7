//! Property tests of the prompt grammar, which reads whatever a person types: valid lines with text spliced
//! in, cut out or duplicated give a line or an error whose columns lie on the line, and a line printed from a
//! parsed form parses back to that form, with every column pointing at the text it came from.

use proptest::prelude::*;
use proptest::sample::Index;
use remote_fuzz::config;

use crate::{Arg, ArgKind, Columns, Line, LineStep, parse_line};

/// Lines the prompt accepts, each a different mix of the forms, from this crate's tests and the README.
const SAMPLES: &[&str] = &[
    r#"ls(sandbox, "/", "-la") | pretty"#,
    r#"f(g, "a\"b", 42, -7, 0.5, -1.5, true, stdout_has("x"))"#,
    r#"cpu(g) | publish(stock("CPU", [usr, sys]))"#,
    r#"uptime(sandbox) | only_debian | pick(stdout_has("root")) | pretty"#,
    r#"service(web, "nginx", "status") | pick(above(service_restarts, 3)) | pretty"#,
    r#"pkg_update(web) | pretty | email("ops@example.org, dev@example.org", "updates on offer")"#,
    r#"cpu(sandbox) | collect | publish(stock("Idle CPU", idle)) | publish(sliding(stock("User CPU", [usr, []]), 60))"#,
];

/// Text that means something to the tokenizer or the grammar, spliced in more often than chance would.
const SPECIAL: &[&str] = &[
    "(", ")", "[", "]", "{", "|", "||", ",", "\"", "\\", "-", "::", ".", "!", "'", "/*", "//", "r#\"", "\n",
    "\r", "\t", "'a", "1e9", "0x1F", "5u8", "é", "\u{202e}", "\u{0}",
];

/// Noise to splice in: random bytes read as UTF-8 would read them, printable text, or a [`SPECIAL`] piece.
fn noise() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..12)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        "\\PC{0,12}",
        prop::sample::select(SPECIAL).prop_map(str::to_string),
    ]
}

/// One change to a sample. Edits stay within the line, unlike `remote_fuzz::spliced`'s, since a prompt line is
/// one line.
#[derive(Clone, Debug)]
enum Edit {
    /// Noise inserted at a point.
    Insert(Index, String),
    /// Up to this many characters cut out from a point.
    Cut(Index, usize),
    /// A stretch of the text repeated where it stands.
    Repeat(Index, usize),
}

/// Any edit, at any point.
fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), noise()).prop_map(|(at, text)| Edit::Insert(at, text)),
        (any::<Index>(), 1..24usize).prop_map(|(at, len)| Edit::Cut(at, len)),
        (any::<Index>(), 1..24usize).prop_map(|(at, len)| Edit::Repeat(at, len)),
    ]
}

/// `sample` with `edits` made in turn, at character boundaries.
fn apply(sample: &str, edits: &[Edit]) -> String {
    let mut text = sample.to_string();
    for edit in edits {
        let points: Vec<usize> = text.char_indices().map(|(at, _)| at).chain([text.len()]).collect();
        let span = |at: &Index, len: usize| {
            let start = at.index(points.len());
            points[start]..points[(start + len).min(points.len() - 1)]
        };
        match edit {
            Edit::Insert(at, noise) => text.insert_str(points[at.index(points.len())], noise),
            Edit::Cut(at, len) => text.replace_range(span(at, *len), ""),
            Edit::Repeat(at, len) => {
                let range = span(at, *len);
                let copy = text[range.clone()].to_string();
                text.insert_str(range.start, &copy);
            }
        }
    }
    text
}

/// A sample with a few edits.
fn spliced() -> impl Strategy<Value = String> {
    (prop::sample::select(SAMPLES), prop::collection::vec(edit(), 1..6))
        .prop_map(|(sample, edits)| apply(sample, &edits))
}

/// Whether the piece `at` lies on `text`, from column 1 to the column just after its last character.
fn on_the_line(at: Columns, text: &str) -> bool {
    1 <= at.start && at.start < at.end && at.end <= text.chars().count() + 1
}

/// Whether an error's place is on `text`: it starts at most just after the last character, and may reach one
/// column further so that even the end of the line can be underlined.
fn error_on_the_line(at: Columns, text: &str) -> bool {
    let end = text.chars().count() + 1;
    1 <= at.start && at.start <= end && at.start <= at.end && at.end <= end + 1
}

/// Every column of a parsed line.
fn all_columns(line: &Line) -> Vec<Columns> {
    fn of_args(args: &[Arg], out: &mut Vec<Columns>) {
        for arg in args {
            out.push(arg.at);
            match &arg.kind {
                ArgKind::Call { name_at, args, .. } => {
                    out.push(*name_at);
                    of_args(args, out);
                }
                ArgKind::List(args) => of_args(args, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for step in &line.steps {
        out.push(step.at);
        of_args(&step.args, &mut out);
    }
    out
}

/// Parses `text` and checks that whatever comes back, line or error, names only columns on it.
fn check_columns(text: &str) -> Result<(), TestCaseError> {
    match parse_line(text) {
        Ok(line) => {
            for at in all_columns(&line) {
                prop_assert!(on_the_line(at, text), "{at:?} is off the line {text:?}");
            }
        }
        Err(err) => prop_assert!(error_on_the_line(err.at, text), "{err:?} is off the line {text:?}"),
    }
    Ok(())
}

#[test]
fn the_samples_parse() {
    for sample in SAMPLES {
        assert!(parse_line(sample).is_ok(), "{sample}");
    }
}

/// Words no name can be: Rust's keywords (which syn refuses as identifiers) and the two bools.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self", "static",
    "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use", "virtual",
    "where", "while", "yield",
];

/// A name of a step, a call or a group.
fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,6}".prop_filter("a keyword is not a name", |name| !KEYWORDS.contains(&name.as_str()))
}

/// The place a generated argument has before it is parsed; compared forms have all their columns set to it.
const NOWHERE: Columns = Columns { start: 0, end: 0 };

/// Any argument the prompt takes, nested a few levels.
fn arg() -> impl Strategy<Value = Arg> {
    let text = prop::collection::vec(any::<char>().prop_filter("a NUL is refused", |c| *c != '\0'), 0..10)
        .prop_map(|chars| chars.into_iter().collect::<String>());
    let leaf = prop_oneof![
        text.prop_map(ArgKind::Str),
        any::<i64>().prop_map(ArgKind::Int),
        any::<f64>().prop_filter("a literal is finite", |x| x.is_finite()).prop_map(ArgKind::Float),
        any::<bool>().prop_map(ArgKind::Bool),
        name().prop_map(ArgKind::Name),
    ];
    let at = |kind| Arg { kind, at: NOWHERE };
    leaf.prop_map(at).prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            (name(), prop::collection::vec(inner.clone(), 0..4))
                .prop_map(move |(name, args)| at(ArgKind::Call { name, name_at: NOWHERE, args })),
            prop::collection::vec(inner, 0..4).prop_map(move |args| at(ArgKind::List(args))),
        ]
    })
}

/// A line the grammar accepts (the first step names its host set, and no later step names it again), and
/// which of its steps are written as calls: a call without arguments parses to the same form as a bare name.
fn line() -> impl Strategy<Value = (Line, Vec<bool>)> {
    let step = (name(), prop::option::of(prop::collection::vec(arg(), 0..4)));
    (name(), name(), prop::collection::vec(arg(), 0..3), prop::collection::vec(step, 0..3))
        .prop_filter("a later step does not name the host set", |(_, host, _, later)| {
            later.iter().all(|(_, args)| !matches!(args.as_deref(), Some([Arg { kind: ArgKind::Name(n), .. }, ..]) if n == host))
        })
        .prop_map(|(first, host, mut args, later)| {
            args.insert(0, Arg { kind: ArgKind::Name(host), at: NOWHERE });
            let mut steps = vec![LineStep { name: first, at: NOWHERE, args }];
            let mut called = vec![true];
            for (name, args) in later {
                called.push(args.is_some());
                steps.push(LineStep { name, at: NOWHERE, args: args.unwrap_or_default() });
            }
            (Line { steps }, called)
        })
}

/// An argument as a person would type it.
fn render_arg(arg: &Arg) -> String {
    let list = |args: &[Arg]| args.iter().map(render_arg).collect::<Vec<_>>().join(", ");
    match &arg.kind {
        // Debug output is a Rust string literal with every escape resolved by the tokenizer.
        ArgKind::Str(text) => format!("{text:?}"),
        ArgKind::Int(number) => number.to_string(),
        // Debug output is the shortest text that reads back as the same number, and always a float literal.
        ArgKind::Float(number) => format!("{number:?}"),
        ArgKind::Bool(flag) => flag.to_string(),
        ArgKind::Name(name) => name.clone(),
        ArgKind::Call { name, args, .. } => format!("{name}({})", list(args)),
        ArgKind::List(args) => format!("[{}]", list(args)),
    }
}

/// A line as a person would type it: steps joined by ` | `, each a call or, where `called` says not, a bare
/// name.
fn render(line: &Line, called: &[bool]) -> String {
    let steps: Vec<String> = line
        .steps
        .iter()
        .zip(called)
        .map(|(step, called)| match called {
            true => {
                format!("{}({})", step.name, step.args.iter().map(render_arg).collect::<Vec<_>>().join(", "))
            }
            false => step.name.clone(),
        })
        .collect();
    steps.join(" | ")
}

/// `line` with every column set to [`NOWHERE`], to compare forms.
fn placeless(line: &Line) -> Line {
    let steps = line
        .steps
        .iter()
        .map(|step| LineStep {
            name: step.name.clone(),
            at: NOWHERE,
            args: step.args.iter().map(placeless_arg).collect(),
        })
        .collect();
    Line { steps }
}

/// `arg` with every column set to [`NOWHERE`].
fn placeless_arg(arg: &Arg) -> Arg {
    let kind = match &arg.kind {
        ArgKind::Call { name, args, .. } => ArgKind::Call {
            name: name.clone(),
            name_at: NOWHERE,
            args: args.iter().map(placeless_arg).collect(),
        },
        ArgKind::List(args) => ArgKind::List(args.iter().map(placeless_arg).collect()),
        other => other.clone(),
    };
    Arg { kind, at: NOWHERE }
}

/// The characters of `text` that `at` covers.
fn covered(text: &str, at: Columns) -> String {
    text.chars().skip(at.start - 1).take(at.end - at.start).collect()
}

/// Checks that each argument's columns cover exactly its printed text, and a call's name columns its name.
fn check_arg_columns(text: &str, args: &[Arg]) -> Result<(), TestCaseError> {
    for arg in args {
        prop_assert_eq!(covered(text, arg.at), render_arg(arg), "in {:?}", text);
        match &arg.kind {
            ArgKind::Call { name, name_at, args } => {
                prop_assert_eq!(&covered(text, *name_at), name, "in {:?}", text);
                check_arg_columns(text, args)?;
            }
            ArgKind::List(args) => check_arg_columns(text, args)?,
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn spliced_samples_give_a_line_or_an_error_on_the_line(text in spliced()) {
        check_columns(&text)?;
    }

    #[test]
    fn any_text_gives_columns_on_the_line(
        text in prop_oneof!["\\PC{0,60}", prop::collection::vec(noise(), 0..8).prop_map(|pieces| pieces.concat())]
    ) {
        check_columns(&text)?;
    }

    #[test]
    fn a_printed_line_parses_back_with_columns_on_its_text((line, called) in line()) {
        let text = render(&line, &called);
        let parsed = parse_line(&text).map_err(|err| TestCaseError::fail(format!("{text:?}: {err}")))?;
        prop_assert_eq!(placeless(&parsed), line, "{:?}", text);
        for step in &parsed.steps {
            prop_assert_eq!(&covered(&text, step.at), &step.name, "in {:?}", text);
            check_arg_columns(&text, &step.args)?;
        }
    }
}
