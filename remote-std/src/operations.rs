//! Built-in operations: the seed's shell operations, each a command run on a host set or after a run.
//!
//! Shape of an operation: `fn name(on: impl Into<On>, args…) -> Run`. The first argument is the host set
//! (first step) or the previous run (later steps, passed by `pipeline!`); values are shell-quoted.

use crate::remote;
use remote_core::{HostError, On, Preview, Run, Transfer, quote};

/// What runs instead of a command that changes hosts in a dry run, made from its quoted operand and its
/// flags.
type MakePreview = fn(operand: &str, flags: &Flags) -> String;

/// The options given to `mkdir` or `rm` that change what they would do.
struct Flags {
    /// `-p` (mkdir: parents made, an existing folder fine) or `-r`/`-R` (rm: folders too).
    deep: bool,
    /// `-f`: rm of something missing is fine.
    force: bool,
}

impl Flags {
    fn of(argv: &[&str]) -> Flags {
        // GNU reads any unambiguous start of a long option as the option (`--rec` is `--recursive`), so a
        // shorter word than the whole name counts too; only the program's own long names are looked at, since
        // `--p` is `--parents` to mkdir but `--preserve-root` to rm.
        let mkdir = argv[0] == "mkdir";
        let (deep_long, force_long) = if mkdir { ("--parents", "") } else { ("--recursive", "--force") };
        let has = |short: &[char], long: &str| {
            // The options only: not the program, not what follows `--`, not the operand (the last word).
            let options = &argv[1..argv.len().saturating_sub(1).max(1)];
            options.iter().take_while(|word| **word != "--").any(|word| {
                let abbreviates = word.len() > 2 && long.starts_with(*word);
                let short_option = word.starts_with('-') && !word.starts_with("--");
                abbreviates || (short_option && word.chars().skip(1).any(|c| short.contains(&c)))
            })
        };
        Flags { deep: has(&['p', 'r', 'R'], deep_long), force: has(&['f'], force_long) }
    }
}

/// Runs `argv` (quoted word by word) where `on` says; the label is the command line. A command that changes
/// hosts has a `preview`, what runs instead in a dry run.
fn command(on: impl Into<On>, argv: &[&str], preview: Option<MakePreview>) -> Run {
    match quote::command_line(argv) {
        Ok(line) => match preview {
            None => on.into().read(&line, &line),
            Some(preview) => {
                let operand = quote::quote(argv[argv.len() - 1]);
                on.into().change(&line, &line, Preview::Script(&preview(&operand, &Flags::of(argv))))
            }
        },
        // Only a NUL byte cannot be quoted; no host is contacted and each says why.
        Err(err) => on.into().refuse(argv[0], HostError::BadArgument { cause: err.to_string() }),
    }
}

/// Runs `program FLAGS… OPERAND` where `on` says, or refuses every host when a flag is not an option.
fn with_flags(
    on: impl Into<On>,
    program: &str,
    flags: &str,
    operand: &str,
    preview: Option<MakePreview>,
) -> Run {
    match flag_words(program, flags) {
        Ok(words) => command(on, &with_operand([&[program], &words[..]].concat(), operand), preview),
        Err(cause) => on.into().refuse(program, HostError::BadArgument { cause: cause.to_string() }),
    }
}

/// Why `flags` cannot be a program's options.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
enum FlagError {
    /// `--`, after which every word is an operand.
    #[error(
        "the flags of `{program}` must not hold `--`: it would make the words after it {operand}s, which a dry \
         run does not show; give the {operand} as the {operand} argument (one starting with `-` is passed after \
         `--` for you)"
    )]
    DoubleDash { program: String, operand: &'static str },
    /// A word that is no option, so one more operand.
    #[error(
        "the flags of `{program}` must be options starting with `-`, but `{word}` is not; give the path as the \
         {operand} argument"
    )]
    NotAnOption { program: String, word: String, operand: &'static str },
}

/// The words of `flags`, or why they cannot be `program`'s options: each must be an option, else it becomes
/// one more operand, which the dry run does not show (`rm -rf /etc /x`). `--` is refused too: every word
/// after it is an operand (`rm -rf -- -/../../etc /x`).
///
/// No other option of `rm`, `mkdir` or `ls` (GNU or busybox) names a file to act on or runs anything: none
/// reads a list of names (`--files0-from` is `du`'s and `wc`'s), and those with a value (`ls --hide=PATTERN`,
/// `mkdir --mode=MODE`) only filter or set a mode. One that takes the next word as its value (`mkdir -m`,
/// `ls -I`) can at most take the `--` put before an operand starting with `-`: mkdir then fails on the mode,
/// and ls, which changes nothing, lists the login folder.
fn flag_words<'a>(program: &str, flags: &'a str) -> Result<Vec<&'a str>, FlagError> {
    let operand = if program == "mkdir" { "folder" } else { "target" };
    let mut words = Vec::new();
    for word in flags.split_whitespace() {
        if word == "--" {
            return Err(FlagError::DoubleDash { program: program.to_string(), operand });
        }
        if !word.starts_with('-') || word == "-" {
            return Err(FlagError::NotAnOption {
                program: program.to_string(),
                word: word.to_string(),
                operand,
            });
        }
        words.push(word);
    }
    Ok(words)
}

