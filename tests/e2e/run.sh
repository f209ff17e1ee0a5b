#!/usr/bin/env bash
# The API checked by tools nobody here wrote:
#   - Redocly CLI and Spectral lint openapi.yaml;
#   - Schemathesis (all checks, fixed seed) tests the live server, on SQLite and on PostgreSQL;
#   - Swagger UI is driven in Debian's Chromium (playwright-core): authorize, create, list.
# Run from anywhere: `bash tests/e2e/run.sh`. It installs what it needs (a Python venv under
# target/e2e, `npm ci` in tests/e2e, Debian's chromium), builds the server and starts it on free
# ports. PostgreSQL must be reachable at TEST_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/postgres): a fresh database is created and dropped.
# Screenshots and reports go to artifacts/ (git-ignored). Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"

E2E=tests/e2e
WORK=target/e2e
ARTIFACTS=artifacts
ADMIN_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
CHROMIUM="${E2E_CHROMIUM:-/usr/bin/chromium}"
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1

started=$SECONDS
passed=0
failed=()

step() { printf '\n==> %s\n' "$*"; }

# Runs a check, recording its outcome; later checks run even when one fails.
check() {
  local name=$1
  shift
  local t0=$SECONDS
  step "$name"
  if "$@"; then
    passed=$((passed + 1))
    echo "--- ok: $name ($((SECONDS - t0)) s)"
  else
    failed+=("$name")
    echo "--- FAILED: $name ($((SECONDS - t0)) s)"
  fi
}

# ---------------------------------------------------------------------------------------------
step "Install: Schemathesis (venv), npm packages, Chromium"
mkdir -p "$WORK" "$ARTIFACTS"
if [ ! -x "$WORK/venv/bin/python" ]; then
  python3 -m venv "$WORK/venv"
fi
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check -r "$E2E/requirements.txt"
"$WORK/venv/bin/schemathesis" --version
npm ci --prefix "$E2E" --no-fund --no-audit --loglevel=error
if [ ! -x "$CHROMIUM" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
"$CHROMIUM" --version

step "Build the server"
cargo build --locked --quiet --bin todo-api
BIN=target/debug/todo-api

# ---------------------------------------------------------------------------------------------
check "redocly lint openapi.yaml" \
  "$E2E/node_modules/.bin/redocly" lint --config "$E2E/.redocly.yaml" openapi.yaml
check "spectral lint openapi.yaml" \
  "$E2E/node_modules/.bin/spectral" lint --ruleset "$E2E/.spectral.yaml" --fail-severity warn openapi.yaml

# ---------------------------------------------------------------------------------------------
# The server under test, and what to clean up.
SERVER_PID=""
PG_DB=""
SCRATCH="$(mktemp -d)"

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

drop_database() {
  if [ -n "$PG_DB" ]; then
    psql "$ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" || true
    PG_DB=""
  fi
}

cleanup() {
  stop_server
  drop_database
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

# A random secret for this run only; tokens minted with it are worthless elsewhere.
export BETTER_AUTH_SECRET
BETTER_AUTH_SECRET="$(openssl rand -hex 32)"
# A Better Auth-like user id.
E2E_USER="e2e$(openssl rand -hex 12)"

# Starts the server on DATABASE_URL=$1 and a free port; sets BASE_URL.
start_server() {
  local log="$SCRATCH/server-$2.log"
  DATABASE_URL="$1" HOST=127.0.0.1 PORT=0 RUST_LOG=info NO_COLOR=1 "$BIN" >"$log" 2>&1 &
  SERVER_PID=$!
  BASE_URL=""
  for _ in $(seq 1 100); do
    BASE_URL="$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$log" | head -n1 | sed 's/^listening on //')" || true
    if [ -n "$BASE_URL" ] && curl -fsS "$BASE_URL/ready" >/dev/null 2>&1; then
      echo "server ($2) at $BASE_URL"
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "the server did not start on $1:" >&2
  cat "$log" >&2
  return 1
}

schemathesis() {
  local backend=$1
  (
    # Run in scratch space: Hypothesis writes a .hypothesis folder into the working directory.
    cd "$SCRATCH"
    "$ROOT/$WORK/venv/bin/schemathesis" --config-file "$ROOT/$E2E/schemathesis.toml" \
      run "$ROOT/openapi.yaml" --url "$BASE_URL" --checks all --no-color \
      --report junit --report-junit-path "$ROOT/$ARTIFACTS/schemathesis-$backend.xml"
  )
}

# A user of its own, so that the screenshot shows the task it created, not Schemathesis's.
swagger_ui() {
  local user token
  user="ui$(openssl rand -hex 12)"
  token="$("$BIN" token --sub "$user" --ttl 30m)"
  E2E_BASE_URL="$BASE_URL" E2E_USER="$user" E2E_TOKEN="$token" E2E_CHROMIUM="$CHROMIUM" \
    E2E_SCREENSHOT="$ARTIFACTS/swagger-ui-$1.png" node --test "$E2E/swagger-ui.test.mjs"
}

# Runs Schemathesis and the browser test against the server on DATABASE_URL=$2.
against() {
  local backend=$1 url=$2
  step "Server on $backend"
  if ! start_server "$url" "$backend"; then
    failed+=("server on $backend")
    return
  fi
  export E2E_USER E2E_TOKEN
  E2E_TOKEN="$("$BIN" token --sub "$E2E_USER" --ttl 30m)"
  check "schemathesis on $backend" schemathesis "$backend"
  check "Swagger UI in Chromium on $backend" swagger_ui "$backend"
  stop_server
}

against sqlite "sqlite://$SCRATCH/todo.db"

PG_DB="todo_e2e_$(openssl rand -hex 8)"
if psql "$ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\""; then
  against postgres "$(printf '%s' "$ADMIN_URL" | sed -E "s#/[^/?]*([?].*)?\$#/$PG_DB\\1#")"
else
  echo "PostgreSQL at $ADMIN_URL (TEST_DATABASE_URL) is unreachable" >&2
  PG_DB=""
  failed+=("PostgreSQL")
fi
drop_database

# ---------------------------------------------------------------------------------------------
echo
echo "e2e took $((SECONDS - started)) s; artifacts in $ARTIFACTS/"
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
fi
echo "e2e: $passed passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
