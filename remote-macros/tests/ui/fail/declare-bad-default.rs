//! Defaults only for trailing string parameters that exist.

use remote_std::prelude::*;

#[remote::step(default(limit = "3"))]
pub fn keep(run: Run, limit: i64) -> Run {
    let _ = limit;
    run
}

#[remote::step(default(first = ""))]
pub fn gap(run: Run, first: &str, second: &str) -> Run {
    let _ = (first, second);
    run
}

#[remote::step(default(missing = ""))]
pub fn unknown(run: Run) -> Run {
    run
}

fn main() {}
