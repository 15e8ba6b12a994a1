#!/usr/bin/env bash
# Regenerate idl/<program>.json for every program under programs/.
# Usage: tools/idl/gen.sh [--check]
# Uses the host (rustup) toolchain and a shared target dir, target/host.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# The host toolchain, never /usr/bin/cargo (that one is for the SBPF build).
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/host}"
unset RUSTUP_TOOLCHAIN RUSTFLAGS
cargo build --quiet --locked --manifest-path "$ROOT/tools/idl/Cargo.toml"
exec "$CARGO_TARGET_DIR/debug/iopay-idl" --root "$ROOT" "$@"
