//! A path is not a step (steps are plain names, imported with `use`); refused under the `::`.

use remote_core::prelude::*;

fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") | remote_core::steps::pretty)
}

fn main() {}
