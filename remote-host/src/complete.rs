//! Tab completion and hints at the prompt: prompt commands, pipeline, operation, step and predicate names,
//! groups and hosts; and, while a call is being typed, the signature of what is called.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use remote_config::Inventory;
use remote_core::{Kind, Registry};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

/// The prompt's own commands, offered first on an empty line.
pub const COMMANDS: &[&str] = &[
    "help", "hosts", "list", "quit", "watch", "jobs", "halt", "reload", "stop", "go", "refresh", "wait",
    "stream",
];

/// What can be completed: names and their signatures, groups and hosts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    /// Operations, steps, pipelines and predicates with their signature, e.g. `("ls", "ls(hs, target: string,
    /// …)")`.
    pub callables: Vec<(String, Kind, String)>,
    /// Group names.
    pub groups: Vec<String>,
    /// Host names, as written in the inventory.
    pub hosts: Vec<String>,
}

impl Names {
    /// The names of `registry` and `inventory` (when it could be read).
    pub fn new(registry: &Registry, inventory: Option<&Inventory>) -> Self {
        let callables = registry.entries().iter().map(|e| (e.name.clone(), e.kind, e.signature())).collect();
        let (mut groups, mut hosts) = (Vec::new(), Vec::new());
        for group in inventory.into_iter().flat_map(|inventory| inventory.groups()) {
            groups.push(group.name.clone());
            hosts.extend(group.hosts.iter().map(|h| h.name.clone()));
        }
        hosts.sort();
        hosts.dedup();
        Self { callables, groups, hosts }
    }
}

/// The word being typed at `pos`: where it starts, and its text.
fn word_at(line: &str, pos: usize) -> (usize, &str) {
    let before = &line[..pos];
    let start =
        before.rfind(|c: char| !(c.is_alphanumeric() || "_-.:@[]".contains(c))).map_or(0, |at| at + 1);
    (start, &before[start..])
}

/// Completions for the word at `pos`: where it starts, and the candidates, sorted.
///
/// The first word of a line may be a prompt command, a pipeline or an operation; after `|` come steps,
/// operations and pipelines; the first argument of a call and the word after a pipeline's or `hosts`'s name
/// are groups; other arguments take predicates and fields; hosts complete where a host is asked for (`hosts
/// GROUP`, then host names).
pub fn complete(line: &str, pos: usize, names: &Names) -> (usize, Vec<String>) {
    let (start, word) = word_at(line, pos);
    let before = line[..start].trim_end();
    let callables = |wanted: &dyn Fn(Kind) -> bool| -> Vec<String> {
        names.callables.iter().filter(|(_, kind, _)| wanted(*kind)).map(|(name, _, _)| name.clone()).collect()
    };
    let mut candidates: Vec<String> = if before.is_empty() {
        let mut first: Vec<String> = COMMANDS.iter().map(|c| c.to_string()).collect();
        first.extend(callables(&|kind| matches!(kind, Kind::Operation | Kind::Pipeline | Kind::JobSet)));
        first
    } else if before.ends_with('|') {
        callables(&|kind| matches!(kind, Kind::Operation | Kind::Step | Kind::Pipeline | Kind::JobSet))
    } else if before.ends_with('(') && !before[..before.len() - 1].contains('|') && !before.contains(',') {
        names.groups.clone()
    } else if before.ends_with('(') || before.ends_with(',') {
        // Arguments after the first: predicates (`pick(…)`) and fields (`above(…, 85)`).
        callables(&|kind| matches!(kind, Kind::Predicate | Kind::Field))
    } else if !before.contains(['(', '|', ' ']) {
        // `PIPELINE GROUP` or `hosts GROUP`.
        names.groups.clone()
    } else {
        names.hosts.clone()
    };
    candidates.retain(|candidate| candidate.starts_with(word) && candidate != word);
    candidates.sort();
    candidates.dedup();
    (start, candidates)
}

