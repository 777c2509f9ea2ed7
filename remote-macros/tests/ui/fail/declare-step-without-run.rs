//! A step takes its run first.

use remote_std::prelude::*;

#[remote::step]
pub fn nothing() -> Run {
    unimplemented!()
}

fn main() {}
