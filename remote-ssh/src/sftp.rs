//! `upload` and `download` over SFTP on the kept-open connection: streamed (never a whole file in memory),
//! atomic where the file lands (written to a temporary name beside it, then renamed), mode and modification
//! time kept, and a file that is already as asked left alone (`changed: false`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use russh_sftp::client::{RawSftpSession, SftpSession};
use russh_sftp::protocol::{FileAttributes, OpenFlags, Packet, StatusCode};
use tokio::io::AsyncWriteExt;

use remote_core::{HostError, Output, Transfer};

use crate::connection::Connection;
pub(crate) use fault::Temporaries;
use fault::{explain, explain_write, folder_of, noted, size};
pub(crate) use sync::LocalHashes;
use sync::SyncMode;

mod fault;
mod sync;

/// What a file is, for deciding whether a copy is needed: size, modification time (whole seconds, as SFTP has
/// them) and permission bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    size: u64,
    mtime: u32,
    mode: u32,
}

impl Stamp {
    fn of_local(meta: &std::fs::Metadata) -> Self {
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as u32);
        Stamp { size: meta.len(), mtime, mode: meta.permissions().mode() & 0o7777 }
    }

    fn of_remote(attrs: &FileAttributes) -> Option<Self> {
        Some(Stamp { size: attrs.size?, mtime: attrs.mtime?, mode: attrs.permissions? & 0o7777 })
    }

    /// The stamp a copy of this file gets: the same, but for the setuid, setgid and sticky bits. The source's
    /// stamp goes through here and the target's is read whole, so a target with any of those bits is never
    /// "unchanged", and the next copy clears them.
    fn copied(self) -> Self {
        Stamp { mode: self.mode & COPIED_FILE_MODE, ..self }
    }
}

/// The permission bits a copied file keeps, as OpenSSH's `sftp -p` and `scp -p` do both ways: setuid, setgid
/// and sticky are dropped, since ownership is not copied. Else a host could plant a setuid program, owned by
/// root when `remote` runs as root, under `LOCAL_DIR/HOST/`, and a local file become one on the host.
const COPIED_FILE_MODE: u32 = 0o777;

/// The permission bits a folder made by `sync` keeps: OpenSSH's `sftp -p` keeps the sticky bit of folders too
/// (a shared folder such as `/tmp` needs it), and drops setuid and setgid.
const COPIED_FOLDER_MODE: u32 = 0o1777;

/// Copies as `transfer` says between this machine and the host of `connection`; `host` names the host's
/// folder for downloads. With `check`, nothing is copied or changed: the output says what would be. The
/// temporary files made on the host are kept in `temporaries` until they are in place; on failure they are
/// removed, and the error names those that could not be.
pub(crate) async fn transfer(
    connection: &Connection,
    host: &str,
    transfer: &Transfer,
    check: bool,
    hashes: &LocalHashes,
    temporaries: &Temporaries,
) -> Result<Output, HostError> {
    let outcome = async {
        let sftp = open(connection).await?;
        match transfer {
            Transfer::Upload { local, remote } => {
                upload(connection, sftp, local, remote, check, temporaries).await
            }
            Transfer::Sync { local_dir, remote_dir, delete, checksum } => {
                let mode = SyncMode { delete: *delete, checksum: *checksum, check, hashes };
                sync::sync(connection, sftp, local_dir, remote_dir, mode, temporaries).await
            }
            Transfer::Download { remote, local_dir } => {
                let outcome =
                    download(connection, &sftp, remote, &local_dir.join(host_folder(host)), check).await;
                let _ = sftp.close().await;
                outcome
            }
        }
    }
    .await;
    match outcome {
        Err(e) => Err(noted(e, &temporaries.clean_up(connection).await)),
        done => done,
    }
}

/// A host's name as a folder name: `/` cannot be in one, and `.`/`..` would climb out.
fn host_folder(host: &str) -> String {
    let name = host.replace('/', "_");
    if name == "." || name == ".." { format!("_{name}") } else { name }
}

