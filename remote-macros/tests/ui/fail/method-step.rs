//! A method call is not a step; refused under the `.`.

use remote_std::prelude::*;

fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") | run.pretty())
}

fn main() {}
