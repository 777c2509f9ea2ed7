//! `remote new DIR`: writes a fleet repository, a workspace holding the user's `ops` and the host that runs
//! it (see `delegate`), with an inventory, and says every file it wrote.
//!
//! The versions of third-party crates are the ones this `remote` was built and tested with: its workspace's
//! Cargo.lock is written beside the new workspace's Cargo.toml, and cargo keeps what still fits.

use std::path::{Path, PathBuf};

use crate::EXIT_OK;
use crate::cli::{GlobalArgs, NewArgs};

/// The version remote's crates will have on crates.io.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why a fleet repository was not written.
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    /// The folder holds files already.
    #[error(
        "{dir} is not empty ({first} and {more} more); give a new folder, so that nothing is overwritten"
    )]
    NotEmpty { dir: String, first: String, more: usize },
    /// The folder could not be read or made.
    #[error("cannot create {dir}: {source}")]
    Create { dir: String, source: std::io::Error },
    /// A file could not be written; the ones before it were.
    #[error("cannot write {file}: {source} (written before it: {written})")]
    Write { file: String, written: String, source: std::io::Error },
    /// `--path` names no checkout of remote.
    #[error(
        "{path} is not a checkout of remote: it has no remote-core/Cargo.toml; give the folder you cloned remote into"
    )]
    NoCheckout { path: String },
    /// No `--path` or `--git`, and the checkout this binary was built from is gone.
    #[error(
        "remote's crates are not published yet, and the checkout this remote was built from ({built_from}) is gone: give --path CHECKOUT or --git URL"
    )]
    NoSource { built_from: String },
    /// `--git URL` could not be fetched (to read the Cargo.lock its crates were tested with).
    #[error(
        "cannot fetch {url} with git: {reason}; check the URL (cargo fetches it the same way to build the fleet)"
    )]
    Fetch { url: String, reason: String },
    /// A `--hosts` entry the inventory would refuse.
    #[error("--hosts: {0}")]
    Hosts(String),
}

/// Where the fleet's Cargo.toml finds remote's crates.
enum Source {
    Path(PathBuf),
    Git(String),
}

impl Source {
    /// The `[workspace.dependencies]` value of crate `name`.
    fn dependency(&self, name: &str) -> String {
        let extra = if name == "remote-host" { ", default-features = false" } else { "" };
        match self {
            Source::Path(checkout) => {
                format!("{{ path = {}{extra} }}", toml_string(&checkout.join(name).to_string_lossy()))
            }
            Source::Git(url) => format!("{{ git = {}{extra} }}", toml_string(url)),
        }
    }

    /// One comment line on where the crates come from.
    fn note(&self) -> String {
        match self {
            Source::Path(checkout) => format!("from the checkout at {}.", checkout.display()),
            Source::Git(url) => format!("from the git repository {url}."),
        }
    }
}

/// Writes the fleet repository `args` asks for; prints the files (with `--json`, as one document).
pub fn run(global: &GlobalArgs, args: &NewArgs) -> Result<u8, Box<dyn std::error::Error>> {
    let source = source(args)?;
    let inventory = inventory(args)?;
    let name =
        args.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "fleet".to_string());
    let lock = lock(&source)?;
    let files = files(&name, &source, &inventory, lock);
    prepare(&args.dir)?;
    let mut written: Vec<String> = Vec::new();
    for (relative, text) in &files {
        let path = args.dir.join(relative);
        let result =
            path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::write(&path, text));
        if let Err(source) = result {
            let written = if written.is_empty() { "none".to_string() } else { written.join(", ") };
            return Err(NewError::Write { file: path.display().to_string(), written, source }.into());
        }
        written.push(relative.to_string());
    }
    let dir = args.dir.display().to_string();
    if global.json {
        let document = serde_json::json!({ "dir": dir, "files": written });
        outln!("{}", remote_core::pretty::json_text(&document));
        return Ok(EXIT_OK);
    }
    let dir = remote_core::pretty::sanitize(&dir);
    let note = remote_core::pretty::sanitize(source.note().trim_end_matches('.'));
    outln!("wrote a fleet repository in {dir}, with remote's crates {note}");
    for file in &written {
        outln!("  {dir}/{file}");
    }
    let hosts_step = if args.hosts.is_empty() {
        "remote sandbox up 3           # three sshd hosts on loopback, as group `sandbox` in remote.toml"
    } else {
        "remote hosts fleet            # the hosts of group `fleet` as remote resolves them"
    };
    let group = if args.hosts.is_empty() { "sandbox" } else { "fleet" };
    outln!("next:");
    outln!("  cd {dir}");
    outln!("  {hosts_step}");
    outln!(
        "  remote run listing {group}    # builds this repository's remote first (minutes the first time)"
    );
    outln!(
        "  remote live                   # edit ops/src/lib.rs, save, and the next line runs the new code"
    );
    Ok(EXIT_OK)
}

