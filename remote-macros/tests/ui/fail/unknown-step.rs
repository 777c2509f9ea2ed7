//! An unknown step gets the compiler's own "cannot find function" under its name.

use remote_std::prelude::*;

fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") | prety)
}

fn main() {}