/// The signature of the call being typed, when the cursor is inside its parentheses: `ls(` shows
/// `ls(hs, target: string, flags: string = "")`, so the arguments' order and types are in view.
pub fn hint(line: &str, pos: usize, names: &Names) -> Option<String> {
    let before = &line[..pos];
    // The innermost call still open at the cursor.
    let mut depth = 0usize;
    let mut open = None;
    for (at, c) in before.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' if depth == 0 => {
                open = Some(at);
                break;
            }
            '(' => depth -= 1,
            '|' if depth == 0 => return None,
            _ => {}
        }
    }
    let (_, name) = word_at(before, open?);
    names
        .callables
        .iter()
        .find(|(callable, _, _)| callable == name)
        .map(|(_, _, signature)| format!("   {signature}"))
}

/// The prompt's line editor helper; its names are refreshed before every line (ops and the inventory change).
#[derive(Default)]
pub struct PromptHelper {
    /// Why a std Mutex: rustyline calls the helper through `&self`; held only while a list is read or
    /// replaced.
    pub names: Arc<Mutex<Names>>,
}

impl Completer for PromptHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        let (start, found) = complete(line, pos, &names);
        Ok((start, found.into_iter().map(|name| Pair { display: name.clone(), replacement: name }).collect()))
    }
}

impl Hinter for PromptHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        (pos == line.len())
            .then(|| hint(line, pos, &self.names.lock().unwrap_or_else(|e| e.into_inner())))
            .flatten()
    }
}

impl Highlighter for PromptHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        // Dim, so the hint reads as a hint and not as typed text; only on a terminal, where the editor runs.
        Cow::Owned(format!("\u{1b}[2m{hint}\u{1b}[0m"))
    }
}

impl Validator for PromptHelper {}

impl Helper for PromptHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            callables: vec![
                ("ls".into(), Kind::Operation, "ls(hs, target: string, flags: string = \"\")".into()),
                ("listing".into(), Kind::Pipeline, "listing(hs)".into()),
                ("pick".into(), Kind::Step, "pick(run, keep: predicate)".into()),
                ("pretty".into(), Kind::Step, "pretty(run)".into()),
                ("successful".into(), Kind::Predicate, "successful".into()),
                ("stdout_has".into(), Kind::Predicate, "stdout_has(text: string)".into()),
            ],
            groups: vec!["sandbox".into(), "web".into()],
            hosts: vec!["127.0.1.1".into(), "web-1".into()],
        }
    }

    /// Completes `line` with the cursor at its end.
    fn check(line: &str, expected: &[&str]) {
        let (start, found) = complete(line, line.len(), &names());
        assert_eq!(found, expected, "{line:?}");
        assert!(
            line[start..].chars().all(|c| c.is_alphanumeric() || "_-.:@[]".contains(c)),
            "{line:?} from {start}"
        );
    }

    #[test]
    fn completion_offers_what_fits_where_the_cursor_is() {
        check("li", &["list", "listing"]);
        check("he", &["help"]);
        check("ls(s", &["sandbox"]);
        check("ls(sandbox, \"/\") | p", &["pick", "pretty"]);
        check("ls(sandbox) | pick(s", &["stdout_has", "successful"]);
        check("listing w", &["web"]);
        check("hosts s", &["sandbox"]);
        check("x", &[]);
    }

    #[test]
    fn the_signature_of_the_open_call_is_hinted() {
        let hint = |line: &str| super::hint(line, line.len(), &names());
        assert_eq!(hint("ls(").as_deref(), Some("   ls(hs, target: string, flags: string = \"\")"));
        assert_eq!(
            hint("ls(sandbox, \"/\"").as_deref(),
            Some("   ls(hs, target: string, flags: string = \"\")")
        );
        assert_eq!(hint("ls(sandbox) | pick(").as_deref(), Some("   pick(run, keep: predicate)"));
        assert_eq!(hint("ls(sandbox) | pick(stdout_has(").as_deref(), Some("   stdout_has(text: string)"));
        assert_eq!(hint("ls(sandbox) | pretty"), None);
        assert_eq!(hint("nothing("), None);
    }
}