/// Where remote's crates come from: `--path`, `--git`, or the checkout this binary was built from.
fn source(args: &NewArgs) -> Result<Source, NewError> {
    if let Some(url) = &args.git {
        return Ok(Source::Git(url.clone()));
    }
    let checkout = match &args.path {
        Some(path) => path.clone(),
        None => {
            let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new("/"));
            if !is_checkout(built_from) {
                return Err(NewError::NoSource { built_from: built_from.display().to_string() });
            }
            built_from.to_path_buf()
        }
    };
    if !is_checkout(&checkout) {
        return Err(NewError::NoCheckout { path: checkout.display().to_string() });
    }
    // An absolute path, so that the fleet can be moved without its dependencies moving with it.
    let checkout =
        checkout.canonicalize().map_err(|_| NewError::NoCheckout { path: checkout.display().to_string() })?;
    Ok(Source::Path(checkout))
}

/// Whether `dir` holds remote's crates.
fn is_checkout(dir: &Path) -> bool {
    ["remote-core", "remote-std", "remote-host"]
        .iter()
        .all(|name| dir.join(name).join("Cargo.toml").is_file())
}

/// The inventory: group `fleet` from `--hosts`, or none yet (`remote sandbox up` adds group `sandbox`),
/// checked as `remote` will read it.
fn inventory(args: &NewArgs) -> Result<String, NewError> {
    let mut text = String::from(
        "# The hosts remote runs on, by group (README, \"Inventory\"). `remote sandbox up N` adds group `sandbox`:\n\
         # N sshd hosts on loopback, for trying pipelines out.\n\n\
         [defaults]\n\
         host_key_checking = \"strict\"   # strict | accept-new | off: as OpenSSH's StrictHostKeyChecking\n",
    );
    if !args.hosts.is_empty() {
        let hosts: Vec<String> = args.hosts.iter().map(|h| toml_string(h.trim())).collect();
        text.push_str(&format!("\n[groups.fleet]\nhosts = [{}]\n", hosts.join(", ")));
    }
    remote_config::Inventory::parse(&text, Path::new("remote.toml"))
        .map_err(|err| NewError::Hosts(crate::error_chain(&err)))?;
    Ok(text)
}

/// Makes `dir`, or checks that it is empty.
fn prepare(dir: &Path) -> Result<(), NewError> {
    let shown = || dir.display().to_string();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            let mut names: Vec<String> =
                entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            names.sort();
            if let Some(first) = names.first() {
                return Err(NewError::NotEmpty { dir: shown(), first: first.clone(), more: names.len() - 1 });
            }
            Ok(())
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|source| NewError::Create { dir: shown(), source })
        }
        Err(source) => Err(NewError::Create { dir: shown(), source }),
    }
}

