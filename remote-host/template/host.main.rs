//! This fleet's `remote`: the host with the pipelines of `ops` linked in. Nothing to edit here.

use std::process::ExitCode;

// Linked for its declarations: the pipelines reach the host through the attributes, not by name.
extern crate ops;

fn main() -> ExitCode {
    remote_host::main()
}
