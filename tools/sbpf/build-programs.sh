#!/usr/bin/env bash
# Builds every program under programs/ for SBPF with the offline toolchain and lays the results
# out the way `anchor build` does: target/deploy/<program>.so and <program>-keypair.json.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
"$here/install.sh"
"$here/cargo-sbpf" build --release --locked --manifest-path "$repo/Cargo.toml" --workspace
mkdir -p "$repo/target/deploy"
for dir in "$repo"/programs/*/; do
  name=$(basename "$dir")
  lib=${name//-/_}
  cp "$repo/target/sbpf-solana/release/$lib.so" "$repo/target/deploy/$lib.so"
  [ -f "$dir/keypair.json" ] && cp "$dir/keypair.json" "$repo/target/deploy/$lib-keypair.json"
  echo "sbpf: target/deploy/$lib.so ($(stat -c %s "$repo/target/deploy/$lib.so") bytes)" >&2
done

# The toolchain's own conformance programs (tests/toolchain runs them).
mkdir -p "$repo/target/sbpf-tests"
for dir in "$here"/tests/*/; do
  name=$(basename "$dir")
  "$here/cargo-sbpf" build --release --locked --manifest-path "$dir/Cargo.toml" --target-dir "$repo/target"
  cp "$repo/target/sbpf-solana/release/sbpf_$name.so" "$repo/target/sbpf-tests/sbpf_$name.so"
done

# Test-only programs (tests/programs/<name>, no dependencies): e.g. pda_signer, which signs as its
# PDA through invoke_signed for the escrow's PDA-authority and PDA-customer tests.
mkdir -p "$repo/target/test-programs"
for dir in "$repo"/tests/programs/*/; do
  [ -f "$dir/Cargo.toml" ] || continue
  name=$(basename "$dir")
  "$here/cargo-sbpf" build --release --locked --manifest-path "$dir/Cargo.toml" --target-dir "$repo/target"
  cp "$repo/target/sbpf-solana/release/$name.so" "$repo/target/test-programs/$name.so"
done
