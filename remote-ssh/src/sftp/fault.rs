//! What went wrong during a copy, in words a user can act on (not the SFTP library's `Failure` or `sender
//! dropped`), and what it left behind: every temporary file a copy makes on the host is tracked until it is
//! renamed into place or removed, so that a copy that fails or is stopped removes it, or names it when it
//! cannot.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh_sftp::client::SftpSession;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::StatusCode;

use remote_core::HostError;

use super::Raw;
use crate::connection::Connection;

/// `ST_RDONLY` in statvfs's flags: the filesystem is mounted read-only.
const READ_ONLY: u64 = 1;

/// How long removing a stopped copy's temporary files may take: the host may be the reason it stopped.
const CLEAN_UP: Duration = Duration::from_secs(5);

/// Temporary names shown in a message; the rest are counted.
const NAMES_SHOWN: usize = 3;

/// A failed SFTP request in words. Only an SFTP status is the host's answer; anything else means the session
/// is gone, and whether the whole connection went with it is looked at, not guessed.
pub(crate) async fn explain(connection: &Connection, e: &SftpError) -> String {
    match e {
        SftpError::Status(status) => match status.status_code {
            StatusCode::NoSuchFile => "no such file or folder".into(),
            StatusCode::PermissionDenied => "permission denied".into(),
            StatusCode::OpUnsupported => "the host's SFTP server does not support this request".into(),
            // OpenSSH's sftp-server says only "Failure" for a full disk, a read-only filesystem, a name that
            // exists: callers that can tell which look at the host and say so (see `refine`).
            StatusCode::Failure => {
                "the host's SFTP server refused it without saying why (\"Failure\")".into()
            }
            code => format!("{code}: {}", status.error_message),
        },
        other => {
            // The session ends a moment before the connection is seen closed.
            for _ in 0..10 {
                if connection.is_closed() {
                    return "the connection to the host was lost".into();
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            match other {
                SftpError::Timeout => "the host's SFTP server did not answer within 10 s".into(),
                other => format!("the SFTP session with the host ended ({other})"),
            }
        }
    }
}

/// Whether `e` is SFTP's "Failure" status, which [`refine`] can say more about.
pub(crate) fn is_failure(e: &SftpError) -> bool {
    matches!(e, SftpError::Status(status) if status.status_code == StatusCode::Failure)
}

/// [`explain`], or for a bare "Failure" of a write of `needed` bytes under `folder`, what the host's
/// filesystem says: full, or read-only.
pub(crate) async fn explain_write(
    connection: &Connection,
    sftp: &SftpSession,
    folder: &str,
    needed: u64,
    e: &SftpError,
) -> String {
    let refined = match is_failure(e) {
        true => refine(sftp, folder, needed).await,
        false => None,
    };
    match refined {
        Some(why) => why,
        None => explain(connection, e).await,
    }
}

/// Why writing `needed` more bytes under `folder` failed, when the host's filesystem tells: full, or
/// read-only.
pub(crate) async fn refine(sftp: &SftpSession, folder: &str, needed: u64) -> Option<String> {
    let info = tokio::time::timeout(CLEAN_UP, sftp.fs_info(folder.to_string())).await.ok()?.ok()??;
    if info.flags & READ_ONLY != 0 {
        return Some("the host's filesystem there is read-only".into());
    }
    if info.inodes > 0 && info.inodes_avail == 0 {
        return Some("no space left on the host's filesystem (no free inodes)".into());
    }
    let free = info.blocks_avail.saturating_mul(info.fragment_size);
    (free < needed.max(1)).then(|| format!("no space left on the host's filesystem ({} free)", size(free)))
}

/// The folder of a remote path, for [`refine`].
pub(crate) fn folder_of(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) => "/",
        Some((folder, _)) => folder,
        None => ".",
    }
}

/// A byte count as people read it: `512 bytes`, `3.4 KiB`, `12.3 MiB`, `1.5 GiB`.
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The temporary files a copy has on the host and has not yet renamed into place or removed.
#[derive(Clone, Debug, Default)]
pub(crate) struct Temporaries(Arc<Mutex<BTreeSet<String>>>);

impl Temporaries {
    pub(crate) fn add(&self, path: &str) {
        self.lock().insert(path.to_string());
    }

