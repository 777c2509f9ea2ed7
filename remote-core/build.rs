//! Computes the ABI stamp: what the host and a hot-reloaded `ops` library must share to pass values to
//! each other (compiler, profile, flags, remote-core's source, the workspace's Cargo.lock).
//!
//! The digest is FNV-1a: it detects change, it does not resist an attacker (a library that is loaded
//! runs with the host's rights anyway).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut digest = Fnv::default();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(&rustc).arg("-vV").output().map(|o| o.stdout).unwrap_or_default();
    digest.add(b"rustc", &version);
    // Profile settings and flags that change code generation or layout.
    for variable in ["PROFILE", "OPT_LEVEL", "DEBUG", "TARGET", "CARGO_ENCODED_RUSTFLAGS", "CARGO_CFG_PANIC"]
    {
        digest.add(variable.as_bytes(), std::env::var(variable).unwrap_or_default().as_bytes());
    }
    let mut files = Vec::new();
    collect(&manifest.join("src"), &mut files);
    files.push(manifest.join("Cargo.toml"));
    files.push(manifest.join("build.rs"));
    if let Some(lock) = manifest.ancestors().map(|dir| dir.join("Cargo.lock")).find(|lock| lock.is_file()) {
        files.push(lock);
    }
    files.sort();
    for file in &files {
        // Relative names, in the digest and for cargo: a copy of the workspace elsewhere gets the same stamp
        // and shares the same build of remote-core instead of invalidating it.
        let name = relative(file, &manifest);
        digest.add(name.to_string_lossy().as_bytes(), &std::fs::read(file).unwrap_or_default());
        println!("cargo:rerun-if-changed={}", name.display());
    }
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rustc-env=REMOTE_ABI_STAMP={:016x}", digest.0);
}

/// `file` relative to `base`, climbing with `..` where needed (Cargo.lock sits above the crate).
fn relative(file: &Path, base: &Path) -> PathBuf {
    for (up, ancestor) in base.ancestors().enumerate() {
        if let Ok(rest) = file.strip_prefix(ancestor) {
            let mut path: PathBuf = std::iter::repeat_n("..", up).collect();
            path.push(rest);
            return path;
        }
    }
    file.to_path_buf()
}

/// Every file under `dir`.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// 64-bit FNV-1a over length-prefixed fields.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn add(&mut self, name: &[u8], value: &[u8]) {
        for part in
            [&(name.len() as u64).to_le_bytes()[..], name, &(value.len() as u64).to_le_bytes()[..], value]
        {
            for byte in part {
                self.0 ^= u64::from(*byte);
                self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    }
}