/// `argv` with the operand last, behind `--` when it starts with `-` so it is never read as an option.
fn with_operand<'a>(mut argv: Vec<&'a str>, operand: &'a str) -> Vec<&'a str> {
    if operand.starts_with('-') {
        argv.push("--");
    }
    argv.push(operand);
    argv
}

/// Lists a folder: `ls FLAGS TARGET`.
///
/// E.g. `ls(hs, "/", "-la")`.
#[remote::operation(default(flags = ""))]
pub fn ls(on: impl Into<On>, target: &str, flags: &str) -> Run {
    with_flags(on, "ls", flags, target, None)
}

/// Creates a folder: `mkdir FLAGS FOLDER`.
///
/// E.g. `mkdir(hs, "/tmp/work", "-p")`.
#[remote::operation(default(flags = ""))]
pub fn mkdir(on: impl Into<On>, folder: &str, flags: &str) -> Run {
    // As mkdir would: without -p, an existing folder or a missing parent fails it.
    let preview = |folder: &str, flags: &Flags| {
        let fail = |why: &str| format!("{{ printf 'mkdir would fail: %s {why}\\n' {folder} >&2; exit 1; }}");
        let make = format!("printf 'would make the folder %s\\n' {folder}");
        if flags.deep {
            format!(
                "if [ -d {folder} ]; then :; elif [ -e {folder} ]; then {}; else {make}; fi",
                fail("exists and is not a folder")
            )
        } else {
            format!(
                "if [ -e {folder} ]; then {}; elif ! [ -d \"$(dirname -- {folder})\" ]; then {}; else {make}; fi",
                fail("exists"),
                fail("has no parent folder (give -p)")
            )
        }
    };
    with_flags(on, "mkdir", flags, folder, Some(preview))
}

/// Removes files: `rm FLAGS TARGET`.
///
/// E.g. `rm(hs, "/tmp/work", "-rf")`.
#[remote::operation(default(flags = ""))]
pub fn rm(on: impl Into<On>, target: &str, flags: &str) -> Run {
    // As rm would: a folder needs -r, something missing needs -f.
    let preview = |target: &str, flags: &Flags| {
        let fail = |why: &str| format!("{{ printf 'rm would fail: %s {why}\\n' {target} >&2; exit 1; }}");
        let folder = if flags.deep {
            format!("printf 'would remove the folder %s and all in it\\n' {target}")
        } else {
            fail("is a folder (give -r)")
        };
        let missing = if flags.force { ":".to_string() } else { fail("does not exist") };
        format!(
            "if [ -d {target} ] && ! [ -L {target} ]; then {folder}; elif [ -e {target} ] || [ -L {target} ]; then \
             printf 'would remove %s\\n' {target}; else {missing}; fi"
        )
    };
    with_flags(on, "rm", flags, target, Some(preview))
}

/// Copies a local file to every host over SFTP, e.g. `upload(hs, "dist/app.tar.gz", "/opt/app/app.tar.gz")`.
///
/// Streamed, never read whole; written beside the target under a temporary name and renamed over it, so the
/// target is never half-written; given the local file's mode (without setuid, setgid and sticky, as `sftp -p`
/// does) and modification time. A host whose file has the same size, time and mode already is left alone and
/// says `unchanged`.
#[remote::operation]
pub fn upload(on: impl Into<On>, local: &str, remote: &str) -> Run {
    let transfer = Transfer::Upload { local: std::path::PathBuf::from(local), remote: remote.to_string() };
    on.into().transfer(&format!("upload {local} to {remote}"), &transfer)
}

/// Makes a folder of every host the same as a local one, over SFTP, sending only the files whose size,
/// modification time or mode differ, e.g. `sync(hs, "site", "/var/www/site")`. Options, separated by spaces:
/// `--delete` removes files and folders the local folder does not have from the host's; `--checksum` compares
/// files of the same size by their SHA-256 (`sha256sum` on the host) instead, so a file changed within the
/// same second is still seen, and one whose content is the same only gets its time and mode.
///
/// Each file is sent under a temporary name and renamed into place. Symbolic links and special files in the
/// local folder are skipped, and said to be; `--delete` leaves the host's copy of their names, as `rsync
/// --delete` does.
#[remote::operation(default(options = ""))]
pub fn sync(on: impl Into<On>, local_dir: &str, remote_dir: &str, options: &str) -> Run {
    let (mut delete, mut checksum) = (false, false);
    for word in options.split_whitespace() {
        match word {
            "--delete" => delete = true,
            "--checksum" => checksum = true,
            other => {
                let cause = format!("`sync` knows the options `--delete` and `--checksum`, not `{other}`");
                return on.into().refuse("sync", HostError::BadArgument { cause });
            }
        }
    }
    let transfer = Transfer::Sync {
        local_dir: std::path::PathBuf::from(local_dir),
        remote_dir: remote_dir.to_string(),
        delete,
        checksum,
    };
    on.into().transfer(&format!("sync {local_dir} to {remote_dir}"), &transfer)
}

