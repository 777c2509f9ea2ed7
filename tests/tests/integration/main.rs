//! One integration-test binary; each module covers one area of `remote` against real sshd servers on loopback.

mod cli;
mod exec;
mod host_keys;
mod hot_reload;
mod jobs;
mod host_keys_openssh;
mod hostile;
mod live;
mod pipelines;
mod scale;
mod sessions;
mod ssh_config;
mod tidy;
