//! `sync`: makes a host's folder the same as a local one. It first plans (what to make, send, re-stamp and
//! remove), so that a dry run (`--check`) reports exactly what a real run would do, then carries the plan
//! out.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use russh::ChannelMsg;
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::{FileAttributes, StatusCode};
use sha2::{Digest, Sha256};

use remote_core::quote::quote;
use remote_core::{HostError, Output};

use super::fault::{Temporaries, explain_write, folder_of, is_temporary};
use super::{COPIED_FILE_MODE, COPIED_FOLDER_MODE, COPY_BUFFER, Raw, Stamp};
use super::{done, forget, remote_failure, remote_path, send_file};
use crate::connection::Connection;

/// One entry of a folder tree: a folder, or a file with its stamp (`None` for what is neither, on the host).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    Folder(u32),
    File(Option<Stamp>),
}

/// A local folder's tree: by path relative to it (`/`-separated), each node and where it is.
type LocalTree = BTreeMap<String, (Node, PathBuf)>;

/// The host's folder's tree: by path relative to it, each node.
type RemoteTree = BTreeMap<String, Node>;

/// What a sync of one host does, worked out before anything is changed.
#[derive(Debug, Default)]
struct Plan {
    /// The host's folder itself is missing.
    root_missing: bool,
    /// Folders to make, parents before children, with their local mode as copied (sticky kept, setuid and
    /// setgid dropped, as `sftp -p` does).
    folders: Vec<(String, u32)>,
    /// Files to send (relative paths), and their bytes in all.
    send: Vec<String>,
    bytes: u64,
    /// Files whose content is the same (by hash) but whose time or mode differ: only those are set.
    restamp: Vec<(String, Stamp)>,
    /// What the host has and the local folder has not, deepest first (with `--delete`).
    delete: Vec<(String, Node)>,
    /// Files left as they are.
    same: usize,
    /// Local symbolic links and special files, which are not copied.
    links: usize,
    /// Temporary files of other copies (in flight on a folder another host shares, or left by a copy that was
    /// stopped), which `--delete` leaves alone.
    temporaries: usize,
}

impl Plan {
    fn changes(&self) -> bool {
        self.root_missing
            || !self.folders.is_empty()
            || !self.send.is_empty()
            || !self.restamp.is_empty()
            || !self.delete.is_empty()
    }
}

/// SHA-256 of local files, worked out once per run whatever the number of hosts that ask: every host of a
/// `sync --checksum` compares against the same local files.
#[derive(Debug, Default)]
pub(crate) struct LocalHashes {
    cells: Mutex<HashMap<PathBuf, HashCell>>,
}

/// One local file's hash, worked out by the first host that needs it while the others wait for it.
type HashCell = Arc<tokio::sync::OnceCell<Result<[u8; 32], String>>>;

impl LocalHashes {
    async fn of(&self, path: &Path) -> Result<[u8; 32], HostError> {
        let cell = self
            .cells
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(path.to_path_buf())
            .or_default()
            .clone();
        let owned = path.to_path_buf();
        let hash = cell
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || hash_file(&owned))
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()))
            })
            .await;
        hash.clone().map_err(|cause| HostError::LocalFile { path: path.to_path_buf(), cause })
    }
}

fn hash_file(path: &Path) -> Result<[u8; 32], String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; COPY_BUFFER];
    loop {
        let read = file.read(&mut buffer).map_err(|e| e.to_string())?;
        if read == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&buffer[..read]);
    }
}

