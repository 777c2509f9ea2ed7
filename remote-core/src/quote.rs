//! Shell quoting: turns an argument vector into one POSIX `sh` command line in which no value can inject
//! code.

use std::borrow::Cow;

/// An argument that no shell quoting can carry.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QuoteError {
    /// NUL ends a C string, so the remote shell would silently cut the argument.
    #[error("argument {index} contains a NUL byte, which no remote shell can receive; remove it")]
    Nul { index: usize },
    /// There is no command at all.
    #[error("the command is empty; give a program to run, e.g. `-- uptime`")]
    Empty,
}

/// Quotes one word for POSIX `sh`: safe words stay as they are, anything else is single-quoted.
///
/// Inside single quotes every byte is literal except `'` itself, which is closed, escaped and reopened
/// (`'\''`), so spaces, `;`, `$()`, backquotes, globs and newlines all arrive unchanged.
pub fn quote(word: &str) -> Cow<'_, str> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        return Cow::Borrowed(word);
    }
    let mut quoted = String::with_capacity(word.len() + 2);
    quoted.push('\'');
    for c in word.chars() {
        if c == '\'' {
            quoted.push_str("'\\''");
        } else {
            quoted.push(c);
        }
    }
    quoted.push('\'');
    Cow::Owned(quoted)
}

/// Words the shell reads specially in command position even when they contain only safe characters.
const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do", "done",
    "in", "function", "time", "coproc",
];

/// Quotes the program word: as [`quote`], and also quoted when `sh` would read it as something other than a
/// program name. `FOO=1` there is a variable assignment and `if` a reserved word; quoted, both name a
/// program.
pub fn quote_program(word: &str) -> Cow<'_, str> {
    if word.contains('=') || RESERVED.contains(&word) {
        return Cow::Owned(format!("'{}'", word.replace('\'', "'\\''")));
    }
    quote(word)
}

/// Joins `argv` into one command line, each word quoted; the first names the program to run.
pub fn command_line<S: AsRef<str>>(argv: &[S]) -> Result<String, QuoteError> {
    if argv.is_empty() {
        return Err(QuoteError::Empty);
    }
    let mut line = String::new();
    for (index, word) in argv.iter().enumerate() {
        let word = word.as_ref();
        if word.contains('\0') {
            return Err(QuoteError::Nul { index });
        }
        if index > 0 {
            line.push(' ');
        }
        line.push_str(&if index == 0 { quote_program(word) } else { quote(word) });
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(argv: &[&str], expected: &str) {
        assert_eq!(command_line(argv).unwrap(), expected);
    }

    #[test]
    fn quoting() {
        check(&["ls", "-la", "/"], "ls -la /");
        check(&["echo", ""], "echo ''");
        check(&["echo", "a b"], "echo 'a b'");
        check(&["echo", "it's"], "echo 'it'\\''s'");
        check(&["echo", "$(id); `id` && *"], "echo '$(id); `id` && *'");
        check(&["echo", "line\nbreak"], "echo 'line\nbreak'");
        check(&["echo", "~root"], "echo '~root'");
        check(&["FOO=1", "env"], "'FOO=1' env");
        check(&["env", "FOO=1"], "env FOO=1");
        check(&["if", "true"], "'if' true");
        check(&["done"], "'done'");
    }

    #[test]
    fn unquotable_input_is_refused() {
        assert_eq!(command_line::<&str>(&[]), Err(QuoteError::Empty));
        assert_eq!(command_line(&["echo", "a\0b"]), Err(QuoteError::Nul { index: 1 }));
    }

    /// The real check: `sh` itself must read back exactly the words we quoted.
    #[test]
    fn sh_reads_back_every_word() {
        let words = [
            "plain",
            "",
            "a b",
            "it's",
            "'",
            "''",
            "\\",
            "\"",
            "$HOME",
            "$(touch /tmp/pwned)",
            "`x`",
            ";",
            "&&",
            "|",
            "*",
            "?",
            "~",
            "#",
            "new\nline",
            "tab\there",
            "!",
            "é ✔",
        ];
        let mut argv = vec!["printf", "%s\\0"];
        argv.extend(words);
        let line = command_line(&argv).unwrap();
        let output = std::process::Command::new("sh").arg("-c").arg(&line).output().unwrap();
        let got: Vec<&[u8]> = output.stdout.split(|b| *b == 0).collect();
        let expected: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).chain([&b""[..]]).collect();
        assert_eq!(got, expected);
    }

    /// A program word that looks like an assignment or a reserved word still names a program for `sh`.
    #[test]
    fn sh_runs_the_program_named_by_the_first_word() {
        for program in ["FOO=1", "if"] {
            let line = command_line(&[program, "x"]).unwrap();
            let output = std::process::Command::new("sh").arg("-c").arg(&line).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(127), "{line}: {stderr}");
            assert!(stderr.contains("not found"), "{line}: {stderr}");
        }
    }
}
