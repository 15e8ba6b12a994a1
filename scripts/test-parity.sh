#!/usr/bin/env bash
# `make test-parity`: the integration tier (tests/integration) against both
# validators, iopay localnet and Agave's solana-test-validator (from PATH or
# the `make validator` cache). Fails, rather than skips, when the real one
# is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/.build/agave/bin:$PATH"
if ! command -v solana-test-validator >/dev/null; then
    echo "test-parity: solana-test-validator is not on PATH and not cached: run 'make validator' first" >&2
    exit 1
fi
echo "test-parity: $(command -v solana-test-validator) ($(solana-test-validator --version))" >&2
export IOPAY_REQUIRE_TEST_VALIDATOR=1
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest -q tests/integration "$@"