/// The local tree under `root`, and the symbolic links and special files skipped (relative paths).
fn walk_local(root: &Path) -> Result<(LocalTree, BTreeSet<String>), HostError> {
    let error = |path: &Path, cause: String| HostError::LocalFile { path: path.to_path_buf(), cause };
    let mut tree = BTreeMap::new();
    let mut skipped = BTreeSet::new();
    let mut pending = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| error(&dir, e.to_string()))? {
            let entry = entry.map_err(|e| error(&dir, e.to_string()))?;
            let path = entry.path();
            let name = entry
                .file_name()
                .into_string()
                .map_err(|_| error(&path, "the name is not UTF-8, which SFTP paths must be".into()))?;
            let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            let meta = std::fs::symlink_metadata(&path).map_err(|e| error(&path, e.to_string()))?;
            if meta.is_dir() {
                let mode = meta.permissions().mode() & COPIED_FOLDER_MODE;
                tree.insert(rel.clone(), (Node::Folder(mode), path.clone()));
                pending.push((path, rel));
            } else if meta.is_file() {
                tree.insert(rel, (Node::File(Some(Stamp::of_local(&meta).copied())), path));
            } else {
                skipped.insert(rel);
            }
        }
    }
    Ok((tree, skipped))
}

/// What `--delete` removes from the host: what it has under a name that does not exist here in any form,
/// deepest first so that folders are empty when their turn comes. A name that is a symbolic link or special
/// file here is not copied, but it is not missing either: the host's copy stays, and all in it (as
/// `rsync --delete` does).
///
/// Another copy's temporary file is never removed, nor the folder that holds it: on a folder several hosts
/// share, it is a copy in flight.
fn extras(remote: &RemoteTree, local: &LocalTree, skipped: &BTreeSet<String>) -> Vec<(String, Node)> {
    let kept_here = |rel: &str| {
        // `rel` itself or a folder above it that is skipped here: `uploads` keeps `uploads/a/b.jpg`.
        let mut prefixes = rel.match_indices('/').map(|(at, _)| &rel[..at]).chain([rel]);
        local.contains_key(rel) || prefixes.any(|prefix| skipped.contains(prefix))
    };
    let holds_temporary = |folder: &str| {
        remote.keys().any(|rel| {
            rel.strip_prefix(folder).is_some_and(|rest| rest.starts_with('/')) && is_temporary(name_of(rel))
        })
    };
    remote
        .iter()
        .rev()
        .filter(|(rel, _)| !kept_here(rel) && !is_temporary(name_of(rel)))
        .filter(|(rel, node)| !matches!(node, Node::Folder(_)) || !holds_temporary(rel))
        .map(|(rel, node)| (rel.clone(), *node))
        .collect()
}

/// The last part of a relative path.
fn name_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or(rel, |(_, name)| name)
}

/// The host's tree under `root`, by path relative to it.
async fn walk_remote(
    connection: &Connection,
    sftp: &SftpSession,
    root: &str,
) -> Result<RemoteTree, HostError> {
    let mut tree = BTreeMap::new();
    let mut pending = vec![String::new()];
    while let Some(prefix) = pending.pop() {
        let dir = if prefix.is_empty() { root.to_string() } else { format!("{root}/{prefix}") };
        let entries = match sftp.read_dir(dir.clone()).await {
            Ok(entries) => entries,
            Err(e) => return Err(remote_failure(connection, &dir, &e).await),
        };
        for entry in entries {
            let name = entry.file_name();
            if name == "." || name == ".." {
                continue;
            }
            let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            let attrs = entry.metadata();
            if attrs.is_dir() {
                tree.insert(rel.clone(), Node::Folder(attrs.permissions.unwrap_or(0) & 0o7777));
                pending.push(rel);
            } else {
                let stamp = if attrs.is_regular() { Stamp::of_remote(&attrs) } else { None };
                tree.insert(rel, Node::File(stamp));
            }
        }
    }
    Ok(tree)
}

/// Longest command line of one `sha256sum` call: well below every shell's and sshd's limits.
const HASH_COMMAND_BYTES: usize = 32 << 10;

