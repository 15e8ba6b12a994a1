#!/usr/bin/env bash
# Create/refresh the project virtualenv in .venv (idempotent).
#
# Fast no-op when .venv already matches pyproject.toml: a stamp file records
# the sha256 of pyproject.toml (and of the Python used) from the last
# successful install. Override the interpreter with PYTHON=/path/to/python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
STAMP="$VENV/.iopay-stamp"

want="$( { sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1 )"

if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
    exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "venv.sh: creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi

echo "venv.sh: installing iopay[test] into $VENV" >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[test]"
"$VENV/bin/python" -c 'import anchorpy, solders.litesvm, solana, iopay' >/dev/null

printf '%s\n' "$want" > "$STAMP"
echo "venv.sh: ok" >&2
