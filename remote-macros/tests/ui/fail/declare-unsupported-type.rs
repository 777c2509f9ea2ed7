//! A step parameter the prompt cannot pass is named as such.

use remote_std::prelude::*;

#[remote::step]
pub fn keep(run: Run, hosts: Vec<String>) -> Run {
    let _ = hosts;
    run
}

fn main() {}
