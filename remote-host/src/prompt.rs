//! A line at the live prompt, parsed in one place into what it asks for: one of the prompt's own words
//! (`help`, `watch`, `halt`, …) or a line of pipelines to run. `live` only dispatches on the result.

use std::time::Duration;

/// What one prompt line asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum PromptCommand<'a> {
    /// An empty line, or a `#` comment.
    Nothing,
    /// `quit` or `exit`.
    Quit,
    /// `help`.
    Help,
    /// `list`: the registry.
    List,
    /// `reload`: rebuild and load ops now.
    Reload,
    /// `refresh`: read the inventory again, then reload.
    Refresh,
    /// `hosts [GROUP]`.
    Hosts(Option<&'a str>),
    /// `watch NAME SCHEDULE… LINE`: the words after the name, read by the job table, and the whole line.
    Watch {
        /// The job's name.
        name: &'a str,
        /// The schedule and the line, still as words.
        words: Vec<&'a str>,
        /// The whole line, for the job's own text.
        line: &'a str,
    },
    /// `jobs`, or `jobs NAME`.
    Jobs(Option<&'a str>),
    /// `halt all`.
    HaltAll,
    /// `halt NAME`.
    Halt(&'a str),
    /// `wait DURATION`.
    Wait(Duration),
    /// `stop`: halt every job and close every connection.
    Stop,
    /// `go`: run the init file again (`--init FILE`, default `.remote/init` beside the inventory).
    Go,
    /// `stream LINE`: run LINE with its output shown as it comes.
    Stream(&'a str),
    /// `check LINE`: a dry run of LINE.
    Check(&'a str),
    /// `PIPELINE GROUP`: a named pipeline (or job set) of ops on a group.
    Named {
        /// The pipeline or job set.
        name: &'a str,
        /// The group.
        group: &'a str,
    },
    /// One bare name that is no prompt command: a pipeline or operation without its group, or a mistyped
    /// command.
    Word(&'a str),
    /// Anything else: an expression for the interpreter, which says what is wrong with it.
    Expression(&'a str),
}

/// The prompt's own words, for "did you mean" when a line is one unknown word.
pub const PROMPT_WORDS: [&str; 15] = [
    "quit", "exit", "help", "list", "reload", "refresh", "hosts", "watch", "jobs", "halt", "wait", "stop",
    "go", "stream", "check",
];

/// What `line` asks for; `Err` says why a word of the prompt was misused.
pub fn parse(line: &str) -> Result<PromptCommand<'_>, String> {
    let line = line.trim();
    let words: Vec<&str> = line.split_whitespace().collect();
    // A word followed by `(` is a call, not a prompt word: `hosts(…)` or `watch(…)` are expressions.
    let call = line.contains('(');
    Ok(match words.as_slice() {
        [] => PromptCommand::Nothing,
        [first, ..] if first.starts_with('#') => PromptCommand::Nothing,
        ["quit" | "exit"] => PromptCommand::Quit,
        ["help"] => PromptCommand::Help,
        ["list"] => PromptCommand::List,
        ["reload"] => PromptCommand::Reload,
        ["refresh"] => PromptCommand::Refresh,
        ["hosts", rest @ ..] if rest.len() <= 1 && !call => PromptCommand::Hosts(rest.first().copied()),
        ["watch", name, rest @ ..] if !name.contains('(') => {
            PromptCommand::Watch { name, words: rest.to_vec(), line }
        }
        ["jobs"] => PromptCommand::Jobs(None),
        ["jobs", name] => PromptCommand::Jobs(Some(name)),
        ["halt", "all"] => PromptCommand::HaltAll,
        ["halt", name] => PromptCommand::Halt(name),
        ["wait", duration] => match humantime::parse_duration(duration) {
            Ok(duration) => PromptCommand::Wait(duration),
            Err(err) => return Err(format!("`{duration}` is not a duration ({err}); write e.g. `wait 5s`")),
        },
        ["halt"] => return Err("`halt` needs a job's name, or `all`: `halt NAME` (`jobs` lists them)".into()),
        ["wait"] => return Err("`wait` needs a duration: `wait 5s`".into()),
        ["watch"] => {
            return Err(
                "`watch` needs a name, a schedule and a line: `watch NAME every 5s PIPELINE GROUP`".into()
            );
        }
        ["stop"] => PromptCommand::Stop,
        ["go"] => PromptCommand::Go,
        ["stream", ..] => PromptCommand::Stream(line["stream".len()..].trim()),
        ["check", ..] => PromptCommand::Check(line["check".len()..].trim()),
        [word] if crate::session::is_name(word) => PromptCommand::Word(word),
        _ => match crate::session::named_call(line) {
            Some((name, group)) => PromptCommand::Named { name, group },
            None => PromptCommand::Expression(line),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, expected: &str) {
        let got = match parse(line) {
            Ok(command) => format!("{command:?}"),
            Err(message) => format!("error: {message}"),
        };
        assert_eq!(got, expected, "{line:?}");
    }

    #[test]
    fn the_prompt_words() {
        check("", "Nothing");
        check("   ", "Nothing");
        check("# a comment", "Nothing");
        check("#ls(web)", "Nothing");
        check("quit", "Quit");
        check(" exit ", "Quit");
        check("help", "Help");
        check("list", "List");
        check("reload", "Reload");
        check("refresh", "Refresh");
        check("hosts", "Hosts(None)");
        check("hosts web", "Hosts(Some(\"web\"))");
        check("jobs", "Jobs(None)");
        check("jobs disk", "Jobs(Some(\"disk\"))");
        check("halt all", "HaltAll");
        check("halt disk", "Halt(\"disk\")");
        check("wait 5s", "Wait(5s)");
        check("wait 1m 30s", "Expression(\"wait 1m 30s\")");
        check("wait soon", "error: `soon` is not a duration (expected number at 0); write e.g. `wait 5s`");
        check("stop", "Stop");
        check("go", "Go");
        check("halt", "error: `halt` needs a job's name, or `all`: `halt NAME` (`jobs` lists them)");
        check("wait", "error: `wait` needs a duration: `wait 5s`");
        check(
            "watch",
            "error: `watch` needs a name, a schedule and a line: `watch NAME every 5s PIPELINE GROUP`",
        );
    }

    #[test]
    fn one_name_alone_is_judged_by_the_prompt_not_the_interpreter() {
        check("clear", "Word(\"clear\")");
        check(" listing ", "Word(\"listing\")");
        check("listing()", "Expression(\"listing()\")");
        check("cpu-alert", "Word(\"cpu-alert\")");
    }

    #[test]
    fn lines_that_carry_a_line() {
        check("stream exec(web, \"apt-get update\")", "Stream(\"exec(web, \\\"apt-get update\\\")\")");
        check("stream", "Stream(\"\")");
        check("check  mkdir(web, \"/srv\")", "Check(\"mkdir(web, \\\"/srv\\\")\")");
        check(
            "watch disk every 5s disk(web) | pretty",
            "Watch { name: \"disk\", words: [\"every\", \"5s\", \"disk(web)\", \"|\", \"pretty\"], \
             line: \"watch disk every 5s disk(web) | pretty\" }",
        );
    }

    #[test]
    fn pipelines_and_expressions() {
        check("listing web", "Named { name: \"listing\", group: \"web\" }");
        check("stats_jobs sandbox", "Named { name: \"stats_jobs\", group: \"sandbox\" }");
        check("ls(web, \"/\") | pretty", "Expression(\"ls(web, \\\"/\\\") | pretty\")");
        // A prompt word used as a call is an expression, which the interpreter judges.
        check("hosts(web)", "Expression(\"hosts(web)\")");
        check("watch(web)", "Expression(\"watch(web)\")");
        check("hosts web db", "Expression(\"hosts web db\")");
    }
}
