//! A generic function cannot be declared: the prompt must know every parameter type.

use remote_std::prelude::*;

#[remote::step]
pub fn keep<F: Fn(&HostResult) -> bool>(run: Run, test: F) -> Run {
    pick(run, test)
}

fn main() {}
