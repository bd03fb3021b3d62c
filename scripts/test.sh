#!/usr/bin/env bash
# The whole test suite, from a clean clone: set up, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run -s typecheck
exec npx vitest run "$@"
