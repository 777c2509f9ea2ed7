#!/usr/bin/env bash
# The main job on a fresh machine: start a sandbox of real sshd hosts on loopback and run the `listing` pipeline on it.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x /usr/sbin/sshd ] && ! command -v sshd >/dev/null 2>&1; then
  echo "demo: sshd is missing; installing openssh-server with apt-get (needs root or sudo)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client
fi

# `cargo run`, not ./target/debug/remote: cargo knows where the binary is, CARGO_TARGET_DIR included.
cargo run --quiet --locked -p remote -- --inventory remote.toml sandbox up 3
cargo run --quiet --locked -p remote -- --inventory remote.toml run listing sandbox
