//! `remote build-static [--out FILE]`: the static CI binary of the repository around the current folder (a
//! fleet repository, or this workspace): its host with its `ops` compiled in, hot reload off, linked
//! statically so that it runs on any Linux runner of the same architecture with no Rust, no libc and no
//! files.
//!
//! Built as `scripts/build-static` builds this workspace's (DESIGN.md, "Static CI binary"): `crt-static` only
//! for the target (`--target` keeps it off build scripts and proc macros, which must stay dynamic to be
//! loaded), getrandom calling getrandom(2) itself (its default looks the libc function up with dlsym, which
//! finds nothing in a static binary, and falls back to /dev/urandom, which an empty chroot lacks), symbols
//! stripped. cargo says where the binary went, so `CARGO_TARGET_DIR` is honoured.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use crate::EXIT_OK;
use crate::cli::{BuildStaticArgs, GlobalArgs};
use crate::delegate::{self, Fleet, HOST_BINARY};

/// Why no static binary was made.
#[derive(Debug, thiserror::Error)]
pub enum BuildStaticError {
    /// Not inside a repository that names its host.
    #[error(
        "{dir} is not inside a fleet repository (a workspace whose Cargo.toml has [workspace.metadata.remote] host = \"…\"); `remote new DIR` writes one"
    )]
    NoFleet { dir: String },
    /// cargo did not start.
    #[error("cannot run cargo: {0}")]
    Cargo(std::io::Error),
    /// cargo failed; its errors are above.
    #[error("cargo could not build the static binary of package `{host}` in {root}; its errors are above")]
    Build { host: String, root: String },
    /// cargo built nothing called `remote`.
    #[error("cargo built package `{host}` but named no `{HOST_BINARY}` binary")]
    NoBinary { host: String },
    /// The binary came out dynamic (a dependency that links a system library dynamically, say).
    #[error(
        "{binary} is not statically linked (it asks for the dynamic loader {interpreter}); a CI runner without the same libc could not run it"
    )]
    Dynamic { binary: String, interpreter: String },
    /// The binary could not be read back or copied.
    #[error("cannot {what} {path}: {source}")]
    File { what: &'static str, path: String, source: std::io::Error },
}

/// Builds the static binary and prints its path as the last line of stdout.
pub fn run(global: &GlobalArgs, args: &BuildStaticArgs) -> Result<u8, Box<dyn std::error::Error>> {
    let here = std::env::current_dir().map_err(|source| BuildStaticError::File {
        what: "read the current folder",
        path: ".".into(),
        source,
    })?;
    let fleet =
        delegate::find(&here).ok_or_else(|| BuildStaticError::NoFleet { dir: here.display().to_string() })?;
    let built = build(&fleet, args.locked)?;
    check_static(&built)?;
    let binary = match &args.out {
        Some(out) => {
            std::fs::copy(&built, out).map_err(|source| BuildStaticError::File {
                what: "copy the binary to",
                path: out.display().to_string(),
                source,
            })?;
            out.clone()
        }
        None => built,
    };
    let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
    if global.json {
        let document = serde_json::json!({ "binary": binary.display().to_string(), "bytes": size });
        outln!("{}", remote_core::pretty::json_text(&document));
    } else {
        let root = remote_core::pretty::sanitize(&fleet.root.display().to_string());
        eprintln!("remote: a static binary of {size} bytes, with the pipelines of {root}/ops");
        outln!("{}", remote_core::pretty::sanitize(&binary.display().to_string()));
    }
    Ok(EXIT_OK)
}

/// The target triple of this machine's architecture with glibc's static runtime.
fn target() -> String {
    format!("{}-unknown-linux-gnu", std::env::consts::ARCH)
}

/// Runs cargo; cargo's own progress goes to stderr as it comes.
fn build(fleet: &Fleet, locked: bool) -> Result<PathBuf, BuildStaticError> {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut rustflags = std::env::var_os("RUSTFLAGS").unwrap_or_default();
    rustflags.push(" -C target-feature=+crt-static --cfg getrandom_backend=\"linux_getrandom\"");
    let mut command = Process::new(program);
    command
        .current_dir(&fleet.root)
        .args(["build", "--release", "--target", &target(), "--package", &fleet.host, "--bin", HOST_BINARY])
        .args(["--no-default-features", "--message-format", "json-render-diagnostics"])
        .args(locked.then_some("--locked"))
        .env("RUSTFLAGS", rustflags)
        .env("CARGO_PROFILE_RELEASE_STRIP", "symbols")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for name in crate::secret_variables() {
        command.env_remove(name);
    }
    let mut child = command.spawn().map_err(BuildStaticError::Cargo)?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let binary = delegate::executable_in(BufReader::new(stdout).lines().map_while(Result::ok));
    let status = child.wait().map_err(BuildStaticError::Cargo)?;
    if !status.success() {
        return Err(BuildStaticError::Build {
            host: fleet.host.clone(),
            root: fleet.root.display().to_string(),
        });
    }
    binary.ok_or_else(|| BuildStaticError::NoBinary { host: fleet.host.clone() })
}

/// Fails when the ELF file `binary` names a dynamic loader (a `PT_INTERP` program header): a static or
/// static-pie executable has none.
fn check_static(binary: &Path) -> Result<(), BuildStaticError> {
    let bytes = std::fs::read(binary).map_err(|source| BuildStaticError::File {
        what: "read",
        path: binary.display().to_string(),
        source,
    })?;
    match interpreter(&bytes) {
        None => Ok(()),
        Some(interpreter) => {
            Err(BuildStaticError::Dynamic { binary: binary.display().to_string(), interpreter })
        }
    }
}

/// The dynamic loader a 64-bit little-endian ELF file asks for, if any.
fn interpreter(elf: &[u8]) -> Option<String> {
    const PT_INTERP: u32 = 3;
    let u16_at = |at: usize| elf.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |at: usize| elf.get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    let u64_at = |at: usize| elf.get(at..at + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap()) as usize);
    if elf.get(..4) != Some(b"\x7fELF") {
        return Some("(not an ELF file)".into());
    }
    let (table, entry_size, count) = (u64_at(0x20)?, usize::from(u16_at(0x36)?), usize::from(u16_at(0x38)?));
    (0..count).find_map(|index| {
        let header = table + index * entry_size;
        if u32_at(header)? != PT_INTERP {
            return None;
        }
        let (offset, size) = (u64_at(header + 0x08)?, u64_at(header + 0x20)?);
        let path = elf.get(offset..offset + size)?;
        Some(String::from_utf8_lossy(path).trim_end_matches('\0').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_executable_names_its_loader_and_a_static_one_none() {
        // This test binary is dynamic, as cargo builds tests.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let loader = interpreter(&me).expect("a test binary is dynamically linked");
        assert!(loader.contains("ld-linux"), "{loader}");
        assert_eq!(interpreter(b"#!/bin/sh\n").as_deref(), Some("(not an ELF file)"));
    }
}
