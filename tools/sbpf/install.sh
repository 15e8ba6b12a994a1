#!/usr/bin/env bash
# Installs the offline SBPF toolchain from Debian's packages (idempotent, fast when present):
# rustc/cargo 1.96 on upstream LLVM 22 with the BPF backend, the standard library sources for
# -Zbuild-std, prebuilt core/alloc/compiler_builtins for bpfel, LLVM 22 tools and headers (for
# our pass plugin), clang 22 to build it, and patch.
set -euo pipefail
packages=(rustc-web cargo-web rust-web-src libstd-rust-web-dev-bpf rust-web-llvm
          llvm-22 llvm-22-dev clang-22 lld-22 patch)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "sbpf: installing ${missing[*]}" >&2
sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
