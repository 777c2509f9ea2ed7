//! The parts of `remote` that are a library only so that more than the binary can use them: the hub and the
//! history are used by the `remote` binary and measured by `bench` (`bench --hub`).

pub mod history;
pub mod hub;
