//! The README's `listing` pipeline compiles with only the prelude imported.

use remote_std::prelude::*;

/// The seed's first example, written as in the README.
pub fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") | pretty)
}

fn main() {}
