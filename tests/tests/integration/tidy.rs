//! Source hygiene that review would otherwise have to catch: every Rust file opens with a `//!` line saying
//! its job, and no crate's modules import each other in a circle (the layering is what each crate's `lib.rs`
//! says).

use std::collections::{BTreeMap, BTreeSet};
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

/// The crate-internal modules each top-level module of the crate at `src` names (`crate::x`, `crate::{x, y}`)
/// in its code: comments and test-only code (`tests.rs`, `fuzz.rs`, a trailing `#[cfg(test)] mod tests`) left
/// out.
fn module_imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap_or(&file);
        let stem = relative.with_extension("");
        let parts: Vec<String> = stem.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if parts.iter().any(|p| p == "tests" || p == "fuzz") || parts == ["lib"] || parts == ["main"] {
            continue;
        }
        let module = parts[0].clone();
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let used = imports.entry(module).or_default();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            let line = line.trim_start();
            if line == "#[cfg(test)]"
                && lines.peek().is_some_and(|next| next.trim_start().starts_with("mod tests {"))
            {
                break;
            }
            if line.starts_with("//") {
                continue;
            }
            let code = line.split(" //").next().unwrap_or(line);
            for (at, _) in code.match_indices("crate::") {
                let rest = &code[at + "crate::".len()..];
                let names = match rest.strip_prefix('{') {
                    Some(group) => group.split('}').next().unwrap_or(""),
                    None => rest,
                };
                for name in names.split(',') {
                    let name: String =
                        name.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if !name.is_empty() {
                        used.insert(name);
                    }
                }
            }
        }
    }
    let modules: BTreeSet<String> = imports.keys().cloned().collect();
    for (module, used) in imports.iter_mut() {
        used.retain(|name| name != module && modules.contains(name));
    }
    imports
}

/// The strongly connected components of more than one module (Tarjan's algorithm): each is an import circle.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        circles: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, node: &'a str) {
            let at = self.index.len();
            self.index.insert(node, at);
            self.low.insert(node, at);
            self.stack.push(node);
            for next in self.graph.get(node).into_iter().flatten() {
                if !self.index.contains_key(next.as_str()) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next.as_str()]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next.as_str()) {
                    let low = self.low[node].min(self.index[next.as_str()]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let start = self.stack.iter().position(|n| *n == node).unwrap_or(0);
                let component: Vec<String> = self.stack.drain(start..).map(str::to_string).collect();
                if component.len() > 1 {
                    self.circles.push(component);
                }
            }
        }
    }
    let mut walk =
        Walk { graph, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), circles: Vec::new() };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_str()) {
            walk.visit(node);
        }
    }
    walk.circles
}

#[test]
fn circles_are_found_in_a_graph() {
    let check = |edges: &[(&str, &str)], expected: &[&[&str]]| {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges {
            graph.entry(from.to_string()).or_default().insert(to.to_string());
            graph.entry(to.to_string()).or_default();
        }
        let mut found: Vec<Vec<String>> = circles(&graph)
            .into_iter()
            .map(|mut c| {
                c.sort();
                c
            })
            .collect();
        found.sort();
        let expected: Vec<Vec<String>> =
            expected.iter().map(|c| c.iter().map(|s| s.to_string()).collect()).collect();
        assert_eq!(found, expected, "{edges:?}");
    };
    check(&[("a", "b"), ("b", "c")], &[]);
    check(&[("a", "b"), ("b", "a")], &[&["a", "b"]]);
    check(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")], &[&["a", "b", "c"]]);
    check(&[("a", "b"), ("b", "a"), ("c", "d"), ("d", "c")], &[&["a", "b"], &["c", "d"]]);
}

#[test]
fn no_crate_has_modules_that_import_each_other_in_a_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root");
    let mut checked = 0;
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root).expect("the workspace root").flatten() {
        let src = entry.path().join("src");
        if !entry.path().join("Cargo.toml").is_file() || !src.is_dir() {
            continue;
        }
        checked += 1;
        for circle in circles(&module_imports(&src)) {
            found.push(format!("{}: {}", entry.file_name().to_string_lossy(), circle.join(" → ")));
        }
    }
    assert!(checked >= 10, "found only {checked} crates under {}", root.display());
    assert!(found.is_empty(), "these modules import each other in a circle: {found:#?}");
}