async fn open(connection: &Connection) -> Result<SftpSession, HostError> {
    let sftp = |cause: String| HostError::Sftp { cause };
    let channel = connection.open_session().await.map_err(|e| sftp(format!("cannot open a channel: {e}")))?;
    channel
        .request_subsystem(true, "sftp")
        .await
        .map_err(|e| sftp(format!("the server has no sftp subsystem: {e}")))?;
    SftpSession::new(channel.into_stream()).await.map_err(|e| {
        sftp(format!("no SFTP server answered ({e}); the host's sshd_config needs a `Subsystem sftp` line"))
    })
}

/// SFTP paths are relative to the login user's home; `~/x` means the same there as in a shell.
fn remote_path(path: &str) -> String {
    path.strip_prefix("~/").unwrap_or(path).to_string()
}

/// A name beside `path` for the copy in progress: hidden, and with 64 random bits, so that no one can plant a
/// file or link under it beforehand (it is also created exclusively), and copies never meet.
fn temporary(path: &str) -> String {
    let (dir, name) = match path.rsplit_once('/') {
        Some((dir, name)) => (format!("{dir}/"), name),
        None => (String::new(), path),
    };
    let mut random = [0u8; 8];
    // Should the system have no randomness, the time still differs from copy to copy.
    if getrandom::fill(&mut random).is_err() {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos() as u64;
        random = nanos.to_le_bytes();
    }
    format!("{dir}.{name}.remote-{:016x}.tmp", u64::from_le_bytes(random))
}

fn done(changed: bool, message: String) -> Output {
    Output {
        exit: Some(0),
        stdout: format!("{message}\n").into_bytes(),
        changed: Some(changed),
        ..Output::default()
    }
}

async fn upload(
    connection: &Connection,
    sftp: SftpSession,
    local: &Path,
    remote: &str,
    check: bool,
    temporaries: &Temporaries,
) -> Result<Output, HostError> {
    let local_error = |cause: String| HostError::LocalFile { path: local.to_path_buf(), cause };
    let meta = tokio::fs::metadata(local).await.map_err(|e| local_error(e.to_string()))?;
    if !meta.is_file() {
        return Err(local_error("not a regular file; upload sends one file".into()));
    }
    let stamp = Stamp::of_local(&meta).copied();
    let target = remote_path(remote);
    let existing = sftp.metadata(target.clone()).await.ok();
    if remote.ends_with('/') || existing.as_ref().is_some_and(|attrs| attrs.is_dir()) {
        let _ = sftp.close().await;
        return Err(HostError::RemoteFile {
            path: remote.to_string(),
            cause: "a folder; give the path of the file to write, e.g. FOLDER/NAME".into(),
        });
    }
    if let Some(attrs) = &existing
        && Stamp::of_remote(attrs) == Some(stamp)
    {
        let _ = sftp.close().await;
        return Ok(done(false, format!("unchanged: {remote} has the same size, time and mode")));
    }
    if check {
        let _ = sftp.close().await;
        let what = if existing.is_some() { "replacing the different file there" } else { "a new file" };
        return Ok(done(true, format!("would send {} bytes to {remote}, {what}", stamp.size)));
    }
    let sent = send_file(connection, &sftp, local, stamp, &target, remote, temporaries).await;
    let _ = sftp.close().await;
    // One channel at a time per copy: the file's session ends before the rename's begins.
    let (partial, bytes) = sent?;
    rename_over(connection, &partial, &target).await?;
    temporaries.forget(&partial);
    Ok(done(true, format!("sent {bytes} bytes to {remote}")))
}

