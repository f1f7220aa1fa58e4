#!/usr/bin/env bash
# The whole test suite: lint, format and type checks of the functions and the web app, the
# web app's unit tests, then pytest against the official Firebase emulators (which the test
# session starts and stops itself), browser tests in Chromium included.
# Extra arguments go to pytest (for example: scripts/run_tests.sh -k ledger).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh --with-browser
# shellcheck source=/dev/null
source .local/env.sh

echo "== ruff"
"$ROOT/functions/venv/bin/ruff" check --config functions/pyproject.toml functions tests scripts
"$ROOT/functions/venv/bin/ruff" format --check --config functions/pyproject.toml functions tests scripts
echo "== mypy"
(cd functions && venv/bin/mypy --config-file pyproject.toml main.py credits)
echo "== web: types, lint, unit tests"
(cd web && npm run --silent typecheck && npm run --silent lint && npx --no-install vitest run --reporter=dot)
echo "== pytest"
exec "$PYTHON" -m pytest tests -p no:cacheprovider "$@"
