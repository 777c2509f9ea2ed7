//! Built-in operations: the seed's shell operations, each a command run on a host set or after a run.
//!
//! Shape of an operation: `fn name(on: impl Into<On>, args…) -> Run`. The first argument is the host set
//! (first step) or the previous run (later steps, passed by `pipeline!`); values are shell-quoted.

use crate::hosts::Transfer;
use crate::prelude::remote;
use crate::quote;
use crate::report::HostError;
use crate::run::{On, Preview, Run};

/// Runs `argv` (quoted word by word) where `on` says; the label is the command line. A command that changes
/// hosts has a `preview`, what runs instead in a dry run, made from the quoted operand.
fn command(on: impl Into<On>, argv: &[&str], preview: Option<fn(&str) -> String>) -> Run {
    match quote::command_line(argv) {
        Ok(line) => match preview {
            None => on.into().exec(&line, &line),
            Some(preview) => {
                let operand = quote::quote(argv[argv.len() - 1]);
                on.into().change(&line, &line, Preview::Script(&preview(&operand)))
            }
        },
        // Only a NUL byte cannot be quoted; no host is contacted and each says why.
        Err(err) => on.into().refuse(argv[0], HostError::BadArgument { cause: err.to_string() }),
    }
}

/// Runs `program FLAGS… OPERAND` where `on` says, or refuses every host when a flag is not an option: a
/// word such as `/etc` in `rm`'s flags would otherwise become a second operand (`rm -rf /etc /x`).
fn with_flags(on: impl Into<On>, program: &str, flags: &str, operand: &str, preview: Option<fn(&str) -> String>) -> Run {
    let mut argv = vec![program];
    for word in flags.split_whitespace() {
        if !word.starts_with('-') || word == "-" {
            let cause = format!(
                "the flags of `{program}` must be options starting with `-`, but `{word}` is not; \
                 give the path as the {} argument",
                if program == "mkdir" { "folder" } else { "target" }
            );
            return on.into().refuse(program, HostError::BadArgument { cause });
        }
        argv.push(word);
    }
    command(on, &with_operand(argv, operand), preview)
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
    let preview = |folder: &str| format!("[ -d {folder} ] || echo would make the folder {folder}");
    with_flags(on, "mkdir", flags, folder, Some(preview))
}

/// Removes files: `rm FLAGS TARGET`.
///
/// E.g. `rm(hs, "/tmp/work", "-rf")`.
#[remote::operation(default(flags = ""))]
pub fn rm(on: impl Into<On>, target: &str, flags: &str) -> Run {
    let preview = |target: &str| format!("if [ -e {target} ] || [ -L {target} ]; then echo would remove {target}; fi");
    with_flags(on, "rm", flags, target, Some(preview))
}

/// Copies a local file to every host over SFTP, e.g. `upload(hs, "dist/app.tar.gz", "/opt/app/app.tar.gz")`.
///
/// Streamed, never read whole; written beside the target under a temporary name and renamed over it, so the
/// target is never half-written; given the local file's mode and modification time. A host whose file has the
/// same size, time and mode already is left alone and says `unchanged`.
#[remote::operation]
pub fn upload(on: impl Into<On>, local: &str, remote: &str) -> Run {
    let transfer = Transfer::Upload { local: std::path::PathBuf::from(local), remote: remote.to_string() };
    on.into().transfer(&format!("upload {local} to {remote}"), &transfer)
}

/// Makes a folder of every host the same as a local one, over SFTP, sending only the files whose size,
/// modification time or mode differ, e.g. `sync(hs, "site", "/var/www/site")`. Options, separated by spaces:
/// `--delete` removes files and folders the local folder does not have from the host's; `--checksum` compares
/// files of the same size by their SHA-256 (`sha256sum` on the host) instead, so a file changed within the same
/// second is still seen, and one whose content is the same only gets its time and mode.
///
/// Each file is sent under a temporary name and renamed into place. Symbolic links in the local folder are
/// skipped, and said to be.
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
    let transfer =
        Transfer::Sync { local_dir: std::path::PathBuf::from(local_dir), remote_dir: remote_dir.to_string(), delete, checksum };
    on.into().transfer(&format!("sync {local_dir} to {remote_dir}"), &transfer)
}

/// Copies a file of every host here over SFTP, into `LOCAL_DIR/HOST/NAME`, e.g. `download(hs, "/etc/os-release", "got")`.
///
/// Streamed, written under a temporary name and renamed into place, with the host file's mode and modification
/// time; a copy that is the same already is left alone and says `unchanged`.
#[remote::operation]
pub fn download(on: impl Into<On>, remote: &str, local_dir: &str) -> Run {
    let transfer = Transfer::Download { remote: remote.to_string(), local_dir: std::path::PathBuf::from(local_dir) };
    on.into().transfer(&format!("download {remote} to {local_dir}"), &transfer)
}

/// Runs the commands of the steps after it as root through `sudo`, e.g. `sudo(hs) | pkg_install("nginx")`, as
/// `become = true` does for a whole group. File copies stay the login user's.
///
/// Where sudo needs a password, it comes from `REMOTE_BECOME_PASSWORD` or is asked once (`--ask-become-pass`); a
/// host where none was given fails with that said. The step itself contacts no host.
#[remote::operation]
pub fn sudo(on: impl Into<On>) -> Run {
    on.into().as_root("sudo")
}

/// Runs shell code in the login shell.
///
/// E.g. `exec(hs, "df -h | tail -n +2")`. The script is the user's own code, so it is not quoted; values
/// to put inside it should go through [`quote::quote`].
#[remote::operation]
pub fn exec(on: impl Into<On>, script: &str) -> Run {
    let label = script.lines().next().unwrap_or_default();
    on.into().change(label, script, Preview::Unknown)
}

/// Starts shell code detached from the session, so that it goes on after the connection closes (the seed's
/// `nohup`); its output is discarded, and each host prints the new process's id.
///
/// E.g. `nohup(hs, "./long-job.sh")`. It runs in a session of its own (`setsid`, where the host has it), so
/// nothing that ends the SSH session or its process group ends it; like `exec`, the script is the user's code.
#[remote::operation]
pub fn nohup(on: impl Into<On>, script: &str) -> Run {
    let quoted = quote::quote(script);
    let detached = format!("sh -c {quoted} >/dev/null 2>&1 </dev/null &");
    let line = format!(
        "if command -v setsid >/dev/null 2>&1; then setsid nohup {detached} else nohup {detached} fi; echo \"started, pid $!\""
    );
    on.into().change(&format!("nohup {}", script.lines().next().unwrap_or_default()), &line, Preview::Unknown)
}

/// Unpacks a tar archive on each host into a folder, made if missing: `tar -xf ARCHIVE -C DEST` (tar finds
/// gzip, bzip2 or xz by itself; the seed's `extract`).
///
/// E.g. `upload(hs, "app.tar.gz", "/tmp/app.tar.gz") | extract("/tmp/app.tar.gz", "/opt/app")`.
#[remote::operation]
pub fn extract(on: impl Into<On>, archive: &str, dest: &str) -> Run {
    // Commands start in the login user's home, so `~/x` is `x`, as `upload` reads it; quoted, `~` would be a name.
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
            on.into().change(&format!("extract {archive} into {dest}"), &format!("{mkdir} && {tar}"), Preview::Unknown)
        }
        [Err(err), _] | [_, Err(err)] => on.into().refuse("extract", HostError::BadArgument { cause: err.to_string() }),
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