/// SHA-256 of the host's files `rels` under `root`, in order, by `sha256sum` (GNU coreutils or busybox) on
/// the host: reading them over SFTP would move every byte the hash is meant to spare.
async fn host_hashes(connection: &Connection, root: &str, rels: &[&str]) -> Result<Vec<[u8; 32]>, HostError> {
    let mut hashes = Vec::with_capacity(rels.len());
    let mut start = 0;
    while start < rels.len() {
        let mut command = format!("cd -- {} && sha256sum --", quote(root));
        let mut end = start;
        while end < rels.len() && (end == start || command.len() + rels[end].len() + 3 < HASH_COMMAND_BYTES) {
            command.push(' ');
            command.push_str(&quote(rels[end]));
            end += 1;
        }
        let (status, stdout, stderr) = run_captured(connection, &command).await?;
        let failed = |cause: String| HostError::RemoteFile { path: root.to_string(), cause };
        if status == Some(127) {
            return Err(failed(
                "--checksum needs `sha256sum` on the host (GNU coreutils or busybox), and it has none".into(),
            ));
        }
        if status != Some(0) {
            let said = String::from_utf8_lossy(&stderr);
            return Err(failed(format!("sha256sum failed ({status:?}): {}", said.trim())));
        }
        let text = String::from_utf8_lossy(&stdout);
        let lines: Vec<&str> = text.lines().collect();
        if lines.len() != end - start {
            return Err(failed(format!("sha256sum gave {} lines for {} files", lines.len(), end - start)));
        }
        for line in lines {
            // GNU marks a line whose name it had to escape with a leading backslash; the hash follows either
            // way.
            let hex = line.strip_prefix('\\').unwrap_or(line).get(..64).unwrap_or("");
            hashes.push(
                parse_hex(hex).ok_or_else(|| failed(format!("sha256sum printed {line:?}, not a hash")))?,
            );
        }
        start = end;
    }
    Ok(hashes)
}

