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
  # Crates with their own [workspace] (official programs built from crates.io) are built below.
  grep -q '^\[workspace\]' "$dir/Cargo.toml" && continue
  # Libraries shared by the programs (programs/token_cpi) have no cdylib: nothing to deploy.
  grep -q '^crate-type.*cdylib' "$dir/Cargo.toml" || continue
  lib=${name//-/_}
  cp "$repo/target/sbpf-solana/release/$lib.so" "$repo/target/deploy/$lib.so"
  [ -f "$dir/keypair.json" ] && cp "$dir/keypair.json" "$repo/target/deploy/$lib-keypair.json"
  echo "sbpf: target/deploy/$lib.so ($(stat -c %s "$repo/target/deploy/$lib.so") bytes)" >&2
done

# SPL Governance 4.0.0 from crates.io, pinned by programs/spl_governance/Cargo.lock; loaded at
# its mainnet address GovER5Lthms3bLBqWub97yVrMmEogzX7xNjdXpPPCoZw (no keypair: not ours to deploy).
# Its own target dir: another workspace, built without waiting on the lock of target/.
"$here/cargo-sbpf" build --release --locked --manifest-path "$repo/programs/spl_governance/Cargo.toml" \
  --target-dir "$repo/target/spl_governance"
cp "$repo/target/spl_governance/sbpf-solana/release/spl_governance_program.so" "$repo/target/deploy/spl_governance.so"
echo "sbpf: target/deploy/spl_governance.so ($(stat -c %s "$repo/target/deploy/spl_governance.so") bytes)" >&2

# The toolchain's own conformance programs (tests/toolchain runs them): one workspace, in its own
# target dir (sharing one with the workspace above would rebuild std at every switch).
# Programs are selected by -p: with --workspace cargo also counts memops's path dependency as a
# package you asked for (CARGO_PRIMARY_PACKAGE), and a cdylib you ask for needs an entrypoint.
mkdir -p "$repo/target/sbpf-tests"
packages=()
for dir in "$here"/tests/*/; do packages+=(-p "sbpf_$(basename "$dir")"); done
"$here/cargo-sbpf" build --release --locked --manifest-path "$here/tests/Cargo.toml" "${packages[@]}" \
  --target-dir "$repo/target/sbpf-tests-build"
for dir in "$here"/tests/*/; do
  name=$(basename "$dir")
  cp "$repo/target/sbpf-tests-build/sbpf-solana/release/sbpf_$name.so" "$repo/target/sbpf-tests/sbpf_$name.so"
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
