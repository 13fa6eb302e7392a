#!/usr/bin/env bash
# The release build of the `rosetta` binary, exactly as CI (.ci/run) and the container image
# (deploy/Dockerfile, builder stage) run it: fat LTO and one codegen unit (Cargo.toml's
# [profile.release]), the committed Cargo.lock. About 4 minutes on 2 cores.
# Prints the binary's path on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin rosetta
target_dir=${CARGO_TARGET_DIR:-target}
[[ $target_dir == /* ]] || target_dir=$PWD/$target_dir
binary=$target_dir/release/rosetta
test -x "$binary"
echo "$binary"
