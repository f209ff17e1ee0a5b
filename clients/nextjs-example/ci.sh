#!/usr/bin/env bash
# CI for the Next.js example: builds the API, installs the client and the example from their lock
# files (`npm ci`), builds the example for production (`next build`), then runs the browser test
# (e2e/app.test.mjs, playwright-core driving Debian's Chromium) against `next start` and the API,
# wired with Better Auth's JWKS and CORS on free ports. Screenshots go to artifacts/nextjs-example.
# Needs cargo, Node 20+, npm, and Chromium at /usr/bin/chromium (installed with apt-get if
# missing; no browser is ever downloaded by a tool). Run from anywhere:
#
#   bash clients/nextjs-example/ci.sh
set -euo pipefail

example_dir="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(cd "$example_dir/../.." && pwd)"
cd "$repo_root"
CHROMIUM="${E2E_CHROMIUM:-/usr/bin/chromium}"
export NEXT_TELEMETRY_DISABLED=1

step() { printf '\n==> %s (%s s)\n' "$*" "$SECONDS"; }

step "Build the API"
cargo build --locked --quiet --bin todo-api
target_dir="$(cargo metadata --locked --format-version 1 --no-deps |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).target_directory))')"
export TODO_API_BIN="$target_dir/debug/todo-api"

step "Chromium"
if [ ! -x "$CHROMIUM" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
"$CHROMIUM" --version
export E2E_CHROMIUM="$CHROMIUM"

step "npm ci: the client (the example installs a packed copy of it, built by its prepare script)"
if [ ! -d clients/typescript/node_modules ]; then
  npm ci --prefix clients/typescript --no-audit --no-fund
fi

step "npm ci: the example (better-sqlite3 is compiled here)"
npm ci --prefix "$example_dir" --no-audit --no-fund

step "next build"
(cd "$example_dir" && node_modules/.bin/next build)

step "The example in Chromium, against the production build and the API"
mkdir -p artifacts/nextjs-example
(cd "$example_dir" && E2E_ARTIFACTS="$repo_root/artifacts/nextjs-example" node --test --test-timeout=300000 e2e/)

echo
echo "Next.js example CI passed ($SECONDS s)"
