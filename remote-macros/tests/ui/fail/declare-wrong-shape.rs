use remote_core::prelude::*;

#[remote::pipeline]
pub fn listing(hs: Hosts) -> Run {
    ls(&hs, "/", "-la")
}

#[remote::step]
pub fn counted(run: Run) -> usize {
    run.results().len()
}

fn main() {}