/// The Cargo.lock the fleet starts from: the one remote's crates were built and tested with where they come
/// from (the checkout's, or the repository's at the revision cargo will fetch), else the one this binary was
/// built with. cargo keeps what still fits the fleet; a lock from another revision than the crates' can pin a
/// version their own requirements exclude, which cargo refuses rather than re-resolves.
fn lock(source: &Source) -> Result<String, NewError> {
    let built_with = include_str!(concat!(env!("OUT_DIR"), "/Cargo.lock"));
    match source {
        Source::Path(checkout) => {
            Ok(std::fs::read_to_string(checkout.join("Cargo.lock"))
                .unwrap_or_else(|_| built_with.to_string()))
        }
        Source::Git(url) => {
            let fail = |reason: String| NewError::Fetch { url: url.clone(), reason };
            let scratch = tempfile::tempdir().map_err(|e| fail(format!("no temporary folder: {e}")))?;
            let clone = std::process::Command::new("git")
                .args(["clone", "--quiet", "--depth", "1", "--no-checkout", "--", url])
                .arg(scratch.path())
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|e| fail(format!("cannot run git: {e}")))?;
            if !clone.status.success() {
                return Err(fail(String::from_utf8_lossy(&clone.stderr).trim().to_string()));
            }
            let show = std::process::Command::new("git")
                .args(["show", "HEAD:Cargo.lock"])
                .current_dir(scratch.path())
                .output()
                .map_err(|e| fail(format!("cannot run git: {e}")))?;
            Ok(if show.status.success() {
                String::from_utf8_lossy(&show.stdout).into_owned()
            } else {
                built_with.to_string()
            })
        }
    }
}

/// Every file of the fleet repository, by path relative to it, in the order written.
fn files(name: &str, source: &Source, inventory: &str, lock: String) -> Vec<(&'static str, String)> {
    let workspace = include_str!("../template/Cargo.toml.in")
        .replace("@SOURCE_NOTE@", &source.note())
        .replace("@VERSION@", VERSION)
        .replace("@REMOTE_CORE@", &source.dependency("remote-core"))
        .replace("@REMOTE_STD@", &source.dependency("remote-std"))
        .replace("@REMOTE_HOST@", &source.dependency("remote-host"));
    let toolchain = format!(
        "# The Rust remote was built with: the host and a hot-reloaded ops must come from the same compiler.\n\
         [toolchain]\nchannel = \"{}\"\n",
        env!("REMOTE_RUSTC_VERSION")
    );
    let mut files = vec![
        ("Cargo.toml", workspace),
        ("rust-toolchain.toml", toolchain),
        (".gitignore", include_str!("../template/gitignore").to_string()),
        ("README.md", include_str!("../template/README.md.in").replace("@NAME@", name)),
        ("remote.toml", inventory.to_string()),
        ("ops/Cargo.toml", include_str!("../template/ops.Cargo.toml").to_string()),
        ("ops/src/lib.rs", include_str!("../template/ops.lib.rs").to_string()),
        ("host/Cargo.toml", include_str!("../template/host.Cargo.toml").to_string()),
        ("host/src/main.rs", include_str!("../template/host.main.rs").to_string()),
    ];
    if !lock.is_empty() {
        files.push(("Cargo.lock", lock));
    }
    files
}

/// `text` as a TOML basic string, quotes included.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(list: &[&str]) -> NewArgs {
        NewArgs {
            dir: PathBuf::from("fleet"),
            hosts: list.iter().map(|h| h.to_string()).collect(),
            sandbox: false,
            path: None,
            git: None,
        }
    }

    #[test]
    fn hosts_become_group_fleet_and_a_host_the_inventory_refuses_writes_nothing() {
        let text = inventory(&hosts(&["deploy@web-1", " web-2:2222"])).unwrap();
        assert!(text.ends_with("[groups.fleet]\nhosts = [\"deploy@web-1\", \"web-2:2222\"]\n"), "{text}");
        assert!(!inventory(&hosts(&[])).unwrap().contains("[groups."));
        let refused = inventory(&hosts(&["web-1:notaport"])).unwrap_err().to_string();
        assert!(refused.starts_with("--hosts: ") && refused.contains("notaport"), "{refused}");
    }

    #[test]
    fn a_path_source_is_written_as_toml_strings_with_the_host_without_its_defaults() {
        let source = Source::Path(PathBuf::from("/src/re\"mote"));
        assert_eq!(source.dependency("remote-core"), r#"{ path = '/src/re"mote/remote-core' }"#);
        assert_eq!(
            source.dependency("remote-host"),
            r#"{ path = '/src/re"mote/remote-host', default-features = false }"#
        );
        let git = Source::Git("https://example.org/remote.git".into());
        assert_eq!(git.dependency("remote-std"), r#"{ git = "https://example.org/remote.git" }"#);
    }
}
