//! Records the profile (and target, when one was given) this binary is built with, so that `remote live`
//! builds `ops` the same way: cargo puts build scripts' output under `target/[TRIPLE/]PROFILE-DIR/build/`.

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
}
