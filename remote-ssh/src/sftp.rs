//! `upload` and `download` over SFTP on the kept-open connection: streamed (never a whole file in memory), atomic
//! where the file lands (written to a temporary name beside it, then renamed), mode and modification time kept,
//! and a file that is already as asked left alone (`changed: false`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use russh_sftp::client::{RawSftpSession, SftpSession};
use russh_sftp::protocol::{FileAttributes, OpenFlags, Packet, StatusCode};
use tokio::io::AsyncWriteExt;

use remote_core::hosts::Transfer;
use remote_core::report::{HostError, Output};

use crate::connection::Connection;

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
        let mtime = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs() as u32);
        Stamp { size: meta.len(), mtime, mode: meta.permissions().mode() & 0o7777 }
    }

    fn of_remote(attrs: &FileAttributes) -> Option<Self> {
        Some(Stamp { size: attrs.size?, mtime: attrs.mtime?, mode: attrs.permissions? & 0o7777 })
    }
}

/// Copies as `transfer` says between this machine and the host of `connection`; `host` names the host's folder
/// for downloads.
pub(crate) async fn transfer(connection: &Connection, host: &str, transfer: &Transfer) -> Result<Output, HostError> {
    let sftp = open(connection).await?;
    match transfer {
        Transfer::Upload { local, remote } => upload(connection, sftp, local, remote).await,
        Transfer::Download { remote, local_dir } => {
            let outcome = download(&sftp, remote, &local_dir.join(host_folder(host))).await;
            let _ = sftp.close().await;
            outcome
        }
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
    channel.request_subsystem(true, "sftp").await.map_err(|e| sftp(format!("the server has no sftp subsystem: {e}")))?;
    SftpSession::new(channel.into_stream()).await.map_err(|e| sftp(format!("the sftp server did not start: {e}")))
}

/// SFTP paths are relative to the login user's home; `~/x` means the same there as in a shell.
fn remote_path(path: &str) -> String {
    path.strip_prefix("~/").unwrap_or(path).to_string()
}

/// A name beside `path` for the copy in progress: hidden, and unique to this process and copy (hosts that share
/// a file system, or one host twice in a group, never write into one another's).
fn temporary(path: &str) -> String {
    static COPIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let (dir, name) = match path.rsplit_once('/') {
        Some((dir, name)) => (format!("{dir}/"), name),
        None => (String::new(), path),
    };
    let copy = COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{dir}.{name}.remote-{}-{copy}.tmp", std::process::id())
}

fn done(changed: bool, message: String) -> Output {
    Output { exit: Some(0), stdout: format!("{message}\n").into_bytes(), changed: Some(changed), ..Output::default() }
}

async fn upload(connection: &Connection, sftp: SftpSession, local: &Path, remote: &str) -> Result<Output, HostError> {
    let local_error = |cause: String| HostError::LocalFile { path: local.to_path_buf(), cause };
    let remote_error =
        |path: &str, e: russh_sftp::client::error::Error| HostError::RemoteFile { path: path.to_string(), cause: e.to_string() };
    let meta = tokio::fs::metadata(local).await.map_err(|e| local_error(e.to_string()))?;
    if !meta.is_file() {
        return Err(local_error("not a regular file; upload sends one file".into()));
    }
    let stamp = Stamp::of_local(&meta);
    let target = remote_path(remote);
    if let Ok(attrs) = sftp.metadata(target.clone()).await
        && Stamp::of_remote(&attrs) == Some(stamp)
    {
        let _ = sftp.close().await;
        return Ok(done(false, format!("unchanged: {remote} has the same size, time and mode")));
    }
    let mut source = tokio::fs::File::open(local).await.map_err(|e| local_error(e.to_string()))?;
    let partial = temporary(&target);
    // Readable by the owner only until it is complete and gets its real mode.
    let attrs = FileAttributes { permissions: Some(0o600), ..FileAttributes::empty() };
    let flags = OpenFlags::CREATE | OpenFlags::TRUNCATE | OpenFlags::WRITE;
    // Errors name the target the user gave, not the temporary name beside it.
    let mut file =
        sftp.open_with_flags_and_attributes(partial.clone(), flags, attrs).await.map_err(|e| remote_error(remote, e))?;
    let copied = async {
        tokio::io::copy(&mut source, &mut file).await?;
        file.shutdown().await
    }
    .await
    .map_err(|e| HostError::RemoteFile { path: remote.to_string(), cause: e.to_string() });
    let finished = match copied {
        Ok(()) => {
            let attrs = FileAttributes {
                permissions: Some(stamp.mode),
                mtime: Some(stamp.mtime),
                atime: Some(stamp.mtime),
                ..FileAttributes::empty()
            };
            sftp.set_metadata(partial.clone(), attrs).await.map_err(|e| remote_error(remote, e))
        }
        Err(e) => Err(e),
    };
    if let Err(e) = finished {
        let _ = sftp.remove_file(partial).await;
        let _ = sftp.close().await;
        return Err(e);
    }
    // One channel at a time per copy: the file's session ends before the rename's begins.
    let _ = sftp.close().await;
    rename_over(connection, &partial, &target).await?;
    Ok(done(true, format!("sent {} bytes to {remote}", stamp.size)))
}

/// OpenSSH's SFTP extension that renames over an existing file, as rename(2) does: atomically.
const POSIX_RENAME: &str = "posix-rename@openssh.com";

/// Puts `from` in place of `to` at once, with OpenSSH's `posix-rename` (SFTP's own rename refuses an existing
/// target). It goes over an SFTP session of its own, since the file session hides raw requests.
async fn rename_over(connection: &Connection, from: &str, to: &str) -> Result<(), HostError> {
    let failed = |cause: String| HostError::RemoteFile { path: to.to_string(), cause };
    let channel = connection.open_session().await.map_err(|e| failed(format!("cannot open a channel to rename: {e}")))?;
    channel.request_subsystem(true, "sftp").await.map_err(|e| failed(format!("the server has no sftp subsystem: {e}")))?;
    let raw = RawSftpSession::new(channel.into_stream());
    let version = raw.init().await.map_err(|e| failed(format!("the sftp server did not start: {e}")))?;
    if !version.extensions.contains_key(POSIX_RENAME) {
        let _ = raw.remove(from).await;
        return Err(failed(format!(
            "the server's SFTP has no {POSIX_RENAME}, so the file cannot replace the old one at once; nothing was changed"
        )));
    }
    let mut data = Vec::with_capacity(8 + from.len() + to.len());
    for path in [from, to] {
        data.extend_from_slice(&(path.len() as u32).to_be_bytes());
        data.extend_from_slice(path.as_bytes());
    }
    let outcome = match raw.extended(POSIX_RENAME, data).await {
        Ok(Packet::Status(status)) if status.status_code == StatusCode::Ok => Ok(()),
        Ok(Packet::Status(status)) => Err(failed(format!("rename failed: {} ({})", status.error_message, status.status_code))),
        Ok(_) => Err(failed("rename failed: the server answered with something else than a status".into())),
        Err(e) => Err(failed(format!("rename failed: {e}"))),
    };
    if outcome.is_err() {
        let _ = raw.remove(from).await;
    }
    let _ = raw.close_session();
    outcome
}

async fn download(sftp: &SftpSession, remote: &str, folder: &Path) -> Result<Output, HostError> {
    let source_path = remote_path(remote);
    let remote_error =
        |e: russh_sftp::client::error::Error| HostError::RemoteFile { path: remote.to_string(), cause: e.to_string() };
    let attrs = sftp.metadata(source_path.clone()).await.map_err(remote_error)?;
    if attrs.is_dir() {
        return Err(HostError::RemoteFile { path: remote.to_string(), cause: "a folder; download fetches one file".into() });
    }
    let stamp = Stamp::of_remote(&attrs);
    let name = Path::new(&source_path).file_name().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("download"));
    let target = folder.join(&name);
    let local_error = |path: &Path, e: std::io::Error| HostError::LocalFile { path: path.to_path_buf(), cause: e.to_string() };
    if let (Ok(meta), Some(stamp)) = (std::fs::metadata(&target), stamp)
        && Stamp::of_local(&meta) == stamp
    {
        return Ok(done(false, format!("unchanged: {} has the same size, time and mode", target.display())));
    }
    tokio::fs::create_dir_all(folder).await.map_err(|e| local_error(folder, e))?;
    let partial = folder.join(temporary(&name.display().to_string()));
    let received = async {
        let mut source = sftp.open(source_path.clone()).await.map_err(remote_error)?;
        let mut file = tokio::fs::File::create(&partial).await.map_err(|e| local_error(&partial, e))?;
        let size = tokio::io::copy(&mut source, &mut file).await.map_err(|e| local_error(&partial, e))?;
        file.flush().await.map_err(|e| local_error(&partial, e))?;
        let file = file.into_std().await;
        if let Some(stamp) = stamp {
            file.set_permissions(std::fs::Permissions::from_mode(stamp.mode)).map_err(|e| local_error(&partial, e))?;
            file.set_modified(UNIX_EPOCH + Duration::from_secs(stamp.mtime.into())).map_err(|e| local_error(&partial, e))?;
        }
        std::fs::rename(&partial, &target).map_err(|e| local_error(&target, e))?;
        Ok::<u64, HostError>(size)
    }
    .await;
    match received {
        Ok(size) => Ok(done(true, format!("received {size} bytes into {}", target.display()))),
        Err(e) => {
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