fn parse_hex(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Most bytes of output kept from a helper command of the transfer itself (hashes: ~70 bytes a file).
const CAPTURE_LIMIT: usize = 64 << 20;

/// Runs `command` on a channel of its own and returns its exit status, stdout and stderr.
async fn run_captured(
    connection: &Connection,
    command: &str,
) -> Result<(Option<u32>, Vec<u8>, Vec<u8>), HostError> {
    let failed = |cause: String| HostError::Sftp { cause };
    let mut channel =
        connection.open_session().await.map_err(|e| failed(format!("cannot open a channel: {e}")))?;
    channel.exec(true, command).await.map_err(|e| failed(format!("cannot start sha256sum: {e}")))?;
    let (mut status, mut stdout, mut stderr) = (None, Vec::new(), Vec::new());
    while let Some(message) = channel.wait().await {
        match message {
            ChannelMsg::Data { data } if stdout.len() < CAPTURE_LIMIT => stdout.extend_from_slice(&data),
            ChannelMsg::ExtendedData { data, .. } if stderr.len() < CAPTURE_LIMIT => {
                stderr.extend_from_slice(&data)
            }
            ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    Ok((status, stdout, stderr))
}

/// How a sync compares files and whether it changes anything.
pub(crate) struct SyncMode<'a> {
    pub(crate) delete: bool,
    pub(crate) checksum: bool,
    pub(crate) check: bool,
    pub(crate) hashes: &'a LocalHashes,
}

pub(crate) async fn sync(
    connection: &Connection,
    sftp: SftpSession,
    local_dir: &Path,
    remote_dir: &str,
    mode: SyncMode<'_>,
    temporaries: &Temporaries,
) -> Result<Output, HostError> {
    let root = remote_path(remote_dir).trim_end_matches('/').to_string();
    let root = if root.is_empty() { "/".to_string() } else { root };
    let at = |rel: &str| if root == "/" { format!("/{rel}") } else { format!("{root}/{rel}") };
    let planned = plan(connection, &sftp, local_dir, remote_dir, &root, &mode).await;
    let (plan, local) = match planned {
        Ok(planned) => planned,
        Err(e) => {
            let _ = sftp.close().await;
            return Err(e);
        }
    };
    if mode.check {
        let _ = sftp.close().await;
        return Ok(done(plan.changes(), describe(&plan, mode.delete)));
    }
    let sent = apply_on_session(connection, &sftp, &plan, &local, &root, at, temporaries).await;
    let _ = sftp.close().await;
    let sent = sent?;

    // Renames and removals over a session of their own, once the files are all there.
    let raw = Raw::open(connection).await?;
    let mut renamed = 0;
    let mut failure = None;
    for (partial, target) in &sent {
        if failure.is_some() {
            if raw.raw.remove(partial.clone()).await.is_ok() {
                temporaries.forget(partial);
            }
            continue;
        }
        match raw.rename_over(partial, target).await {
            Ok(()) => {
                temporaries.forget(partial);
                renamed += 1;
            }
            Err(e) => failure = Some(e),
        }
    }
    // Stopped halfway through the renames, the folder is part new and part old: said, with the way out.
    if let Some(e) = failure.take().filter(|_| renamed > 0) {
        failure = Some(super::fault::noted(
            e,
            &format!(
                "; {renamed} of {} files were already replaced, so the folder holds {renamed} new and {} old ones: run the \
                 sync again to complete it",
                sent.len(),
                sent.len() - renamed
            ),
        ));
    }
    let mut deleted = 0;
    if failure.is_none() {
        for (rel, node) in &plan.delete {
            let gone = match node {
                Node::Folder(_) => raw.raw.rmdir(at(rel)).await,
                Node::File(_) => raw.raw.remove(at(rel)).await,
            };
            match gone {
                Ok(_) => deleted += 1,
                // Gone already: another host that shares the folder removed it a moment ago, as this one
                // meant to.
                Err(russh_sftp::client::error::Error::Status(status))
                    if status.status_code == StatusCode::NoSuchFile => {}
                Err(e) => {
                    let why = super::fault::explain(connection, &e).await;
                    failure = Some(HostError::RemoteFile {
                        path: at(rel),
                        cause: format!("cannot remove it: {why}"),
                    });
                    break;
                }
            }
        }
    }
    raw.close();
    if let Some(e) = failure {
        return Err(e);
    }
    let mut message = format!("sent {renamed} file(s), {} bytes; {} unchanged", plan.bytes, plan.same);
    let made = plan.folders.len() + usize::from(plan.root_missing);
    if made > 0 {
        message.push_str(&format!("; {made} folder(s) made"));
    }
    if !plan.restamp.is_empty() {
        message
            .push_str(&format!("; {} with the same content given their time and mode", plan.restamp.len()));
    }
    if mode.delete {
        message.push_str(&format!("; {deleted} removed"));
    }
    if plan.links > 0 {
        message.push_str(&format!("; {} symbolic link(s) or special file(s) here skipped", plan.links));
    }
    if plan.temporaries > 0 {
        message.push_str(&format!("; {}", others_temporaries(plan.temporaries)));
    }
    Ok(done(plan.changes(), message))
}

/// Why a sync stops at a name that is a file on one side and a folder on the other.
const NO_REPLACING: &str = "(sync never replaces one with the other, not even with --delete, which removes only names the \
                            local folder does not have)";

/// Works out what the sync of this host must do, changing nothing.
async fn plan(
    connection: &Connection,
    sftp: &SftpSession,
    local_dir: &Path,
    remote_dir: &str,
    root: &str,
    mode: &SyncMode<'_>,
) -> Result<(Plan, LocalTree), HostError> {
    let (local, skipped) = walk_local(local_dir)?;
    let mut plan = Plan { links: skipped.len(), ..Plan::default() };
    let remote = match sftp.metadata(root.to_string()).await {
        Ok(attrs) if attrs.is_dir() => walk_remote(connection, sftp, root).await?,
        Ok(_) => {
            return Err(HostError::RemoteFile { path: remote_dir.to_string(), cause: "not a folder".into() });
        }
        // Only a folder that is not there is made; one that cannot be looked at (permission denied) is an
        // error, in a dry run too, where "would make it" would not be true.
        Err(russh_sftp::client::error::Error::Status(status))
            if status.status_code == StatusCode::NoSuchFile =>
        {
            plan.root_missing = true;
            BTreeMap::new()
        }
        Err(e) => return Err(remote_failure(connection, remote_dir, &e).await),
    };
    let at = |rel: &str| if root == "/" { format!("/{rel}") } else { format!("{root}/{rel}") };
    let mut same_size = Vec::new();
    for (rel, (node, _)) in &local {
        match (node, remote.get(rel)) {
            (Node::Folder(mode), None) => plan.folders.push((rel.clone(), *mode)),
            (Node::Folder(_), Some(Node::File(_))) => {
                return Err(HostError::RemoteFile {
                    path: at(rel),
                    cause: format!(
                        "a file on the host, a folder here: remove the host's file first {NO_REPLACING}"
                    ),
                });
            }
            (Node::File(_), Some(Node::Folder(_))) => {
                return Err(HostError::RemoteFile {
                    path: at(rel),
                    cause: format!(
                        "a folder on the host, a file here: remove the host's folder first {NO_REPLACING}"
                    ),
                });
            }
            (Node::File(Some(stamp)), there) => {
                let there = match there {
                    Some(Node::File(there)) => *there,
                    _ => None,
                };
                match there {
                    Some(there) if mode.checksum && there.size == stamp.size => {
                        same_size.push((rel.as_str(), there))
                    }
                    Some(there) if !mode.checksum && there == *stamp => plan.same += 1,
                    _ => {
                        plan.send.push(rel.clone());
                        plan.bytes += stamp.size;
                    }
                }
            }
            _ => {}
        }
    }
    if !same_size.is_empty() {
        let rels: Vec<&str> = same_size.iter().map(|(rel, _)| *rel).collect();
        let theirs = host_hashes(connection, root, &rels).await?;
        for ((rel, there), their_hash) in same_size.into_iter().zip(theirs) {
            let (Node::File(Some(stamp)), path) = &local[rel] else { continue };
            if mode.hashes.of(path).await? != their_hash {
                plan.send.push(rel.to_string());
                plan.bytes += stamp.size;
            } else if there != *stamp {
                plan.restamp.push((rel.to_string(), *stamp));
            } else {
                plan.same += 1;
            }
        }
        plan.send.sort();
    }
    if mode.delete {
        plan.delete = extras(&remote, &local, &skipped);
    }
    plan.temporaries =
        remote.keys().filter(|rel| !local.contains_key(*rel) && is_temporary(name_of(rel))).count();
    Ok((plan, local))
}

/// Makes the folders, sends the files to temporary names and re-stamps the files whose content is the same;
/// the temporary names and their targets, for the renames. On failure the files sent so far are removed.
async fn apply_on_session(
    connection: &Connection,
    sftp: &SftpSession,
    plan: &Plan,
    local: &LocalTree,
    root: &str,
    at: impl Fn(&str) -> String,
    temporaries: &Temporaries,
) -> Result<Vec<(String, String)>, HostError> {
    if plan.root_missing {
        make_folder(connection, sftp, root).await?;
    }
    // Parents before children (the plan is in path order), so every file has its folder.
    for (rel, mode) in &plan.folders {
        make_folder(connection, sftp, &at(rel)).await?;
        let mode = *mode & COPIED_FOLDER_MODE;
        let attrs = FileAttributes { permissions: Some(mode), ..FileAttributes::empty() };
        if let Err(e) = sftp.set_metadata(at(rel), attrs).await {
            let why = explain_write(connection, sftp, &at(rel), 0, &e).await;
            return Err(HostError::RemoteFile {
                path: at(rel),
                cause: format!("cannot set the folder's mode: {why}"),
            });
        }
    }
    for (rel, stamp) in &plan.restamp {
        let attrs = FileAttributes {
            permissions: Some(stamp.mode & COPIED_FILE_MODE),
            mtime: Some(stamp.mtime),
            atime: Some(stamp.mtime),
            ..FileAttributes::empty()
        };
        if let Err(e) = sftp.set_metadata(at(rel), attrs).await {
            let why = explain_write(connection, sftp, folder_of(&at(rel)), 0, &e).await;
            return Err(HostError::RemoteFile {
                path: at(rel),
                cause: format!("cannot set the file's time and mode: {why}"),
            });
        }
    }
    let mut sent = Vec::with_capacity(plan.send.len());
    for rel in &plan.send {
        let (Node::File(Some(stamp)), path) = &local[rel] else { continue };
        match send_file(connection, sftp, path, *stamp, &at(rel), &at(rel), temporaries).await {
            Ok((partial, _)) => sent.push((partial, at(rel))),
            Err(e) => {
                forget(sftp, &sent, temporaries).await;
                return Err(e);
            }
        }
    }
    Ok(sent)
}

/// Makes the folder `path`. One that is there by now is as good: another host that shares the filesystem (NFS
/// homes, the sandbox) may have made it a moment ago. SFTP says only "Failure" for a name that exists, so the
/// host is asked what is there.
async fn make_folder(connection: &Connection, sftp: &SftpSession, path: &str) -> Result<(), HostError> {
    let Err(e) = sftp.create_dir(path.to_string()).await else { return Ok(()) };
    match sftp.metadata(path.to_string()).await {
        Ok(attrs) if attrs.is_dir() => Ok(()),
        Ok(_) => Err(HostError::RemoteFile {
            path: path.to_string(),
            cause: "cannot make the folder: a file has that name".into(),
        }),
        Err(_) => {
            let why = explain_write(connection, sftp, folder_of(path), 1, &e).await;
            Err(HostError::RemoteFile {
                path: path.to_string(),
                cause: format!("cannot make the folder: {why}"),
            })
        }
    }
}

/// The temporary files of other copies that a sync found and left alone, in words.
fn others_temporaries(count: usize) -> String {
    format!(
        "{count} temporary file(s) of another copy left alone (`.NAME.remote-….tmp`: a copy in progress from a host \
         that shares this folder, or one that was stopped)"
    )
}

/// Names shown of each kind of change in a dry run's report; the rest are counted.
const NAMES_SHOWN: usize = 20;

/// What a dry run says it would do.
fn describe(plan: &Plan, delete: bool) -> String {
    fn names<'a>(list: impl ExactSizeIterator<Item = &'a String>) -> String {
        let count = list.len();
        let mut shown: Vec<&str> = list.take(NAMES_SHOWN).map(String::as_str).collect();
        let more;
        if count > NAMES_SHOWN {
            more = format!("and {} more", count - NAMES_SHOWN);
            shown.push(&more);
        }
        shown.join(", ")
    }
    if !plan.changes() {
        return format!("unchanged: would send nothing; {} file(s) the same", plan.same);
    }
    let mut parts = Vec::new();
    if plan.root_missing {
        parts.push("would make the folder itself".to_string());
    }
    if !plan.folders.is_empty() {
        parts.push(format!(
            "would make {} folder(s): {}",
            plan.folders.len(),
            names(plan.folders.iter().map(|(rel, _)| rel))
        ));
    }
    if !plan.send.is_empty() {
        parts.push(format!(
            "would send {} file(s), {} bytes: {}",
            plan.send.len(),
            plan.bytes,
            names(plan.send.iter())
        ));
    }
    if !plan.restamp.is_empty() {
        let list = names(plan.restamp.iter().map(|(rel, _)| rel));
        parts.push(format!(
            "would set the time and mode of {} file(s) with the same content: {list}",
            plan.restamp.len()
        ));
    }
    if delete && !plan.delete.is_empty() {
        parts.push(format!(
            "would remove {}: {}",
            plan.delete.len(),
            names(plan.delete.iter().map(|(rel, _)| rel))
        ));
    }
    parts.push(format!("{} unchanged", plan.same));
    if plan.links > 0 {
        parts.push(format!("{} symbolic link(s) or special file(s) here skipped", plan.links));
    }
    if plan.temporaries > 0 {
        parts.push(others_temporaries(plan.temporaries));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_read_from_sha256sum() {
        let zero = "0".repeat(64);
        assert_eq!(parse_hex(&zero), Some([0; 32]));
        assert_eq!(parse_hex(&"ab".repeat(32)), Some([0xab; 32]));
        assert_eq!(parse_hex(&"g".repeat(64)), None);
        assert_eq!(parse_hex("abc"), None);
    }

    #[test]
    fn delete_removes_only_names_that_are_nowhere_here() {
        // Host paths (a trailing `/` marks a folder), local ones, local links or special files: what goes.
        let check = |host: &[&str], here: &[&str], skipped: &[&str], expected: &[&str]| {
            let node = |rel: &&str| match rel.strip_suffix('/') {
                Some(folder) => (folder.to_string(), Node::Folder(0o755)),
                None => (rel.to_string(), Node::File(None)),
            };
            let remote: RemoteTree = host.iter().map(node).collect();
            let local: LocalTree = here.iter().map(node).map(|(rel, n)| (rel, (n, PathBuf::new()))).collect();
            let skipped: BTreeSet<String> = skipped.iter().map(|rel| rel.to_string()).collect();
            let gone: Vec<String> = extras(&remote, &local, &skipped).into_iter().map(|(r, _)| r).collect();
            assert_eq!(gone, expected, "host {host:?}, here {here:?}, skipped here {skipped:?}");
        };
        check(&["a", "b"], &["a"], &[], &["b"]);
        check(&["old/", "old/deep/", "old/deep/x"], &[], &[], &["old/deep/x", "old/deep", "old"]);
        // A link here keeps the host's folder of that name and everything in it.
        check(&["uploads/", "uploads/a.jpg", "uploads/deep/", "uploads/deep/b.jpg"], &[], &["uploads"], &[]);
        check(&["queue", "sock/", "sock/x"], &[], &["queue", "sock"], &[]);
        check(&["site/", "site/up/", "site/up/a", "site/x"], &["site/"], &["site/up"], &["site/x"]);
        // Only the name itself, not one it starts: `up` does not keep `up2` or `up.bak`.
        check(&["up2/", "up2/x", "up.bak"], &[], &["up"], &["up2/x", "up2", "up.bak"]);
        check(&["css/", "css/a.css", "css/old.css"], &["css/", "css/a.css"], &[], &["css/old.css"]);
    }

    #[test]
    fn a_dry_run_names_what_it_would_do() {
        let check = |plan: Plan, expected: &str| assert_eq!(describe(&plan, true), expected);
        check(Plan { same: 3, ..Plan::default() }, "unchanged: would send nothing; 3 file(s) the same");
        check(
            Plan {
                send: vec!["a".into(), "b/c".into()],
                bytes: 12,
                delete: vec![("old".into(), Node::File(None))],
                same: 1,
                ..Plan::default()
            },
            "would send 2 file(s), 12 bytes: a, b/c; would remove 1: old; 1 unchanged",
        );
        check(
            Plan { root_missing: true, folders: vec![("x".into(), 0o755)], links: 2, ..Plan::default() },
            "would make the folder itself; would make 1 folder(s): x; 0 unchanged; 2 symbolic link(s) or special file(s) here skipped",
        );
        let many: Vec<String> = (0..25).map(|i| format!("f{i:02}")).collect();
        let said = describe(&Plan { send: many, ..Plan::default() }, false);
        assert!(said.contains("f19, and 5 more;"), "{said}");
    }
}