/// Whether the module path `path` (`remote_core::memory`, `remote_std::prelude::Field`) names something that
/// exists under the workspace `root`: each segment a module file (or an inline `mod`), the last one possibly
/// an item that its module defines or re-exports.
fn path_exists(root: &Path, path: &str) -> bool {
    let mut segments = path.split("::");
    let Some(krate) = segments.next() else { return false };
    let folder = root.join(krate.replace('_', "-"));
    let src = folder.join("src");
    let mut file = if src.join("lib.rs").is_file() { src.join("lib.rs") } else { src.join("main.rs") };
    let mut dir = src;
    for segment in segments {
        let candidates = [dir.join(format!("{segment}.rs")), dir.join(segment).join("mod.rs")];
        if let Some(next) = candidates.iter().find(|c| c.is_file()) {
            file = next.clone();
            dir = dir.join(segment);
            continue;
        }
        // Not a module of its own: an item, or an inline module, of the module read so far.
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let defined = ["struct", "enum", "trait", "fn", "type", "const", "static", "mod"]
            .iter()
            .any(|kind| text.contains(&format!("{kind} {segment}")));
        let reexported =
            text.lines().any(|line| line.trim_start().starts_with("pub use") && line.contains(segment));
        return defined || reexported;
    }
    true
}

#[test]
fn architecture_md_names_only_what_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root");
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    assert!(
        text.chars().count() <= 25_000,
        "ARCHITECTURE.md has {} characters; keep it to 25,000",
        text.chars().count()
    );
    let crates: Vec<String> = std::fs::read_dir(root)
        .expect("the workspace root")
        .flatten()
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().replace('-', "_"))
        .collect();
    let mut missing = Vec::new();
    let mut checked = 0;
    // Code spans only: `remote_core::memory`, `remote-std/src/model.rs`, and the crates of the `### `
    // headings.
    for (index, span) in text.split('`').enumerate() {
        if index % 2 == 0 || span.contains(' ') {
            continue;
        }
        if let Some((first, _)) = span.split_once("::")
            && crates.iter().any(|c| c == first)
        {
            checked += 1;
            if !path_exists(root, span) {
                missing.push(span.to_string());
            }
        } else if span.contains('/')
            && !span.starts_with('/')
            && !span.starts_with("../")
            && !span.contains('*')
        {
            let first = span.split('/').next().unwrap_or_default().replace('-', "_");
            if crates.iter().any(|c| *c == first) || span.starts_with("scripts/") || span.starts_with(".ci/")
            {
                checked += 1;
                if !root.join(span).exists() {
                    missing.push(span.to_string());
                }
            }
        }
    }
    for line in text.lines().filter(|l| l.starts_with("### ")) {
        for name in line.split('`').skip(1).step_by(2) {
            checked += 1;
            if !root.join(name).join("Cargo.toml").is_file() {
                missing.push(format!("crate {name}"));
            }
        }
    }
    assert!(checked > 50, "only {checked} names were checked: has the file's form changed?");
    assert!(missing.is_empty(), "ARCHITECTURE.md names what does not exist: {missing:#?}");
}

#[test]
fn a_path_exists_when_its_modules_or_item_do() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root");
    let check = |path: &str, expected: bool| assert_eq!(path_exists(root, path), expected, "{path}");
    check("remote_core::memory", true);
    check("remote_core::memory::MemoryWorld", true);
    check("remote_core::Driver", true);
    check("remote_core::nothing_here", false);
    check("remote_ssh::world::SessionWorld", true);
    check("remote_core::ssh_config", false);
}
