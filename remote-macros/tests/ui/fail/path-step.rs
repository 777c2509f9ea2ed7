//! A path is not a step (steps are plain names, imported with `use`); refused under the `::`.

use remote_std::prelude::*;

fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") | remote_std::steps::pretty)
}

fn main() {}