/// Copies a file of every host here over SFTP, into `LOCAL_DIR/HOST/NAME`, e.g. `download(hs,
/// "/etc/os-release", "got")`.
///
/// Streamed, written under a temporary name and renamed into place, with the host file's mode (without
/// setuid, setgid and sticky, as `sftp -p` does) and modification time; a copy that is the same already is
/// left alone and says `unchanged`.
#[remote::operation]
pub fn download(on: impl Into<On>, remote: &str, local_dir: &str) -> Run {
    let transfer =
        Transfer::Download { remote: remote.to_string(), local_dir: std::path::PathBuf::from(local_dir) };
    on.into().transfer(&format!("download {remote} to {local_dir}"), &transfer)
}

/// Runs the commands of the steps after it as root through `sudo`, e.g. `sudo(hs) | pkg_install("nginx")`, as
/// `become = true` does for a whole group. File copies stay the login user's.
///
/// Where sudo needs a password, it comes from `REMOTE_BECOME_PASSWORD` or is asked once
/// (`--ask-become-pass`); a host where none was given fails with that said. The step itself contacts no host.
#[remote::operation]
pub fn sudo(on: impl Into<On>) -> Run {
    on.into().as_root("sudo")
}

/// Runs shell code in the login shell.
///
/// E.g. `exec(hs, "systemctl daemon-reload")`. The script is the user's own code, so it is not quoted; values
/// to put inside it should go through [`quote::quote`]. In a dry run it is not run (nothing tells what it
/// would change); shell code that only reads is [`query`].
#[remote::operation]
pub fn exec(on: impl Into<On>, script: &str) -> Run {
    let label = script.lines().next().unwrap_or_default();
    on.into().exec(label, script)
}

/// Runs shell code that only reads, in the login shell, in dry runs too: `exec` for questions.
///
/// E.g. `query(hs, "df -h | tail -n +2")`, or in a step `query(&run, "grep -qx ID=debian /etc/os-release")`
/// to pick hosts. It is the user's word that the code changes nothing: `--check` runs it as it is.
#[remote::operation]
pub fn query(on: impl Into<On>, script: &str) -> Run {
    let label = script.lines().next().unwrap_or_default();
    on.into().read(label, script)
}

/// Starts shell code detached from the session, so that it goes on after the connection closes (the seed's
/// `nohup`); its output is discarded, and each host prints the new process's id.
///
/// E.g. `nohup(hs, "./long-job.sh")`. It runs in a session of its own (`setsid`, where the host has it), so
/// nothing that ends the SSH session or its process group ends it; like `exec`, the script is the user's
/// code.
#[remote::operation]
pub fn nohup(on: impl Into<On>, script: &str) -> Run {
    let quoted = quote::quote(script);
    let detached = format!("sh -c {quoted} >/dev/null 2>&1 </dev/null &");
    let line = format!(
        "if command -v setsid >/dev/null 2>&1; then setsid nohup {detached} else nohup {detached} fi; echo \"started, pid $!\""
    );
    on.into().exec(&format!("nohup {}", script.lines().next().unwrap_or_default()), &line)
}

/// Unpacks a tar archive on each host into a folder, made if missing: `tar -xf ARCHIVE -C DEST` (tar finds
/// gzip, bzip2 or xz by itself; the seed's `extract`).
///
/// E.g. `upload(hs, "app.tar.gz", "/tmp/app.tar.gz") | extract("/tmp/app.tar.gz", "/opt/app")`.
#[remote::operation]
pub fn extract(on: impl Into<On>, archive: &str, dest: &str) -> Run {
    // Commands start in the login user's home, so `~/x` is `x`, as `upload` reads it; quoted, `~` would be a
    // name.
    let home = |path: &str| path.strip_prefix("~/").unwrap_or(path).to_string();
    let (archive_at, dest_at) = (home(archive), home(dest));
    // GNU tar reads `host:file` as an archive on another machine; `./` keeps a relative name local.
    let archive_at = if archive_at.starts_with('/') { archive_at } else { format!("./{archive_at}") };
    let parts = [
        quote::command_line(&["mkdir", "-p", "--", &dest_at]),
        quote::command_line(&["tar", "-xf", &archive_at, "-C", &dest_at]),
    ];
    match parts {
        [Ok(mkdir), Ok(tar)] => {
            on.into().exec(&format!("extract {archive} into {dest}"), &format!("{mkdir} && {tar}"))
        }
        [Err(err), _] | [_, Err(err)] => {
            on.into().refuse("extract", HostError::BadArgument { cause: err.to_string() })
        }
    }
}

