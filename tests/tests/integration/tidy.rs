//! Source hygiene that review would otherwise have to catch: every Rust file opens with a `//!` line saying its job.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() && name != "target" && !name.to_string_lossy().starts_with('.') {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_module_says_its_job() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root");
    let mut files = Vec::new();
    rust_files(root, &mut files);
    assert!(files.len() > 10, "found only {} Rust files under {}", files.len(), root.display());
    let missing: Vec<_> = files
        .iter()
        .filter(|path| !std::fs::read_to_string(path).is_ok_and(|text| text.starts_with("//! ")))
        .map(|path| path.strip_prefix(root).unwrap_or(path).display().to_string())
        .collect();
    assert!(missing.is_empty(), "these files do not open with a `//!` line saying their job: {missing:?}");
}
