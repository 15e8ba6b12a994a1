#!/usr/bin/env bash
# Builds every program under programs/ for SBPF with the offline toolchain and lays the results
# out the way `anchor build` does: target/deploy/<program>.so and <program>-keypair.json.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
"$here/install.sh"
"$here/build-tools.sh"
# Cargo cannot see the linker's inputs: when our tools change, relink the programs from scratch.
stamp="$repo/target/sbpf-solana/.tools-hash"
tools_hash=$(cat "$here"/ld/* "$here"/pass/* "$here"/rt/* "$here"/std/* "$here"/target/* | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$tools_hash" ]; then
  for crate in "$repo"/programs/*/ "$here"/tests/*/; do
    manifest="$crate/Cargo.toml"
    pkg=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$manifest" | head -1)
    "$here/cargo-sbpf" clean --release --manifest-path "$manifest" --target-dir "$repo/target" -p "$pkg" 2>/dev/null || true
  done
fi
"$here/cargo-sbpf" build --release --locked --manifest-path "$repo/Cargo.toml" --workspace
mkdir -p "$repo/target/deploy"
for dir in "$repo"/programs/*/; do
  name=$(basename "$dir")
  lib=${name//-/_}
  cp "$repo/target/sbpf-solana/release/$lib.so" "$repo/target/deploy/$lib.so"
  [ -f "$dir/keypair.json" ] && cp "$dir/keypair.json" "$repo/target/deploy/$lib-keypair.json"
  echo "sbpf: target/deploy/$lib.so ($(stat -c %s "$repo/target/deploy/$lib.so") bytes)"
done

# The toolchain's own conformance programs (tests/toolchain runs them).
mkdir -p "$repo/target/sbpf-tests"
for dir in "$here"/tests/*/; do
  name=$(basename "$dir")
  "$here/cargo-sbpf" build --release --locked --manifest-path "$dir/Cargo.toml" --target-dir "$repo/target"
  cp "$repo/target/sbpf-solana/release/sbpf_$name.so" "$repo/target/sbpf-tests/sbpf_$name.so"
done
mkdir -p "$(dirname "$stamp")" && echo "$tools_hash" > "$stamp"
