#!/usr/bin/env bash
# CI for the TypeScript client: builds the server, starts it on a free port with a throwaway
# SQLite database and a shared secret, mints two users' tokens, then runs `npm ci`, the
# generated-types staleness check, `tsc --strict` (library and type test) and the Node tests
# against it. Stops the server on any exit. Needs cargo, Node 20+ and npm; run from anywhere:
#
#   bash clients/typescript/ci.sh
set -euo pipefail

client_dir="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(cd "$client_dir/../.." && pwd)"
cd "$repo_root"

step() { printf '\n==> %s\n' "$*"; }
fail() {
  echo "error: $*" >&2
  exit 1
}

command -v node >/dev/null || fail "node is not installed (Node 20 or newer is needed)"
command -v npm >/dev/null || fail "npm is not installed"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || fail "Node $(node --version) is too old: Node 20 or newer is needed"

work="$(mktemp -d)"
log="$work/server.log"
server_pid=""
cleanup() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -s "${log:-}" ]; then
    echo "--- last lines of the server log ---" >&2
    tail -n 40 "$log" >&2
  fi
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "Build the server"
cargo build --locked --quiet
target_dir="$(cargo metadata --locked --format-version 1 --no-deps |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).target_directory))')"
server="$target_dir/debug/todo-api"
[ -x "$server" ] || fail "the server binary is not at $server"

# Every run has its own secret and database; both are gone when the script ends.
export BETTER_AUTH_SECRET="ci-$(node -p 'require("node:crypto").randomBytes(32).toString("hex")')"
unset BETTER_AUTH_URL

step "Start the server (SQLite in $work)"
(
  cd "$work"
  exec env DATABASE_URL="sqlite://$work/todo.db" HOST=127.0.0.1 PORT=0 \
    RUST_LOG=info NO_COLOR=1 "$server" serve
) >"$log" 2>&1 &
server_pid=$!

# PORT=0: the server binds a free port and logs the address it listens on.
base_url=""
for _ in $(seq 1 300); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    fail "the server exited during start-up"
  fi
  base_url="$(grep -oE 'listening on http://[^ ]+' "$log" | head -n1 | sed 's/^listening on //' || true)"
  [ -n "$base_url" ] && break
  sleep 0.1
done
[ -n "$base_url" ] || fail "the server did not report its address within 30 s"

ready=""
for _ in $(seq 1 300); do
  if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' \
    "$base_url/ready"; then
    ready=yes
    break
  fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$ready" ] || fail "the server at $base_url did not become ready"
echo "server ready at $base_url"

step "Mint tokens for alice and bob"
TODO_API_URL="$base_url"
TODO_API_TOKEN_ALICE="$(cd "$work" && "$server" token --sub alice --ttl 1h)"
TODO_API_TOKEN_BOB="$(cd "$work" && "$server" token --sub bob --ttl 1h)"
TODO_API_BIN="$server"
export TODO_API_URL TODO_API_TOKEN_ALICE TODO_API_TOKEN_BOB TODO_API_BIN

cd "$client_dir"

step "npm ci"
npm ci --no-audit --no-fund

step "Generated types match openapi.yaml (npm run check)"
if ! npm run --silent check; then
  fail "src/schema.ts is stale: run 'npm run generate' in clients/typescript and commit it"
fi

step "tsc --strict: the library and the type test (npm run typecheck)"
npm run --silent typecheck

step "Node tests against the live server (npm test)"
npm test

step "npm pack: the tarball installs in a fresh project; both entry points load in Node and type-check"
pack_dir="$work/pack"
mkdir -p "$pack_dir"
tarball="$(npm pack --pack-destination "$pack_dir" --silent | tail -n1)"
tar -tzf "$pack_dir/$tarball" > "$work/pack-files"
for f in package/dist/index.js package/dist/index.d.ts package/dist/react/index.js package/dist/react/index.d.ts; do
  grep -qx "$f" "$work/pack-files" || fail "the tarball lacks $f"
done
if grep -q '^package/test/' "$work/pack-files"; then fail "the tarball holds the tests"; fi
(
  cd "$pack_dir"
  printf '{ "name": "pack-check", "private": true, "type": "module" }\n' > package.json
  npm install --no-audit --no-fund --prefer-offline --loglevel=error "./$tarball" \
    react@19 @tanstack/react-query@5 openapi-react-query@0.5 typescript@5 @types/react@19
  cat > check.ts <<'TS'
import { createTodoClient, fieldErrors, isProblemOf, subscribe, sync, type Task } from "@todo-api/client";
import { TodoProvider, useLiveTasks, useTasks, createTaskMutation } from "@todo-api/client/react";

declare const process: { env: Record<string, string | undefined> };

const todo = createTodoClient({ baseUrl: process.env.TODO_API_URL ?? "", getToken: () => process.env.TODO_API_TOKEN_ALICE });
const health = await todo.GET("/health");
if (health.data?.status !== "ok") throw new Error("GET /health through the packed client failed");
const first: Task | undefined = undefined;
void [first, fieldErrors, isProblemOf, subscribe, sync, TodoProvider, useLiveTasks, useTasks, createTaskMutation];
console.log("the packed client works:", typeof subscribe, typeof useTasks);
TS
  # The package's declarations are checked too (no --skipLibCheck).
  node_modules/.bin/tsc --strict --module nodenext --moduleResolution nodenext --target es2022 \
    --lib es2022,dom --types react --outDir out check.ts
  node out/check.js
)

echo
echo "TypeScript client CI passed"
