//! The `remote` binary: the host ([`remote_host::main`]) with this workspace's `ops` linked in.

use std::process::ExitCode;

// Linked for its declarations: `ops`' pipelines and steps reach the registry through remote-core's distributed
// slice, so nothing here names them. This is the `ops` of `remote run` and of the static CI binary; `remote
// live` loads a fresh build of it instead when it can.
extern crate ops;

fn main() -> ExitCode {
    remote_host::main()
}
