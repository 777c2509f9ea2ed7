//! An empty `pipeline!()` is refused at the macro call.

use remote_std::prelude::*;

fn listing(_hs: &Hosts) -> Run {
    pipeline!()
}

fn main() {}