/// Sends `local` to a temporary name beside `target` and gives it `stamp`'s mode and time; the temporary
/// name, for the rename that puts it in place. The name is in `temporaries` from its creation; on failure the
/// file is removed (and forgotten) when the session still can. Errors name `shown`, the path as the user gave
/// it, and say how far the copy got.
async fn send_file(
    connection: &Connection,
    sftp: &SftpSession,
    local: &Path,
    stamp: Stamp,
    target: &str,
    shown: &str,
    temporaries: &Temporaries,
) -> Result<(String, u64), HostError> {
    use tokio::io::AsyncBufReadExt;
    let remote_error = |cause: String| HostError::RemoteFile { path: shown.to_string(), cause };
    let local_error =
        |e: std::io::Error| HostError::LocalFile { path: local.to_path_buf(), cause: e.to_string() };
    let source = tokio::fs::File::open(local).await.map_err(local_error)?;
    // Large reads, so that every write request is full and many are in flight over a slow link.
    let mut source = tokio::io::BufReader::with_capacity(COPY_BUFFER, source);
    let partial = temporary(target);
    // Readable by the owner only until it is complete and gets its real mode; made anew, never an existing
    // file.
    let attrs = FileAttributes { permissions: Some(0o600), ..FileAttributes::empty() };
    let flags = OpenFlags::CREATE | OpenFlags::EXCLUDE | OpenFlags::WRITE;
    // Tracked before it is asked for: a copy stopped while the server makes it must still look for it.
    temporaries.add(&partial);
    let mut file = match sftp.open_with_flags_and_attributes(partial.clone(), flags, attrs).await {
        Ok(file) => file,
        Err(e) => {
            temporaries.forget(&partial);
            let why = explain_write(connection, sftp, folder_of(target), stamp.size, &e).await;
            return Err(remote_error(format!("cannot create a file beside it: {why}")));
        }
    };
    // Read here and written there in turn, counting, so that a failure says which side failed and how far it
    // got.
    let mut sent = 0u64;
    let copied: Result<u64, HostError> = async {
        loop {
            let chunk = source.fill_buf().await.map_err(local_error)?;
            if chunk.is_empty() {
                break;
            }
            let length = chunk.len();
            // A write in flight when the connection drops waits out SFTP's 10 s request timeout; the
            // connection's end is watched beside it, so that the loss is said at once.
            let written = tokio::select! {
                written = file.write_all(chunk) => written,
                () = lost(connection) => Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "connection lost")),
            };
            if let Err(e) = written {
                return Err(write_failure(connection, sftp, &e, target, sent, stamp.size, shown).await);
            }
            source.consume(length);
            sent += length as u64;
        }
        let flushed = tokio::select! {
            flushed = file.shutdown() => flushed,
            () = lost(connection) => Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "connection lost")),
        };
        match flushed {
            Ok(()) => Ok(sent),
            Err(e) => Err(write_failure(connection, sftp, &e, target, sent, stamp.size, shown).await),
        }
    }
    .await;
    let finished = match copied {
        Ok(bytes) => {
            // Masked where it is set as well, so that no stamp can carry a setuid bit onto the host.
            let attrs = FileAttributes {
                permissions: Some(stamp.mode & COPIED_FILE_MODE),
                mtime: Some(stamp.mtime),
                atime: Some(stamp.mtime),
                ..FileAttributes::empty()
            };
            match sftp.set_metadata(partial.clone(), attrs).await {
                Ok(()) => Ok(bytes),
                Err(e) => {
                    let why = explain_write(connection, sftp, folder_of(target), 0, &e).await;
                    Err(remote_error(format!("cannot set the copy's mode and time: {why}")))
                }
            }
        }
        Err(e) => Err(e),
    };
    match finished {
        Ok(bytes) => Ok((partial, bytes)),
        Err(e) => {
            if sftp.remove_file(partial.clone()).await.is_ok() {
                temporaries.forget(&partial);
            }
            Err(e)
        }
    }
}

