//! Records the profile (and target, when one was given) this binary is built with, so that `remote live`
//! builds `ops` the same way: cargo puts build scripts' output under `target/[TRIPLE/]PROFILE-DIR/build/`.
//! Also what `remote new` writes into a fleet repository: the compiler's version and the workspace's
//! Cargo.lock (empty when this crate is built outside its workspace).

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let name = |n: usize| {
        out.ancestors().nth(n).and_then(|p| p.file_name()).map(|f| f.to_string_lossy().into_owned())
    };
    let profile_dir = name(3).unwrap_or_else(|| "debug".into());
    // The dev profile's folder is `debug`; every other profile's folder is its own name.
    let profile = if profile_dir == "debug" { "dev".to_string() } else { profile_dir };
    let target = std::env::var("TARGET").unwrap_or_default();
    let explicit_target = name(4).is_some_and(|dir| dir == target);
    println!("cargo:rustc-env=REMOTE_BUILD_PROFILE={profile}");
    println!("cargo:rustc-env=REMOTE_BUILD_TARGET={}", if explicit_target { target.as_str() } else { "" });

    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc).arg("-V").output().map(|o| o.stdout).unwrap_or_default();
    // `rustc 1.95.0 (59807616e 2026-04-14)`: the second word.
    let version = String::from_utf8_lossy(&version).split_whitespace().nth(1).unwrap_or("stable").to_string();
    println!("cargo:rustc-env=REMOTE_RUSTC_VERSION={version}");

    let manifest =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let lock = manifest.parent().map(|workspace| workspace.join("Cargo.lock"));
    let text = lock.as_ref().and_then(|lock| std::fs::read_to_string(lock).ok()).unwrap_or_default();
    if let Some(lock) = &lock {
        println!("cargo:rerun-if-changed={}", lock.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
    std::fs::write(out.join("Cargo.lock"), text).expect("OUT_DIR is writable");
}
