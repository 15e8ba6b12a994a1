#!/usr/bin/env bash
# Exit non-zero if a committed idl/*.json differs from freshly generated output.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/gen.sh" --check "$@"
