#!/usr/bin/env bash
# Runs the whole system locally on the official Firebase emulators, with demo data:
# Auth, Firestore (rules and triggers), Functions, Pub/Sub and Hosting.
#   bash scripts/run_local.sh            keep the data of the last run (.local/emulator-data)
#   bash scripts/run_local.sh --reset    start from empty, then seed the demo data again
# Stop with Ctrl-C: the emulators save their data on the way out.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATA="$ROOT/.local/emulator-data"

case "${1:-}" in
  --reset) rm -rf "$DATA"; echo "run_local: starting from empty data" ;;
  "") ;;
  *) echo "usage: scripts/run_local.sh [--reset]" >&2; exit 2 ;;
esac

bash scripts/setup.sh
# shellcheck source=/dev/null
source .local/env.sh

import_args=()
[[ -d "$DATA" ]] && import_args=(--import "$DATA")
# In its own process group: Ctrl-C reaches this script, which stops the emulators with
# SIGTERM (they export their data and stop their function workers; SIGINT leaves workers).
setsid firebase emulators:start --project demo-credits "${import_args[@]}" --export-on-exit "$DATA" &
EMULATORS=$!
stop() {
  trap - INT TERM EXIT
  kill -TERM -- "-$EMULATORS" 2>/dev/null || true
  wait "$EMULATORS" 2>/dev/null || true
}
trap stop INT TERM EXIT

echo "run_local: waiting for the emulators"
for _ in $(seq 180); do
  if curl -sf http://127.0.0.1:5000/api/health >/dev/null; then break; fi
  if ! kill -0 "$EMULATORS" 2>/dev/null; then echo "run_local: the emulators exited" >&2; exit 1; fi
  sleep 1
done

# Data kept from an older version is brought to today's shape (docs/ledger.md, "Existing data").
# Kept data may predate the Activity projection (or its shape): the backfill fills it in.
if [[ ${#import_args[@]} -gt 0 ]]; then
  "$PYTHON" scripts/migrate_balances.py
  "$PYTHON" scripts/backfill_activity.py
fi
"$PYTHON" scripts/seed_demo.py
cat <<EOF

The credits ledger runs locally (project demo-credits):
  Web app (Hosting)       http://127.0.0.1:5000          sign in as alice@demo.test, password demo-password
  API (Hosting)           http://127.0.0.1:5000/api/     e.g. http://127.0.0.1:5000/api/health
  Firestore emulator      127.0.0.1:8080                 (Authorization: Bearer owner reads everything)
  Auth emulator           127.0.0.1:9099
  Functions emulator      127.0.0.1:5001
Press Ctrl-C to stop; data is kept in .local/emulator-data (--reset starts over).
EOF
wait "$EMULATORS"
