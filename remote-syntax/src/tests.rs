//! Prompt lines in, parsed lines or errors with columns out; plus a property test that nothing panics.

use proptest::prelude::*;

use crate::{ArgKind, Columns, parse_line};

/// Checks that `line` fails with a message containing `message` starting at column `column`.
fn check_error(line: &str, message: &str, column: usize) {
    let err = parse_line(line).expect_err("an error");
    let line: String = line.chars().take(60).collect();
    assert!(err.message.contains(message), "{line:?}: message {:?} lacks {message:?}", err.message);
    assert_eq!(err.at.start, column, "{line:?}: {err:?}");
}

#[test]
fn the_listing_example_parses() {
    let line = parse_line(r#"ls(sandbox, "/", "-la") | pretty"#).unwrap();
    let names: Vec<_> = line.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["ls", "pretty"]);
    let kinds: Vec<_> = line.steps[0].args.iter().map(|a| a.kind.clone()).collect();
    assert_eq!(
        kinds,
        [ArgKind::Name("sandbox".into()), ArgKind::Str("/".into()), ArgKind::Str("-la".into())]
    );
    assert_eq!(line.steps[0].args[1].at, Columns { start: 13, end: 16 });
    assert_eq!(line.steps[1].at, Columns { start: 27, end: 33 });
}

#[test]
fn arguments_of_every_prompt_form() {
    let line = parse_line(r#"f(g, "a\"b", 42, -7, 0.5, -1.5, true, stdout_has("x"))"#).unwrap();
    let kinds: Vec<_> = line.steps[0].args.iter().map(|a| a.kind.clone()).collect();
    assert_eq!(
        kinds[1..7],
        [
            ArgKind::Str("a\"b".into()),
            ArgKind::Int(42),
            ArgKind::Int(-7),
            ArgKind::Float(0.5),
            ArgKind::Float(-1.5),
            ArgKind::Bool(true)
        ]
    );
    assert!(matches!(&kinds[7], ArgKind::Call { name, args, .. } if name == "stdout_has" && args.len() == 1));
}

#[test]
fn a_list_is_an_argument_only() {
    let line = parse_line(r#"cpu(g) | publish(stock("CPU", [usr, sys]))"#).unwrap();
    let ArgKind::Call { args, .. } = &line.steps[1].args[0].kind else { panic!("a call") };
    assert_eq!(
        args[1].kind,
        ArgKind::List(vec![
            crate::Arg { kind: ArgKind::Name("usr".into()), at: Columns { start: 32, end: 35 } },
            crate::Arg { kind: ArgKind::Name("sys".into()), at: Columns { start: 37, end: 40 } },
        ])
    );
    assert_eq!(args[1].at, Columns { start: 31, end: 41 });
    assert_eq!(parse_line("f(g, [])").unwrap().steps[0].args[1].kind, ArgKind::List(vec![]));
    check_error("f(g, [1 + 2])", "at the prompt an argument is", 9);
    check_error("f(g) | [x]", "at the prompt an argument is", 8);
}

#[test]
fn errors_say_what_was_expected_and_where() {
    check_error("", "empty pipeline", 1);
    check_error("   ", "empty pipeline", 1);
    check_error("ls(g, \"/\") |", "trailing `|`", 12);
    check_error("ls(g) | | pretty", "doubled `|`", 9);
    check_error("ls(g) || pretty", "doubled `|`", 7);
    check_error("ls(g) | \"x\"", "expected a step", 9);
    check_error("ls(g) | 42", "expected a step", 9);
    check_error("ls(g) pretty", "expected `|` or the end of the pipeline after step `ls`", 7);
    check_error("ls(g) | a::b", "a step is a plain name or call", 10);
    check_error("ls(g) | run.pretty()", "a step is a plain name or call", 12);
    check_error("pretty", "the first step needs the host set", 1);
    check_error("ls() | pretty", "the first step needs the host set", 3);
    check_error("uptime(g) | ls(g, \"/\", \"\")", "`g` again", 16);
    check_error("ls(g, 1 + 2)", "at the prompt an argument is", 9);
    check_error("ls(g, |x| x)", "at the prompt an argument is", 7);
    check_error("ls(g, 5s)", "literal suffixes", 7);
    check_error("exec(g, \"a\\0b\")", "may not hold a NUL byte", 9);
    check_error("ls(g, \"/\", \"-l\\x00\")", "may not hold a NUL byte", 12);
    check_error("uptime(g) | pick(stdout_has(\"\\u{0}\"))", "may not hold a NUL byte", 29);
    check_error("ls(g, 99999999999999999999)", "integer out of range", 7);
    check_error("ls(g, \"open", "string or bracket left open", 7);
    check_error("ls(g, (1)", "string or bracket left open", 3);
    check_error("ls(g)\n| pretty", "one line", 1);
}

#[test]
fn long_chains_of_rust_only_syntax_are_refused_before_parsing() {
    for chain in [
        "-".repeat(16000) + "1",
        "!".repeat(16000) + "x",
        "&".repeat(16000) + "x",
        "x".to_string() + &".y".repeat(5000),
    ] {
        let line = format!("ls(g, {chain})");
        let err = parse_line(&line).expect_err("an error");
        assert!(err.message.contains("at the prompt an argument is"), "{}", err.message);
    }
    check_error("ls(g, {1})", "at the prompt an argument is", 7);
    // `ls(g, "…")` is 9 characters around the string: 16384 in all is the longest line accepted.
    check_error(&format!("ls(g, \"{}\")", "x".repeat(16384 - 8)), "line too long", 1);
    assert!(parse_line(&format!("ls(g, \"{}\")", "x".repeat(16384 - 9))).is_ok());
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("ls(g, {}1{})", "(".repeat(5000), ")".repeat(5000));
    check_error(&deep, "nest deeper", 38);
}

proptest! {
    // A failing case is shown, not written into the repository as a regression file.
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_text_gives_a_line_or_an_error(text in "\\PC{0,80}") {
        let _ = parse_line(&text);
    }

    #[test]
    fn long_lines_of_any_text_give_a_line_or_an_error(text in "[-!&*|(),.:a-z0-9\" ]{0,3000}") {
        let _ = parse_line(&text);
    }

    #[test]
    fn pipeline_shaped_text_never_panics(
        parts in proptest::collection::vec(
            prop_oneof!["[a-z_]{1,6}", Just("|".to_string()), Just("(".to_string()), Just(")".to_string()),
                        Just(",".to_string()), Just("\"s\"".to_string()), Just("-1".to_string()), Just("2.5".to_string()),
                        Just("||".to_string()), Just("::".to_string()), Just(" ".to_string())],
            0..24)
    ) {
        let _ = parse_line(&parts.concat());
    }
}
