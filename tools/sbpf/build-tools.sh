#!/usr/bin/env bash
# Builds what the sbpf linker needs, into $SBPF_BUILD_DIR (default .build/sbpf):
#   libSbpfLegalize.so  the LLVM pass plugin (tools/sbpf/pass)
#   sbpf_rt.bc          runtime helpers as bitcode (tools/sbpf/rt) and sbpf_rt.symbols, their names
#   rust-src/library    Rust's standard library sources with our Solana patch, for -Zbuild-std
# Each step is skipped when its output is newer than its inputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${SBPF_BUILD_DIR:-$repo/.build/sbpf}
mkdir -p "$out"

stale() { # stale OUTPUT INPUT... : true when OUTPUT is missing or older than any input
  local o=$1; shift
  [ -e "$o" ] || return 0
  for i in "$@"; do [ "$i" -nt "$o" ] && return 0; done
  return 1
}

if stale "$out/libSbpfLegalize.so" "$here/pass/SbpfLegalize.cpp"; then
  echo "sbpf: building the LLVM pass plugin"
  clang++-22 -shared -fPIC -O2 $(llvm-config-22 --cxxflags) "$here/pass/SbpfLegalize.cpp" \
    -o "$out/libSbpfLegalize.so" -L"$(llvm-config-22 --libdir)" -lLLVM-22
fi

if stale "$out/sbpf_rt.bc" "$here/rt/sbpf_rt.rs"; then
  echo "sbpf: building the runtime helpers"
  # core for bpfel-unknown-none ships prebuilt (libstd-rust-web-dev-bpf); same data layout as ours.
  /usr/bin/rustc --edition 2021 --target bpfel-unknown-none --crate-type lib --crate-name sbpf_rt \
    -C opt-level=2 -C panic=abort -C overflow-checks=off --emit=llvm-bc \
    -o "$out/sbpf_rt.bc" "$here/rt/sbpf_rt.rs"
  llvm-nm-22 --defined-only --extern-only "$out/sbpf_rt.bc" | awk '$2 == "T" {print $3}' > "$out/sbpf_rt.symbols"
  bad=$(llvm-nm-22 -u "$out/sbpf_rt.bc" | awk '{print $2}' | grep -v '^sol_' || true)
  if [ -n "$bad" ]; then echo "sbpf: runtime must only call syscalls, but needs: $bad" >&2; exit 1; fi
fi

src=/usr/lib/rustlib/src/rust/library
if stale "$out/rust-src/.patched" "$here/std/solana-std.patch" "$src/std/Cargo.toml"; then
  echo "sbpf: preparing the patched standard library sources"
  rm -rf "$out/rust-src"
  mkdir -p "$out/rust-src"
  cp -r "$src" "$out/rust-src/library"
  patch -s -d "$out/rust-src/library" -p1 < "$here/std/solana-std.patch"
  touch "$out/rust-src/.patched"
fi
