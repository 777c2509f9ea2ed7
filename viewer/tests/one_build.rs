//! One build serves `cargo test --workspace` and `cargo run -p viewer`: every crate in the viewer's tree has
//! the features the whole workspace (its tests included) turns on, so running the viewer after the tests
//! compiles nothing but the viewer. Checked with `cargo tree`, without building anything.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Each package of a `cargo tree -f '{p}|{f}' --prefix none` listing, with the features it is built with.
fn features(listing: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut packages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in listing.lines() {
        let Some((package, features)) = line.split_once('|') else { continue };
        // cargo marks a package it has shown before with ` (*)` after the features.
        let features = features.trim_end_matches(" (*)");
        let set = packages.entry(package.trim_end_matches(" (*)").to_string()).or_default();
        set.extend(features.split(',').filter(|f| !f.is_empty()).map(str::to_string));
    }
    packages
}

/// The features the workspace turns on in the viewer's crates and the viewer's own build does not: one line
/// per crate.
fn missing(workspace: &str, viewer: &str) -> Vec<String> {
    let workspace = features(workspace);
    features(viewer)
        .into_iter()
        .filter_map(|(package, own)| {
            let lacking: Vec<&str> = workspace.get(&package)?.difference(&own).map(String::as_str).collect();
            (!lacking.is_empty()).then(|| format!("{package}: {}", lacking.join(", ")))
        })
        .collect()
}

fn check(workspace: &str, viewer: &str, expected: &[&str]) {
    assert_eq!(missing(workspace, viewer), expected);
}

#[test]
fn a_crate_lacking_a_feature_the_workspace_turns_on_is_named() {
    check("a v1|std,serde\nb v2|\n", "a v1|std\nb v2|\n", &["a v1: serde"]);
    check("a v1|std (*)\n", "a v1|std\n", &[]);
    check("a v1|std\na v1|serde (*)\n", "a v1|serde,std\n", &[]);
    // A crate only the workspace uses is not the viewer's concern.
    check("a v1|std\nc v3|x\n", "a v1|std\n", &[]);
    // More features in the viewer's build than in the workspace's cannot happen in cargo; not reported.
    check("a v1|\n", "a v1|std\n", &[]);
}

fn tree(selection: &[&str], edges: &str) -> String {
    let output = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "--no-dedupe", "--prefix", "none", "-f", "{p}|{f}", "-e", edges])
        .args(selection)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(output.status.success(), "cargo tree failed:\n{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("cargo tree prints UTF-8")
}

#[test]
fn cargo_run_p_viewer_reuses_what_cargo_test_workspace_built() {
    let workspace = tree(&["--workspace"], "normal,dev,build");
    let viewer = tree(&["-p", "viewer"], "normal,build");
    let lacking = missing(&workspace, &viewer);
    assert!(
        lacking.is_empty(),
        "`cargo run -p viewer` would rebuild these crates with fewer features than `cargo test --workspace` \
         gives them; add the features to the list at the end of [dependencies] in viewer/Cargo.toml:\n{}",
        lacking.join("\n")
    );
}
