//! Compile tests of `pipeline!`: every error message pinned by a `.stderr` file, one mistake per file.

#[test]
fn pipeline_macro() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*-pass.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