/// Resolves once `connection` is closed (looked at every 100 ms); never while it is open.
async fn lost(connection: &Connection) {
    while !connection.is_closed() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A write of a copy that failed after `sent` of `total` bytes, in words: the disk full or read-only when the
/// host says so, else what became of the session.
async fn write_failure(
    connection: &Connection,
    sftp: &SftpSession,
    e: &std::io::Error,
    target: &str,
    sent: u64,
    total: u64,
    shown: &str,
) -> HostError {
    let inner = e.get_ref().and_then(|inner| inner.downcast_ref::<russh_sftp::client::error::Error>());
    let why = match inner {
        Some(inner) => {
            explain_write(connection, sftp, folder_of(target), total.saturating_sub(sent), inner).await
        }
        None if connection.is_closed() => "the connection to the host was lost".into(),
        None => e.to_string(),
    };
    HostError::RemoteFile {
        path: shown.to_string(),
        cause: format!("{why}, after {} of {}", size(sent), size(total)),
    }
}

/// Bytes read from a local file at a time while sending it.
const COPY_BUFFER: usize = 256 << 10;

/// Removes the unrenamed temporary files of a copy that stopped; those that cannot be stay in `temporaries`.
async fn forget(sftp: &SftpSession, partials: &[(String, String)], temporaries: &Temporaries) {
    for (partial, _) in partials {
        if sftp.remove_file(partial.clone()).await.is_ok() {
            temporaries.forget(partial);
        }
    }
}

/// A failed request about `path` on the host, in words.
async fn remote_failure(
    connection: &Connection,
    path: &str,
    e: &russh_sftp::client::error::Error,
) -> HostError {
    HostError::RemoteFile { path: path.to_string(), cause: explain(connection, e).await }
}
/// OpenSSH's SFTP extension that renames over an existing file, as rename(2) does: atomically.
const POSIX_RENAME: &str = "posix-rename@openssh.com";

/// Puts `from` in place of `to` at once, with OpenSSH's `posix-rename` (SFTP's own rename refuses an existing
/// target); on failure `from` is removed.
async fn rename_over(connection: &Connection, from: &str, to: &str) -> Result<(), HostError> {
    let raw = Raw::open(connection).await;
    let outcome = match &raw {
        Ok(raw) => raw.rename_over(from, to).await,
        Err(HostError::Sftp { cause }) => {
            Err(HostError::Sftp { cause: format!("{cause}; the target is as it was") })
        }
        Err(e) => Err(e.clone()),
    };
    if let Ok(raw) = raw {
        raw.close();
    }
    outcome
}

/// A raw SFTP session, for what the file session does not ask: `posix-rename`, and removals after renames.
struct Raw {
    raw: RawSftpSession,
    posix_rename: bool,
}

impl Raw {
    async fn open(connection: &Connection) -> Result<Self, HostError> {
        let failed = |cause: String| HostError::Sftp { cause };
        let channel = connection
            .open_session()
            .await
            .map_err(|e| failed(format!("cannot open a channel to rename: {e}")))?;
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(|e| failed(format!("the server has no sftp subsystem: {e}")))?;
        let raw = RawSftpSession::new(channel.into_stream());
        let version = raw.init().await.map_err(|e| failed(format!("the sftp server did not start: {e}")))?;
        Ok(Raw { raw, posix_rename: version.extensions.contains_key(POSIX_RENAME) })
    }

    /// `from` in place of `to` at once; on failure `from` is removed and the target is as it was.
    async fn rename_over(&self, from: &str, to: &str) -> Result<(), HostError> {
        let failed = |cause: String| HostError::RemoteFile { path: to.to_string(), cause };
        let outcome = if self.posix_rename {
            let mut data = Vec::with_capacity(8 + from.len() + to.len());
            for path in [from, to] {
                data.extend_from_slice(&(path.len() as u32).to_be_bytes());
                data.extend_from_slice(path.as_bytes());
            }
            match self.raw.extended(POSIX_RENAME, data).await {
                Ok(Packet::Status(status)) if status.status_code == StatusCode::Ok => Ok(()),
                Ok(Packet::Status(status)) => {
                    Err(failed(format!("rename failed: {} ({})", status.error_message, status.status_code)))
                }
                Ok(_) => {
                    Err(failed("rename failed: the server answered with something else than a status".into()))
                }
                Err(e) => Err(failed(format!("rename failed: {e}"))),
            }
        } else {
            Err(failed(format!(
                "the server's SFTP has no {POSIX_RENAME}, so the file cannot replace the old one at once; nothing was changed"
            )))
        };
        if outcome.is_err() {
            let _ = self.raw.remove(from).await;
        }
        outcome
    }

    fn close(self) {
        let _ = self.raw.close_session();
    }
}

async fn download(
    connection: &Connection,
    sftp: &SftpSession,
    remote: &str,
    folder: &Path,
    check: bool,
) -> Result<Output, HostError> {
    use tokio::io::AsyncReadExt;
    let source_path = remote_path(remote);
    let remote_error = |cause: String| HostError::RemoteFile { path: remote.to_string(), cause };
    let attrs = match sftp.metadata(source_path.clone()).await {
        Ok(attrs) => attrs,
        Err(e) => return Err(remote_error(explain(connection, &e).await)),
    };
    if attrs.is_dir() {
        return Err(remote_error("a folder; download fetches one file".into()));
    }
    if !attrs.is_regular() {
        // A device or pipe could stream without end onto this machine's disk.
        return Err(remote_error("not a regular file; download fetches one".into()));
    }
    let stamp = Stamp::of_remote(&attrs).map(Stamp::copied);
    let name =
        Path::new(&source_path).file_name().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("download"));
    let target = folder.join(&name);
    let local_error = |path: &Path, e: std::io::Error| HostError::LocalFile {
        path: path.to_path_buf(),
        cause: e.to_string(),
    };
    if let (Ok(meta), Some(stamp)) = (std::fs::metadata(&target), stamp)
        && Stamp::of_local(&meta) == stamp
    {
        return Ok(done(false, format!("unchanged: {} has the same size, time and mode", target.display())));
    }
    if check {
        return Ok(done(
            true,
            format!("would receive {} bytes into {}", attrs.size.unwrap_or(0), target.display()),
        ));
    }
    tokio::fs::create_dir_all(folder).await.map_err(|e| local_error(folder, e))?;
    let partial = folder.join(temporary(&name.display().to_string()));
    let total = attrs.size.unwrap_or(0);
    let received = async {
        let mut source = match sftp.open(source_path.clone()).await {
            Ok(source) => source,
            Err(e) => return Err(remote_error(explain(connection, &e).await)),
        };
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)
            .await
            .map_err(|e| local_error(&partial, e))?;
        // Read there and written here in turn, so that a failure blames the side that failed and says how far
        // the copy got.
        let mut buffer = vec![0u8; COPY_BUFFER];
        let mut size_read = 0u64;
        loop {
            let read = tokio::select! {
                read = source.read(&mut buffer) => read,
                () = lost(connection) => Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "connection lost")),
            };
            let read = match read {
                Ok(read) => read,
                Err(e) => {
                    let inner = e.get_ref().and_then(|inner| inner.downcast_ref::<russh_sftp::client::error::Error>());
                    let why = match inner {
                        Some(inner) => explain(connection, inner).await,
                        None if connection.is_closed() => "the connection to the host was lost".into(),
                        None => e.to_string(),
                    };
                    return Err(remote_error(format!("{why}, after {} of {}", size(size_read), size(total))));
                }
            };
            if read == 0 {
                break;
            }
            file.write_all(&buffer[..read]).await.map_err(|e| local_error(&partial, e))?;
            size_read += read as u64;
        }
        file.flush().await.map_err(|e| local_error(&partial, e))?;
        let file = file.into_std().await;
        if let Some(stamp) = stamp {
            // Masked where it is set as well: the bits come from the host, and this file is ours.
            let mode = std::fs::Permissions::from_mode(stamp.mode & COPIED_FILE_MODE);
            file.set_permissions(mode).map_err(|e| local_error(&partial, e))?;
            file.set_modified(UNIX_EPOCH + Duration::from_secs(stamp.mtime.into())).map_err(|e| local_error(&partial, e))?;
        }
        std::fs::rename(&partial, &target).map_err(|e| local_error(&target, e))?;
        Ok::<u64, HostError>(size_read)
    }
    .await;
    match received {
        Ok(size) => Ok(done(true, format!("received {size} bytes into {}", target.display()))),
        Err(e) => {
            // The partial file is here, so it can always be removed.
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(remote_path("~/app/x.tar"), "app/x.tar");
        assert_eq!(remote_path("/opt/x"), "/opt/x");
        assert!(temporary("/opt/app/x.tar").starts_with("/opt/app/.x.tar.remote-"));
        assert!(temporary("x.tar").starts_with(".x.tar.remote-"));
        assert_eq!(host_folder("web-1:2222"), "web-1:2222");
        assert_eq!(host_folder(".."), "_..");
        assert_eq!(host_folder("a/b"), "a_b");
    }
}
