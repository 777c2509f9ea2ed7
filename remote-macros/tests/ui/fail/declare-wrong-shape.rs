//! A pipeline that does not take `&Hosts`, or a step that does not return a `Run`, is a type error under its
//! name.

use remote_std::prelude::*;

#[remote::pipeline]
pub fn listing(hs: Hosts) -> Run {
    ls(&hs, "/", "-la")
}

#[remote::step]
pub fn counted(run: Run) -> usize {
    run.results().len()
}

fn main() {}