/// Checks that each host reaches `target`: one echo request, waiting at most 2 s for the answer (the seed's
/// `ping`). E.g. `ping(hs, "gateway.internal")`.
#[remote::operation]
pub fn ping(on: impl Into<On>, target: &str) -> Run {
    command(on, &with_operand(vec!["ping", "-c", "1", "-W", "2"], target), None)
}

/// Shows how long each host has been up, and its load.
#[remote::operation]
pub fn uptime(on: impl Into<On>) -> Run {
    command(on, &["uptime"], None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `program`'s flags as `with_flags` takes them: the words passed on, or `refused: ` and a part of why.
    fn check(program: &str, flags: &str, expected: &str) {
        let matches = match (flag_words(program, flags), expected.strip_prefix("refused: ")) {
            (Ok(words), None) => words.join(" ") == expected,
            (Err(cause), Some(part)) => cause.to_string().contains(part),
            _ => false,
        };
        let got = flag_words(program, flags);
        assert!(matches, "`{program}` with flags {flags:?}: {got:?}, not {expected}");
    }

    #[test]
    fn flags_are_options_and_never_operands() {
        check("rm", "", "");
        check("rm", "-rf", "-rf");
        check("rm", " -r\t-f\n", "-r -f");
        check("rm", "--no-preserve-root -rf -v", "--no-preserve-root -rf -v");
        check("ls", "-la --hide=*.o", "-la --hide=*.o");
        check("mkdir", "-p --mode=750", "-p --mode=750");
        // `---` is no option GNU knows, so rm fails on it: nothing is removed.
        check("rm", "---", "---");

        // A word that is no option would be one more operand.
        check("rm", "-rf /etc", "refused: the flags of `rm` must be options starting with `-`, but `/etc`");
        check("rm", "-", "refused: but `-` is not");
        check("rm", "-rf\u{a0}/etc", "refused: but `/etc` is not");
        check("mkdir", "-m 750", "refused: `mkdir` must be options starting with `-`, but `750` is not");

        // `--` makes every word after it an operand, one starting with `-` too.
        check("rm", "-rf -- -/../../../tmp/victim", "refused: the flags of `rm` must not hold `--`");
        check("rm", "--", "refused: `rm` must not hold `--`");
        check("rm", "-- -rf", "refused: `rm` must not hold `--`");
        check("rm", "-r --\t-x", "refused: `rm` must not hold `--`");
        check("ls", "-la --", "refused: `ls` must not hold `--`: it would make the words after it targets");
        check("mkdir", "-p -- -x", "refused: `--`: it would make the words after it folders");
        let said = flag_words("rm", "-rf -- -x").unwrap_err().to_string();
        let whole = "the flags of `rm` must not hold `--`: it would make the words after it targets, \
                     which a dry run does not show; give the target as the target argument (one \
                     starting with `-` is passed after `--` for you)";
        assert_eq!(said, whole);
    }

    /// What the dry run of `argv` (the command line, the operand last) takes it to do: `deep`, `force`,
    /// both or neither.
    fn check_reading(argv: &str, expected: &str) {
        let argv: Vec<&str> = argv.split(' ').collect();
        let flags = Flags::of(&argv);
        let names = [(flags.deep, "deep"), (flags.force, "force")];
        let said: Vec<&str> = names.into_iter().filter_map(|(set, name)| set.then_some(name)).collect();
        assert_eq!(said.join(" "), expected, "{argv:?}");
    }

    #[test]
    fn dry_runs_read_flags_as_gnu_does() {
        check_reading("rm x", "");
        check_reading("rm -rf x", "deep force");
        check_reading("rm -R x", "deep");
        check_reading("rm -v -f x", "force");
        check_reading("rm --recursive --force x", "deep force");
        // GNU takes an unambiguous start of a long option for it.
        check_reading("rm --rec --fo x", "deep force");
        check_reading("rm --r x", "deep");
        // To rm, `--p` is `--preserve-root`, not `--parents`.
        check_reading("rm --p x", "");
        check_reading("rm --recursive=yes x", "");
        // After `--` (put there for an operand starting with `-`), nothing is an option.
        check_reading("rm -v -- -rf", "");
        check_reading("mkdir x", "");
        check_reading("mkdir -p x", "deep");
        check_reading("mkdir --par x", "deep");
        check_reading("mkdir --parents x", "deep");
        check_reading("mkdir -m750 x", "");
        check_reading("mkdir --force x", "");
    }
}
