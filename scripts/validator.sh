#!/usr/bin/env bash
# `make validator`: build Agave's solana-test-validator once and cache it in
# .build/agave/bin (the reference validator for `make test-parity`).
#
# From crates.io with the pinned version; ~67 minutes on 2 idle cores, a
# 73 MB binary. Idempotent: a cached binary of the right version is kept.
# Needs the Debian packages below (installed with apt-get when missing and
# running as root) and the host Rust toolchain (rustup's cargo).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${AGAVE_VERSION:-4.2.2}"
PREFIX="$ROOT/.build/agave"
BIN="$PREFIX/bin/solana-test-validator"
DEPS=(libudev-dev libclang-dev protobuf-compiler pkg-config libssl-dev)

if [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | grep -q " $VERSION "; then
    echo "validator.sh: $BIN ($VERSION) is cached" >&2
    exit 0
fi

missing=()
for p in "${DEPS[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        echo "validator.sh: missing Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
        exit 1
    fi
fi

CARGO="$HOME/.cargo/bin/cargo"
[[ -x "$CARGO" ]] || CARGO=cargo
echo "validator.sh: building solana-test-validator $VERSION into $PREFIX (about an hour on 2 cores)" >&2
# A target dir of our own (not cargo install's temporary one): an interrupted build resumes
# where it stopped instead of starting the hour again.
env -u RUSTUP_TOOLCHAIN "$CARGO" install "agave-validator@$VERSION" --locked --bin solana-test-validator \
    --root "$PREFIX" --target-dir "$PREFIX/target"
"$BIN" --version