    pub(crate) fn forget(&self, path: &str) {
        self.lock().remove(path);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Removes what is left, over a session of its own (the copy's may be what failed), within a few seconds;
    /// then what is still there, as a sentence to add to the copy's error ("" when nothing is left).
    pub(crate) async fn clean_up(&self, connection: &Connection) -> String {
        let left: Vec<String> = self.lock().iter().cloned().collect();
        if left.is_empty() {
            return String::new();
        }
        let removal = async {
            let raw = Raw::open(connection).await.ok()?;
            for path in &left {
                match raw.raw.remove(path.clone()).await {
                    Ok(_) => self.forget(path),
                    Err(SftpError::Status(status)) if status.status_code == StatusCode::NoSuchFile => {
                        self.forget(path)
                    }
                    Err(_) => {}
                }
            }
            raw.close();
            Some(())
        };
        let _ = tokio::time::timeout(CLEAN_UP, removal).await;
        self.said()
    }

    /// The temporary files still left, as a sentence ("" when none).
    pub(crate) fn said(&self) -> String {
        let left = self.lock();
        match left.len() {
            0 => String::new(),
            1 => format!(
                "; its temporary file {} is left on the host",
                left.iter().next().map_or("", String::as_str)
            ),
            count => {
                let shown: Vec<&str> = left.iter().take(NAMES_SHOWN).map(String::as_str).collect();
                let more = if count > NAMES_SHOWN {
                    format!(" and {} more", count - NAMES_SHOWN)
                } else {
                    String::new()
                };
                format!("; {count} temporary files are left on the host: {}{more}", shown.join(", "))
            }
        }
    }
}

/// `e` with `note` added to its cause (the temporary files left, say).
pub(crate) fn noted(e: HostError, note: &str) -> HostError {
    if note.is_empty() {
        return e;
    }
    match e {
        HostError::RemoteFile { path, cause } => {
            HostError::RemoteFile { path, cause: format!("{cause}{note}") }
        }
        HostError::LocalFile { path, cause } => {
            HostError::LocalFile { path, cause: format!("{cause}{note}") }
        }
        HostError::Sftp { cause } => HostError::Sftp { cause: format!("{cause}{note}") },
        other => HostError::Sftp { cause: format!("{other}{note}") },
    }
}

/// Whether `name` (the last part of a path) is a copy's temporary file, as `temporary` makes them: another
/// copy's in flight, or one a stopped copy left. `sync --delete` never removes those: on a folder several
/// hosts share (NFS homes, the sandbox), they are another host's copy in progress.
pub(crate) fn is_temporary(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.') else { return false };
    let Some(rest) = rest.strip_suffix(".tmp") else { return false };
    match rest.rsplit_once(".remote-") {
        Some((target, hex)) => {
            !target.is_empty() && hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        let check = |bytes: u64, expected: &str| assert_eq!(size(bytes), expected, "{bytes}");
        check(0, "0 bytes");
        check(1023, "1023 bytes");
        check(1024, "1.0 KiB");
        check(12_900_000, "12.3 MiB");
        check(50 << 20, "50.0 MiB");
        check(3 << 30, "3.0 GiB");
        check(u64::MAX, "16777216.0 TiB");
    }

    #[test]
    fn temporaries_are_told_from_files() {
        let check = |name: &str, expected: bool| assert_eq!(is_temporary(name), expected, "{name}");
        check(".a.css.remote-0123456789abcdef.tmp", true);
        check(".big.bin.remote-ffffffffffffffff.tmp", true);
        check("a.css.remote-0123456789abcdef.tmp", false);
        check(".a.css.remote-0123456789abcde.tmp", false);
        check(".a.css.remote-0123456789abcdeg.tmp", false);
        check("..remote-0123456789abcdef.tmp", false);
        check(".a.css.tmp", false);
        check("a.css", false);
    }

    #[test]
    fn folders_of_paths() {
        let check = |path: &str, expected: &str| assert_eq!(folder_of(path), expected, "{path}");
        check("/srv/app/a.css", "/srv/app");
        check("/a", "/");
        check("app/a", "app");
        check("a", ".");
    }

    #[test]
    fn what_is_left_is_named() {
        let temporaries = Temporaries::default();
        assert_eq!(temporaries.said(), "");
        temporaries.add("/x/.a.remote-1.tmp");
        assert_eq!(temporaries.said(), "; its temporary file /x/.a.remote-1.tmp is left on the host");
        for n in 2..=5 {
            temporaries.add(&format!("/x/.a.remote-{n}.tmp"));
        }
        assert_eq!(
            temporaries.said(),
            "; 5 temporary files are left on the host: /x/.a.remote-1.tmp, /x/.a.remote-2.tmp, /x/.a.remote-3.tmp and 2 more"
        );
        temporaries.forget("/x/.a.remote-1.tmp");
        assert!(temporaries.said().starts_with("; 4 temporary files"));
    }
}
