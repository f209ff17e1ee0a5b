#!/usr/bin/env bash
# The benchmark: builds the release binary, serves it on PostgreSQL and on SQLite (WAL), seeds
# 100 users x 50 tasks through the API, drives each workload with wrk at 32 and 64 connections,
# measures the database's own ceiling with pgbench running the same SQL with the same number of
# connections (ceiling a) and the cheapest SQL for the same answer (ceiling b), runs an open loop
# with oha at 50 and 80 % of the closed-loop maximum, and prints Markdown tables: every run, a
# summary with the API/ceiling ratios, the open loop, peak RSS, cold start, and a verdict for
# each target of issues 8 and 18.
#
# Usage: bench/run.sh                  (full run: 15 s per measurement, each twice)
#        BENCH_QUICK=1 bench/run.sh    (3 s, once: for working on the script)
# Settings (environment):
#   BENCH_SECONDS      measured seconds per run (15; quick 3)
#   BENCH_WARMUP       warm-up seconds before each run, discarded (5; quick 1)
#   BENCH_RUNS         runs per workload and connection count (2; quick 1)
#   BENCH_COLD_STARTS  cold starts measured per store, the median is reported (7; quick 3)
#   BENCH_CONNECTIONS  connection counts ("32 64")
#   BENCH_STORES       stores ("postgres sqlite")
#   BENCH_WORKLOADS    workloads ("list_one list_many get toggle create unauthorized lists
#                      subtasks move feed mcp events"; the last six are issue 18's target 6,
#                      HS256 only; `events` is not a wrk workload but sync-load's write-to-event
#                      delay with BENCH_EVENTS_STREAMS streams open, once per store)
#   BENCH_NEW_RUNS     runs of the target-6 workloads (lists … mcp) per connection count (1;
#                      they add ~7 minutes to a full run with one run each)
#   BENCH_EVENTS_STREAMS, BENCH_EVENTS_RATE  the `events` measurement: streams held open (200)
#                      and writes a second (200), for BENCH_SECONDS, after BENCH_WARMUP
#   BENCH_SYNC_LOAD    the sync-load binary for `events` (default: beside the server binary;
#                      `cargo build --release` builds it); without one, `events` is skipped
#   BENCH_BASELINE_BIN an older release binary: list_one, get, create and toggle are also measured
#                      (its own database, seeded alike, HS256, after the rest of each store), and
#                      the summary prints this binary's throughput as a ratio of the baseline's
#   BENCH_AUTH         auth modes ("hs256 eddsa"): HS256 tokens minted by the server's `token`
#                      command; EdDSA (Ed25519) tokens signed with openssl and verified through a
#                      JWKS served on 127.0.0.1, as Better Auth's JWT plugin does. One server
#                      accepts both, and every run measures them back to back.
#   BENCH_EDDSA_WORKLOADS  workloads also run with EdDSA tokens ("list_one list_many
#                      unauthorized": a forged EdDSA token is verified on every request)
#   BENCH_OPEN_WORKLOADS  workloads also measured in an open loop ("list_one get create toggle";
#                      empty: none): oha sends them at a constant rate, BENCH_OPEN_LOADS percent
#                      ("50 80") of the maximum the same oha processes reach in a closed loop
#                      right before (wrk's is printed beside it), with latency corrected for
#                      coordinated omission, for BENCH_SECONDS each, on as many connections as
#                      the largest of BENCH_CONNECTIONS, through BENCH_OPEN_READ_PROCS oha
#                      processes for reads (4) and BENCH_OPEN_PROCS for writes (32), each for its
#                      own user (one user's writes run one after another: 8 users could not
#                      reach half the rate of the closed loop's 100 on PostgreSQL)
#   BENCH_PG_URL       PostgreSQL server, without a database (postgres://postgres@127.0.0.1:5432);
#                      the script creates a fresh database there and drops it at the end
#   BENCH_DB_PREFIX    the name of that database, before "_<pid>" (todo_bench)
#   BENCH_THREADS      wrk and pgbench threads (2)
#   BENCH_PORT         port for the server (default: the first free one from 18080)
#   BENCH_BIN          a release binary to measure instead of building one (e.g. to compare
#                      two commits)
#   BENCH_KEEP=1       keep the work directory (server logs, raw results) and the database
# Needs: cargo, curl, wrk, oha (cargo install), pgbench, psql, openssl and python3 (installed
# from Debian when missing; python3 serves the JWKS and merges oha's results), a PostgreSQL
# server at BENCH_PG_URL (a local Debian cluster is started when it is not running).
# Benchmarks print figures; they are never part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=bench/lib.sh
. bench/lib.sh

if [[ ${BENCH_QUICK:-0} == 1 ]]; then
  seconds=${BENCH_SECONDS:-3} warmup=${BENCH_WARMUP:-1} runs=${BENCH_RUNS:-1}
  cold_starts=${BENCH_COLD_STARTS:-3}
else
  seconds=${BENCH_SECONDS:-15} warmup=${BENCH_WARMUP:-5} runs=${BENCH_RUNS:-2}
  cold_starts=${BENCH_COLD_STARTS:-7}
fi
connections=${BENCH_CONNECTIONS:-32 64}
stores=${BENCH_STORES:-postgres sqlite}
workloads=${BENCH_WORKLOADS:-list_one list_many get toggle create unauthorized lists subtasks move feed mcp events}
# Issue 18's target 6: the new features' workloads (HS256 only; one run each by default).
new_workloads="lists subtasks move feed mcp"
new_runs=${BENCH_NEW_RUNS:-1}
events_streams=${BENCH_EVENTS_STREAMS:-200}
events_rate=${BENCH_EVENTS_RATE:-200}
baseline_workloads="list_one get create toggle"
auth_modes=${BENCH_AUTH:-hs256 eddsa}
eddsa_workloads=${BENCH_EDDSA_WORKLOADS:-list_one list_many unauthorized}
open_workloads=${BENCH_OPEN_WORKLOADS-list_one get create toggle}
open_loads=${BENCH_OPEN_LOADS:-50 80}
open_procs=${BENCH_OPEN_PROCS:-32}
open_read_procs=${BENCH_OPEN_READ_PROCS:-4}
open_conns=${connections##* }
pg_url=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
pg_url=${pg_url%/}
threads=${BENCH_THREADS:-2}
users=100
tasks_per_user=50
# User ids are digits, so that pgbench (which computes only numbers) can pick a user per
# transaction and bind the very text the server binds: readers own the seeded tasks, writers
# are the users of the create workload (so creates never change what a list returns).
reader_base=10000
writer_base=20000
# Target 6 (lists, subtasks, moves) on users of their own, so that the readers' 50 top-level
# inbox tasks, and the figures of the older workloads, stay as they were: organizers own
# $lists_per_org lists, each with $parents_per_list top-level tasks of $subtasks_per_parent
# subtasks each (only read); movers own $tasks_per_mover inbox tasks (only moved).
org_base=30000
orgs=20
lists_per_org=3
parents_per_list=2
subtasks_per_parent=4
mover_base=40000
movers=20
tasks_per_mover=10

# The body of the create workload (`create_body`, bench/lib.sh) gives every nullable column a
# value, so that pgbench can bind exactly the parameters the server binds (pgbench cannot bind
# NULL). What the server binds for that body (src/store/row.rs: Encoded), in bench/sql/create.sql's
# variables. :now stands for the server's clock.
create_vars=(
  -D "title=Pay the rent"
  -D "description=Transfer it to the landlord before the 1st"
  -D "priority=2"
  -D "due_at=2027-01-01T08:00:00Z"
  -D "due_offset=3600"
  -D "remind_at=2026-12-31T09:00:00Z"
  -D 'recurrence={"frequency":"monthly","interval":1}'
  -D "occurrence=1"
  -D "anchor_day=1"
  -D "title_key=pay the rent"
  -D "search_text=pay the rent"$'\n'"transfer it to the landlord before the 1st"
  -D "now=2026-06-01T12:00:00.123456Z"
  -D "revisions=1"
  -D "tags=[]"
  -D "max_tasks=10000"
  -D "no_task=0"
  -D "inbox=0"
  -D "top_level=0"
)
# The page size the server asks for by default, plus one (src/http/listing.rs: DEFAULT_LIMIT).
list_limit=501

# ---------------------------------------------------------------------------------------------
# Tools

command -v cargo >/dev/null 2>&1 || die "cargo is needed (https://rustup.rs)"
need curl
need wrk
# oha (open loop): from crates.io.
if [[ -n $open_workloads ]] && ! command -v oha >/dev/null 2>&1; then
  say "installing oha from crates.io (cargo install)"
  cargo install oha --locked --quiet
fi
# Debian ships pgbench with the server package.
if ! command -v pgbench >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
  apt_install postgresql
fi
for auth in $auth_modes; do
  case $auth in
    hs256) ;;
    eddsa)
      need openssl
      need python3 ;;
    *) die "unknown auth mode $auth (BENCH_AUTH: hs256, eddsa)" ;;
  esac
done
has_auth() { [[ " $auth_modes " == *" $1 "* ]]; }

pg_host_port=${pg_url#*://}
pg_host_port=${pg_host_port#*@}
pg_host=${pg_host_port%%:*}
pg_port=${pg_host_port##*:}
[[ $pg_port == "$pg_host_port" ]] && pg_port=5432
if [[ " $stores " == *" postgres "* ]] && ! pg_isready -h "$pg_host" -p "$pg_port" -q; then
  if [[ $pg_host == 127.0.0.1 || $pg_host == localhost ]] && command -v pg_ctlcluster >/dev/null; then
    say "starting the local PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 30); do pg_isready -h "$pg_host" -p "$pg_port" -q && break; sleep 1; done
  fi
  pg_isready -h "$pg_host" -p "$pg_port" -q || die "PostgreSQL is not reachable at $pg_url (BENCH_PG_URL)"
fi

# ---------------------------------------------------------------------------------------------
# Build

release_binary
baseline_bin=${BENCH_BASELINE_BIN:-}
[[ -z $baseline_bin || -x $baseline_bin ]] || die "no binary at $baseline_bin (BENCH_BASELINE_BIN)"
has_workload() { [[ " $workloads " == *" $1 "* ]]; }
sync_load=${BENCH_SYNC_LOAD:-$(dirname "$bin")/sync-load}
if has_workload events && [[ ! -x $sync_load ]]; then
  say "WARNING: no sync-load binary at $sync_load (BENCH_SYNC_LOAD): the events workload is skipped"
  sync_load=
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/todo-bench.XXXXXX")
results=$work/results.tsv
facts=$work/facts.tsv
open=$work/open.tsv
events=$work/events.tsv
baseline=$work/baseline.tsv
: >"$events"
: >"$baseline"
: >"$results"
: >"$facts"
: >"$open"
server_pid=
jwks_pid=
pg_db=
base_db=
cleanup() {
  set +e
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [[ -n $jwks_pid ]] && kill "$jwks_pid" 2>/dev/null && wait "$jwks_pid" 2>/dev/null
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    say "kept $work${pg_db:+ and the database $pg_db}"
  else
    [[ -n $pg_db ]] && psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1
    [[ -n $base_db ]] && psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS $base_db" >/dev/null 2>&1
    rm -rf "$work"
  fi
}
trap cleanup EXIT

port=${BENCH_PORT:-$(free_port 18080)}
base=http://127.0.0.1:$port

secret=$(new_secret)
forged_secret=$(new_secret)

# ---------------------------------------------------------------------------------------------
# EdDSA: a Better Auth stand-in. An Ed25519 key, its JWKS served over HTTP by python3, and
# tokens shaped like the JWT plugin's (header alg EdDSA + kid; claims sub, iss, aud, iat, exp,
# with iss and aud the origin of BETTER_AUTH_URL, the plugin's defaults).

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

if has_auth eddsa; then
  mkdir -p "$work/jwks"
  openssl genpkey -algorithm ed25519 -out "$work/jwks/key.pem" 2>/dev/null
  jwks_x=$(openssl pkey -in "$work/jwks/key.pem" -pubout -outform DER | tail -c 32 | b64url)
  printf '{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"bench-ed25519","x":"%s"}]}\n' \
    "$jwks_x" >"$work/jwks/jwks.json"
  jwks_port=$(free_port $(( port + 1 )))
  python3 -m http.server --bind 127.0.0.1 --directory "$work/jwks" "$jwks_port" >"$work/jwks.log" 2>&1 &
  jwks_pid=$!
  auth_origin=http://127.0.0.1:$jwks_port
  for _ in $(seq 1 50); do
    curl -sf "$auth_origin/jwks.json" >/dev/null && break
    sleep 0.1
  done
  curl -sf "$auth_origin/jwks.json" >/dev/null || die "the JWKS server did not start; see $work/jwks.log"
  # The forged EdDSA token: the right kid, signed with another key.
  openssl genpkey -algorithm ed25519 -out "$work/forged.pem" 2>/dev/null
fi

# Prints an EdDSA token for user $1, signed with the key in $2 (default: the published one).
mint_eddsa() {
  local now header payload signature
  now=$(date +%s)
  header=$(printf '{"alg":"EdDSA","kid":"bench-ed25519","typ":"JWT"}' | b64url)
  payload=$(printf '{"sub":"%s","iss":"%s","aud":"%s","iat":%d,"exp":%d}' \
    "$1" "$auth_origin" "$auth_origin" "$now" $(( now + 86400 )) | b64url)
  # Ed25519 signs the whole message at once: openssl needs it in a file, not a pipe.
  printf '%s.%s' "$header" "$payload" >"$work/signing-input"
  signature=$(openssl pkeyutl -sign -inkey "${2:-$work/jwks/key.pem}" -rawin \
    -in "$work/signing-input" | b64url)
  [[ -n $signature ]] || die "openssl could not sign an EdDSA token"
  printf '%s.%s.%s\n' "$header" "$payload" "$signature"
}

# ---------------------------------------------------------------------------------------------
# The server

# Starts the server on $1 (a DATABASE_URL), logging to $2, accepting HS256 tokens and, when $3
# is "eddsa", also the JWKS's EdDSA tokens. Sets server_pid.
start_server() {
  local jwks_env=()
  [[ ${3:-} == eddsa ]] && jwks_env=(BETTER_AUTH_URL="$auth_origin" AUTH_JWKS_URL="$auth_origin/jwks.json")
  # MAX_TASKS_PER_USER: the writers create tens of thousands of tasks each in a full run (a
  # quota's 403 would be counted as a fast error).
  env DATABASE_URL="$1" BETTER_AUTH_SECRET="$secret" HOST=127.0.0.1 PORT="$port" "${jwks_env[@]}" \
    MAX_TASKS_PER_USER=100000000 \
    "$bin" serve >>"$2" 2>&1 &
  server_pid=$!
}

# Succeeds when GET /ready answers 200. Plain bash (/dev/tcp): no process to start per probe.
probe_ready() {
  local status=
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  printf 'GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 2>/dev/null
  IFS= read -r -t 5 status <&3 || true
  exec 3<&- 3>&-
  [[ $status == "HTTP/1.1 200"* ]]
}

# A file descriptor to wait on with `read -t`: sub-millisecond sleeps without a process.
exec {idle_fd}<> <(:)
# Waits until the server is ready (at most 30 s); prints the microseconds since $1.
wait_ready() {
  local started=$1 deadline=$(( $(now_us) + 30000000 ))
  until probe_ready; do
    kill -0 "$server_pid" 2>/dev/null || die "the server exited; see its log in $work"
    (( $(now_us) < deadline )) || die "the server was not ready within 30 s"
    read -r -t 0.001 -u "$idle_fd" || true
  done
  echo $(( $(now_us) - started ))
}

# Cold start: process start to the first 200 on /ready, migrations already applied. Prints the
# median over BENCH_COLD_STARTS starts, in milliseconds. $3 is the auth mode: with eddsa the
# server fetches the JWKS before it is ready.
cold_start() {
  local url=$1 log=$2 mode=$3 samples=() started
  for _ in $(seq 1 "$cold_starts"); do
    started=$(now_us)
    start_server "$url" "$log" "$mode"
    samples+=("$(wait_ready "$started")")
    stop_server
  done
  printf '%s\n' "${samples[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }'
}

# ---------------------------------------------------------------------------------------------
# Data: tokens minted by the server's own `token` command, tasks created through the API


# Creates $tasks_per_user tasks with two tags each for each reader, then reads each reader's
# list back and checks it holds them all. Writes $work/ids/N (the task ids, newest first).
seed() {
  local config=$work/seed.curl k j out
  local priorities=(low medium high)
  : >"$config"
  for k in $(seq 1 "$users"); do
    for j in $(seq 1 "$tasks_per_user"); do
      printf 'url = "%s/api/%d/tasks"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"title\\":\\"Task %d of user %d\\",\\"description\\":\\"Seeded by bench/run.sh\\",\\"priority\\":\\"%s\\",\\"tags\\":[\\"bench\\",\\"batch-%d\\"]}"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nsilent\nshow-error\nnext\n' \
        "$base" "$(( reader_base + k ))" "${tok[hs256:reader:$k]}" "$j" "$k" "${priorities[j % 3]}" "$(( j % 5 ))" >>"$config"
    done
  done
  sed -i '$d' "$config" # no `next` after the last transfer
  out=$(curl -K "$config")
  [[ $(grep -c '^201$' <<<"$out") == $(( users * tasks_per_user )) ]] \
    || die "seeding failed: $(sort <<<"$out" | uniq -c | tr '\n' ' ')"
  mkdir -p "$work/lists" "$work/ids"
  : >"$config"
  for k in $(seq 1 "$users"); do
    printf 'url = "%s/api/%d/tasks"\nheader = "Authorization: Bearer %s"\noutput = "%s/lists/%d.json"\nsilent\nshow-error\nfail\nnext\n' \
      "$base" "$(( reader_base + k ))" "${tok[hs256:reader:$k]}" "$work" "$k" >>"$config"
  done
  sed -i '$d' "$config"
  curl -K "$config"
  for k in $(seq 1 "$users"); do
    grep -o '"id":[0-9]*' "$work/lists/$k.json" | cut -d: -f2 >"$work/ids/$k"
  done
  for k in $(seq 1 "$users"); do
    [[ $(wc -l <"$work/ids/$k") == "$tasks_per_user" && $(grep -o '"tags":\["bench","batch-[0-4]"\]' "$work/lists/$k.json" | wc -l) == "$tasks_per_user" ]] \
      || die "reader $k does not list the $tasks_per_user tagged tasks just created"
  done
}

# One transfer of a curl config (for curl -K): method $1, path $2, token $3, JSON body $4 (or
# empty), the answer's body to file $5 (default: discarded); the status goes to stdout.
transfer() {
  local body=${4//\\/\\\\}
  body=${body//\"/\\\"}
  printf 'url = "%s%s"\nrequest = "%s"\nheader = "Authorization: Bearer %s"\n' "$base" "$2" "$1" "$3"
  [[ -n $4 ]] && printf 'header = "Content-Type: application/json"\ndata = "%s"\n' "$body"
  printf 'output = "%s"\nwrite-out = "%%{http_code}\\n"\nsilent\nshow-error\nnext\n' "${5:-/dev/null}"
}

# Runs the transfers of curl config $1, one after another on one connection, and dies unless
# every one answered status $2 ($3 says what they were doing).
run_batch() {
  local out
  sed -i '$d' "$1" # no `next` after the last transfer
  out=$(curl -K "$1")
  [[ -z $(grep -v "^$2\$" <<<"$out") ]] || die "$3 failed: $(sort <<<"$out" | uniq -c | tr '\n' ' ')"
}

# The first "id" of a JSON answer (a task's or a list's own id: list_id and parent_id differ).
first_id() { grep -o '"id":[0-9]*' "$1" | head -n1 | cut -d: -f2; }

# Target 6's data, through the API: each organizer's lists, their top-level tasks and those
# tasks' subtasks; each mover's inbox tasks. Then reads the organizers' lists back and checks
# their counts, and the subtasks of every parent. Writes $work/parents/N and $work/moves/N (ids).
seed_new() {
  local config=$work/seed-new.curl dir=$work/new k l p j id out
  local per_list=$(( parents_per_list * (1 + subtasks_per_parent) ))
  mkdir -p "$dir" "$work/parents" "$work/moves"
  : >"$config"
  for k in $(seq 1 "$orgs"); do
    for l in $(seq 1 "$lists_per_org"); do
      transfer POST "/api/$(( org_base + k ))/lists" "${tok[hs256:org:$k]}" \
        "{\"name\":\"List $l\",\"color\":\"#00aa0$l\"}" "$dir/list-$k-$l.json" >>"$config"
    done
  done
  for k in $(seq 1 "$movers"); do
    for j in $(seq 1 "$tasks_per_mover"); do
      transfer POST "/api/$(( mover_base + k ))/tasks" "${tok[hs256:mover:$k]}" \
        "{\"title\":\"Card $j of mover $k\"}" "$dir/mover-$k-$j.json" >>"$config"
    done
  done
  run_batch "$config" 201 "seeding the organizers' lists and the movers' tasks"
  : >"$config"
  for k in $(seq 1 "$orgs"); do
    for l in $(seq 1 "$lists_per_org"); do
      id=$(first_id "$dir/list-$k-$l.json")
      for p in $(seq 1 "$parents_per_list"); do
        transfer POST "/api/$(( org_base + k ))/tasks" "${tok[hs256:org:$k]}" \
          "{\"title\":\"Project $p of list $l\",\"list_id\":$id,\"tags\":[\"bench\"]}" "$dir/parent-$k-$l-$p.json" >>"$config"
      done
    done
  done
  run_batch "$config" 201 "seeding the organizers' top-level tasks"
  : >"$config"
  for k in $(seq 1 "$orgs"); do
    : >"$work/parents/$k"
    for l in $(seq 1 "$lists_per_org"); do
      for p in $(seq 1 "$parents_per_list"); do
        id=$(first_id "$dir/parent-$k-$l-$p.json")
        echo "$id" >>"$work/parents/$k"
        for j in $(seq 1 "$subtasks_per_parent"); do
          transfer POST "/api/$(( org_base + k ))/tasks" "${tok[hs256:org:$k]}" \
            "{\"title\":\"Step $j of project $p\",\"parent_id\":$id}" >>"$config"
        done
      done
    done
  done
  run_batch "$config" 201 "seeding the subtasks"
  for k in $(seq 1 "$movers"); do
    for j in $(seq 1 "$tasks_per_mover"); do first_id "$dir/mover-$k-$j.json"; done >"$work/moves/$k"
  done
  # Read back: every list holds its tasks, every parent its subtasks.
  : >"$config"
  for k in $(seq 1 "$orgs"); do
    transfer GET "/api/$(( org_base + k ))/lists" "${tok[hs256:org:$k]}" "" "$dir/lists-$k.json" >>"$config"
    while read -r id; do
      transfer GET "/api/$(( org_base + k ))/tasks?parent_id=$id&sort=position" "${tok[hs256:org:$k]}" "" "$dir/children-$id.json" >>"$config"
    done <"$work/parents/$k"
  done
  run_batch "$config" 200 "reading the organizers' lists back"
  for k in $(seq 1 "$orgs"); do
    out=$(grep -o '"task_count":[0-9]*' "$dir/lists-$k.json" | cut -d: -f2 | sort -u | paste -sd,)
    [[ $(grep -o '"task_count":' "$dir/lists-$k.json" | wc -l) == "$lists_per_org" && $out == "$per_list" ]] \
      || die "organizer $k does not have $lists_per_org lists of $per_list tasks (task_count $out)"
    while read -r id; do
      [[ $(grep -o "\"parent_id\":$id\b" "$dir/children-$id.json" | wc -l) == "$subtasks_per_parent" ]] \
        || die "task $id of organizer $k does not list its $subtasks_per_parent subtasks"
    done <"$work/parents/$k"
  done
}

# The body of the mcp workload: a JSON-RPC tools/call of list_tasks (the caller's tasks).
mcp_body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_tasks","arguments":{}}}'

# Checks once, with curl, what wrk cannot: that the mcp workload's call is answered with a
# tool result (not a JSON-RPC error, not `isError`) holding the reader's tasks.
check_mcp() {
  local out
  out=$(curl -sS -X POST "$base/mcp" -H "Authorization: Bearer ${tok[hs256:reader:1]}" \
    -H "Content-Type: application/json" -H "Accept: application/json, text/event-stream" \
    -d "$mcp_body" -w '\n%{http_code}')
  python3 -c '
import json, sys
body, status = sys.stdin.read().rstrip("\n").rsplit("\n", 1)
assert status.strip() == "200", f"status {status}"
answer = json.loads(body)
assert "error" not in answer and "result" in answer, "not a JSON-RPC result"
result = answer["result"]
assert not result.get("isError"), "isError"
tasks = (result.get("structuredContent") or {}).get("tasks")
if tasks is None:
    tasks = json.loads(result["content"][0]["text"])["tasks"]
assert len(tasks) == int(sys.argv[1]), f"{len(tasks)} tasks"
' "$tasks_per_user" <<<"$out" || die "the mcp workload's call is not answered with the reader's tasks: $(head -c 600 <<<"$out")"
}

# The event stream (workload `events`): sync-load opens $events_streams streams (one user each,
# users of its own) on the server, creates tasks through it at $events_rate a second for $1
# seconds, and measures the delay from each write to its event (from the task's updated_at,
# taken before the commit: an upper bound). Prints "streams writes_per_s p50_ms p90_ms p99_ms
# max_ms write_errors missing_events".
run_events() {
  local out
  out=$("$sync_load" latency --streams-base "$base" --writes-base "$base" --secret "$secret" \
    --streams "$events_streams" --rate "$events_rate" --seconds "$1" 2>&1) || die "sync-load failed: $out"
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])
v = lambda k: "-" if r.get(k) is None else r[k]
print(r["streams"], v("writes_per_second"), v("p50_ms"), v("p90_ms"), v("p99_ms"), v("max_ms"), r["write_errors"], r["missing_events"])
' "$(tail -n1 <<<"$out")" || die "sync-load printed no result: $out"
}

# The Lua data file of the wrk scripts for auth mode $1: the same users with that mode's tokens.
write_wrk_data() {
  local auth=$1 k
  {
    echo "return {"
    echo "  users = {"
    for k in $(seq 1 "$users"); do
      printf '    { name = "%d", token = "%s", ids = { %s } },\n' \
        "$(( reader_base + k ))" "${tok[$auth:reader:$k]}" "$(paste -sd, "$work/ids/$k")"
    done
    echo "  },"
    echo "  writers = {"
    for k in $(seq 1 "$users"); do
      printf '    { name = "%d", token = "%s" },\n' "$(( writer_base + k ))" "${tok[$auth:writer:$k]}"
    done
    echo "  },"
    echo "  organizers = {"
    for k in $(seq 1 "$orgs"); do
      printf '    { name = "%d", token = "%s", parents = { %s } },\n' \
        "$(( org_base + k ))" "${tok[$auth:org:$k]}" "$(paste -sd, "$work/parents/$k")"
    done
    echo "  },"
    echo "  movers = {"
    for k in $(seq 1 "$movers"); do
      printf '    { name = "%d", token = "%s", ids = { %s } },\n' \
        "$(( mover_base + k ))" "${tok[$auth:mover:$k]}" "$(paste -sd, "$work/moves/$k")"
    done
    echo "  },"
    printf '  mcp_body = [[%s]],\n' "$mcp_body"
    printf '  forged_token = "%s",\n' "${tok[$auth:forged]}"
    printf '  create_body = [[%s]],\n' "$create_body"
    echo "}"
  } >"$work/data-$auth.lua"
}

# ---------------------------------------------------------------------------------------------
# Load

# wrk with the tokens of auth mode $4: prints "rps p50_us p99_us errors".
run_wrk() {
  local workload=$1 conns=$2 secs=$3 auth=$4 out line
  out=$(BENCH_DATA=$work/data-$auth.lua BENCH_WRK=$root/bench/wrk \
    wrk -t "$threads" -c "$conns" -d "${secs}s" --timeout 10s \
    -s "$root/bench/wrk/$workload.lua" "$base" 2>&1) || die "wrk failed: $out"
  line=$(sed -n 's/^BENCH_RESULT //p' <<<"$out")
  [[ -n $line ]] || die "wrk printed no result: $out"
  field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$line"; }
  echo "$(field rps) $(field p50_us) $(field p99_us) $(field errors)"
}

# pgbench: prints "tps p50_us p99_us failed" (latencies from pgbench's per-transaction log), or
# "- - - -" for workloads without a ceiling. $4 is the ceiling: "same" (default), the SQL the
# server sends (bench/sql/list.sql, create.sql), or "cheapest", the cheapest SQL that answers
# the same request (bench/sql/list_index.sql, create_plain.sql).
run_pgbench() {
  local workload=$1 conns=$2 secs=$3 ceiling=${4:-same} args out tps failed latencies
  local list_sql=$root/bench/sql/list.sql create_sql=$root/bench/sql/create.sql
  if [[ $ceiling == cheapest ]]; then
    list_sql=$root/bench/sql/list_index.sql create_sql=$root/bench/sql/create_plain.sql
  fi
  case $workload in
    list_one) args=(-D first_user=1 -D last_user=1 -f "$list_sql") ;;
    list_many) args=(-D first_user=1 -D "last_user=$users" -f "$list_sql") ;;
    create) args=("${create_vars[@]}" -f "$create_sql") ;;
    *) echo "- - - -"; return ;;
  esac
  rm -f "$work"/pgbench_log.*
  out=$(cd "$work" && pgbench -n -M prepared -c "$conns" -j "$threads" -T "$secs" -l \
    -D "user_base=$reader_base" -D "limit=$list_limit" \
    -D "writer_base=$writer_base" -D "writers=$users" "${args[@]}" "$pg_url/$pg_db" 2>&1) \
    || die "pgbench failed: $(tail -n 5 <<<"$out")"
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -n1)
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out" | head -n1)
  # The third field of each log line is the transaction's latency in microseconds.
  latencies=$(cat "$work"/pgbench_log.* | awk '{ print $3 }' | sort -n \
    | awk '{ v[NR] = $1 } END { if (NR) print v[int(NR * 0.5) + (NR * 0.5 > int(NR * 0.5))], v[int(NR * 0.99) + (NR * 0.99 > int(NR * 0.99))]; else print "- -" }')
  rm -f "$work"/pgbench_log.*
  echo "${tps:--} $latencies ${failed:-0}"
}

# The open loop: workload $1 at $2 requests/s in all for $3 seconds, with latency measured
# from when each request was due (oha --latency-correction: no coordinated omission); with $2
# "max", a closed loop instead: as fast as the same processes and connections go (the maximum
# the open loop is a share of). Reads are sent by $open_read_procs oha processes, writes by
# $open_procs, each as its own user (one user's writes queue for its lock), at an equal share
# of the rate; $open_conns connections in all, as the closed loop's largest count. Prints
# "rps p50_us p99_us errors": p50 the mean of the processes', p99 the worst process's.
run_open() {
  local workload=$1 rate=$2 secs=$3 p k uid procs conns ids out pids=()
  case $workload in list_one|get) procs=$open_read_procs ;; *) procs=$open_procs ;; esac
  conns=$(( open_conns / procs )); (( conns > 0 )) || conns=1
  for p in $(seq 1 "$procs"); do
    k=$(( (p * 13) % users + 1 ))
    local args=(--no-tui --output-format json -z "${secs}s" -w -c "$conns" -t 10s)
    if [[ $rate != max ]]; then
      args+=(-q "$(awk -v r="$rate" -v n="$procs" 'BEGIN { printf "%.1f", r / n }')" --latency-correction)
    fi
    case $workload in
      list_one) args+=(-H "Authorization: Bearer ${tok[hs256:reader:$k]}" "$base/api/$(( reader_base + k ))/tasks") ;;
      get|toggle)
        ids=$(paste -sd'|' "$work/ids/$k")
        uid=$(( reader_base + k ))
        args+=(-H "Authorization: Bearer ${tok[hs256:reader:$k]}" --rand-regex-url)
        if [[ $workload == get ]]; then
          args+=("$base/api/$uid/tasks/($ids)")
        else
          args+=(-m PATCH "$base/api/$uid/tasks/($ids)/complete")
        fi ;;
      create) args+=(-H "Authorization: Bearer ${tok[hs256:writer:$k]}" -m POST -T application/json \
        -d "$create_body" "$base/api/$(( writer_base + k ))/tasks") ;;
      *) die "no open loop for $workload" ;;
    esac
    TOKIO_WORKER_THREADS=1 oha "${args[@]}" >"$work/oha-$p.json" 2>"$work/oha-$p.err" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || die "oha failed: $(cat "$work"/oha-*.err)"; done
  python3 - "$work"/oha-*.json <<'PY'
import json, sys
runs = [json.load(open(path)) for path in sys.argv[1:]]
ok = errors = 0
for run in runs:
    for status, count in run["statusCodeDistribution"].items():
        if 200 <= int(status) < 400: ok += count
        else: errors += count
    errors += sum(run["errorDistribution"].values())
duration = max(run["summary"]["total"] for run in runs)
p50 = sum(run["latencyPercentiles"]["p50"] or 0 for run in runs) / len(runs)
p99 = max(run["latencyPercentiles"]["p99"] or 0 for run in runs)
print(f"{(ok + errors) / duration:.1f} {p50 * 1e6:.0f} {p99 * 1e6:.0f} {errors}")
PY
  rm -f "$work"/oha-*.json "$work"/oha-*.err
}

# Peak resident set size of the server so far (VmHWM), in MiB.
peak_rss_mib() {
  awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"
}

# ---------------------------------------------------------------------------------------------
# Run

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v one="${load_before%% *}" -v cpus="$(nproc)" 'BEGIN { exit !(one > 0.75 * cpus) }'; then
  say "WARNING: the 1-minute load is ${load_before%% *} on $(nproc) CPUs: other work will skew the figures"
fi
say "work directory: $work; port $port; ${seconds}s per run after ${warmup}s warm-up, $runs run(s)"

# Tokens by "mode:reader:k", "mode:writer:k" and "mode:forged". The HS256 ones are always
# minted: seeding uses them.
declare -A tok
say "minting tokens"
for k in $(seq 1 "$users"); do
  tok[hs256:reader:$k]=$(mint "$(( reader_base + k ))" "$secret")
  tok[hs256:writer:$k]=$(mint "$(( writer_base + k ))" "$secret")
  if has_auth eddsa; then
    tok[eddsa:reader:$k]=$(mint_eddsa "$(( reader_base + k ))")
    tok[eddsa:writer:$k]=$(mint_eddsa "$(( writer_base + k ))")
  fi
done
for k in $(seq 1 "$orgs"); do
  tok[hs256:org:$k]=$(mint "$(( org_base + k ))" "$secret")
  has_auth eddsa && tok[eddsa:org:$k]=$(mint_eddsa "$(( org_base + k ))")
done
for k in $(seq 1 "$movers"); do
  tok[hs256:mover:$k]=$(mint "$(( mover_base + k ))" "$secret")
  has_auth eddsa && tok[eddsa:mover:$k]=$(mint_eddsa "$(( mover_base + k ))")
done
tok[hs256:forged]=$(mint "$(( reader_base + 1 ))" "$forged_secret")
has_auth eddsa && tok[eddsa:forged]=$(mint_eddsa "$(( reader_base + 1 ))" "$work/forged.pem")
# The server accepts EdDSA tokens too when they are measured.
serve_mode=hs256
has_auth eddsa && serve_mode=eddsa

# Runs of workload $1 per connection count (the new features' workloads: BENCH_NEW_RUNS).
runs_of() {
  if [[ " $new_workloads " == *" $1 "* ]]; then echo "$new_runs"; else echo "$runs"; fi
}

# Whether auth mode $1 runs workload $2.
runs_workload() {
  case $1 in
    hs256) [[ " $workloads " == *" $2 "* ]] ;;
    eddsa) [[ " $workloads " == *" $2 "* && " $eddsa_workloads " == *" $2 "* ]] ;;
  esac
}

for store in $stores; do
  case $store in
    postgres)
      pg_db=${BENCH_DB_PREFIX:-todo_bench}_$$
      psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db" >/dev/null
      url=$pg_url/$pg_db ;;
    sqlite)
      url=sqlite://$work/bench.db ;;
    *) die "unknown store $store (BENCH_STORES: postgres, sqlite)" ;;
  esac
  log=$work/server-$store.log
  DATABASE_URL=$url BETTER_AUTH_SECRET=$secret "$bin" migrate >>"$log" 2>&1
  for auth in $auth_modes; do
    say "$store: $cold_starts cold starts ($auth), migrations applied"
    printf '%s\t%s\tcold_start_ms\t%s\n' "$store" "$auth" "$(cold_start "$url" "$log" "$auth")" >>"$facts"
  done

  start_server "$url" "$log" "$serve_mode"
  wait_ready "$(now_us)" >/dev/null
  say "$store: seeding $users users x $tasks_per_user tasks through the API"
  seed
  say "$store: seeding $orgs organizers ($lists_per_org lists, $(( lists_per_org * parents_per_list )) tasks with $subtasks_per_parent subtasks each) and $movers movers ($tasks_per_mover tasks)"
  seed_new
  has_workload mcp && check_mcp
  for auth in $auth_modes; do write_wrk_data "$auth"; done

  for conns in $connections; do
    for workload in $workloads; do
      [[ $workload == events ]] && continue
      for run in $(seq 1 "$(runs_of "$workload")"); do
        # Each auth mode back to back, so that their ratio is measured under the same load.
        measured=()
        for auth in $auth_modes; do
          runs_workload "$auth" "$workload" || continue
          say "$store $auth c=$conns $workload run $run/$(runs_of "$workload")"
          run_wrk "$workload" "$conns" "$warmup" "$auth" >/dev/null
          measured+=("$auth $(run_wrk "$workload" "$conns" "$seconds" "$auth")")
        done
        db="- - - -" cheap="- - - -"
        if [[ $store == postgres ]]; then
          db=$(run_pgbench "$workload" "$conns" "$warmup")
          if [[ $db != "- - - -" ]]; then
            db=$(run_pgbench "$workload" "$conns" "$seconds")
            run_pgbench "$workload" "$conns" "$warmup" cheapest >/dev/null
            cheap=$(run_pgbench "$workload" "$conns" "$seconds" cheapest)
          fi
        fi
        for line in "${measured[@]}"; do
          read -r auth api <<<"$line"
          printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$store" "$auth" "$conns" "$workload" "$run" \
            "${api// /$'\t'}" "${db// /$'\t'}" "${cheap// /$'\t'}" >>"$results"
        done
      done
    done
    printf '%s\t%s\tpeak_rss_mib_c%s\t%s\n' "$store" "-" "$conns" "$(peak_rss_mib)" >>"$facts"
  done

  # The open loop, at a share of the maximum oha reaches in a closed loop with the same
  # processes and connections (on 2 CPUs the load generator's own cost is part of what the
  # machine can serve; wrk's maximum, which costs less, is printed beside it).
  for workload in $open_workloads; do
    wrk_max=$(awk -F'\t' -v s="$store" -v w="$workload" '$1 == s && $2 == "hs256" && $4 == w && $6 > m { m = $6 } END { printf "%.0f", m }' "$results")
    say "$store open loop $workload: oha's closed-loop maximum"
    run_open "$workload" max "$warmup" >/dev/null
    read -r max _ <<<"$(run_open "$workload" max "$seconds")"
    max=${max%.*}
    (( max > 0 )) || { say "oha's closed loop answered no $workload request: no open loop"; continue; }
    for load in $open_loads; do
      rate=$(( max * load / 100 ))
      say "$store open loop $workload at $load% ($rate req/s of $max)"
      run_open "$workload" "$rate" "$warmup" >/dev/null
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$store" "$workload" "$load" "$rate" "$max" \
        "$(run_open "$workload" "$rate" "$seconds" | tr ' ' '\t')" "${wrk_max:-0}" >>"$open"
    done
  done
  printf '%s\t%s\tpeak_rss_mib\t%s\n' "$store" "-" "$(peak_rss_mib)" >>"$facts"

  # The event stream, after the peak RSS (its streams would add to it).
  if has_workload events && [[ -n $sync_load ]]; then
    say "$store events: $events_streams streams, $events_rate writes/s, ${warmup}s + ${seconds}s"
    run_events "$warmup" >/dev/null
    printf '%s\t%s\n' "$store" "$(run_events "$seconds" | tr ' ' '\t')" >>"$events"
  fi

  if [[ $store == postgres && " $workloads " == *" create "* ]]; then
    # pgbench must have inserted the very rows the server inserts (the writers' tasks; other
    # users' ids are not all numbers).
    distinct=$(psql "$url" -tAc "SELECT count(DISTINCT (title, description, priority, due_at, due_offset, remind_at, recurrence, occurrence, anchor_day, title_key, search_text)) FROM tasks WHERE CASE WHEN user_id ~ '^[0-9]{1,9}\$' THEN user_id::bigint BETWEEN $(( writer_base + 1 )) AND $(( writer_base + users )) ELSE FALSE END")
    [[ $distinct == 1 ]] || say "WARNING: pgbench and the server inserted different rows ($distinct variants)"
  fi
  stop_server
  if [[ $store == postgres && ${BENCH_KEEP:-0} != 1 ]]; then
    psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null
    pg_db=
  fi

  # The baseline binary: the same readers and writers on a database of its own, and the
  # workloads that existed before target 6, one run each (HS256).
  if [[ -n $baseline_bin ]]; then
    case $store in
      postgres)
        base_db=${BENCH_DB_PREFIX:-todo_bench}_base_$$
        psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS $base_db" -c "CREATE DATABASE $base_db" >/dev/null
        url=$pg_url/$base_db ;;
      sqlite) url=sqlite://$work/baseline.db ;;
    esac
    log=$work/server-$store-baseline.log
    measured_bin=$bin
    bin=$baseline_bin
    DATABASE_URL=$url BETTER_AUTH_SECRET=$secret "$bin" migrate >>"$log" 2>&1
    start_server "$url" "$log" hs256
    wait_ready "$(now_us)" >/dev/null
    say "$store baseline ($baseline_bin): seeding $users users x $tasks_per_user tasks"
    seed
    write_wrk_data hs256
    for conns in $connections; do
      for workload in $baseline_workloads; do
        has_workload "$workload" || continue
        say "$store baseline c=$conns $workload"
        run_wrk "$workload" "$conns" "$warmup" hs256 >/dev/null
        printf '%s\t%s\t%s\t%s\n' "$store" "$conns" "$workload" \
          "$(run_wrk "$workload" "$conns" "$seconds" hs256 | tr ' ' '\t')" >>"$baseline"
      done
    done
    stop_server
    bin=$measured_bin
    if [[ $store == postgres && ${BENCH_KEEP:-0} != 1 ]]; then
      psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS $base_db" >/dev/null
      base_db=
    fi
  fi
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
# Report

{
  echo
  echo "## todo-api benchmark"
  echo
  echo "- $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (modified)')"
  echo "- $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)); server, databases, wrk and pgbench share them"
  echo "- load average (1, 5, 15 min): $load_before before, $load_after after"
  echo "- $(psql "$pg_url/postgres" -tAc 'SHOW server_version' 2>/dev/null | sed 's/^/PostgreSQL /'), $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2)"
  echo "- ${seconds}s per run after ${warmup}s warm-up; $runs run(s) each; wrk and pgbench with $threads threads"
  echo
  echo "- load is the 1-minute load average: the machine is shared, compare figures of this run only"
  echo "- open loop: $(oha --version 2>/dev/null | head -n1), $open_read_procs processes for reads, $open_procs for writes, loads $open_loads % of oha's closed-loop maximum"
  echo
  echo "### Runs"
  echo
  echo "Ceiling (a): pgbench running the SQL the server sends; (b): the cheapest SQL that answers the"
  echo "same request (bench/sql/list_index.sql, create_plain.sql). Both measured right after the API run."
  echo
  echo "| store | auth | conns | workload | run | API req/s | p50 ms | p99 ms | errors | (a) tps | (a) p99 ms | API/(a) | (b) tps | (b) p99 ms | API/(b) |"
  echo "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '
    function ms(us) { return us == "-" ? "—" : sprintf("%.2f", us / 1000) }
    function tps(v) { return v == "-" ? "—" : sprintf("%.0f", v) }
    function pct(api, db) { return (db == "-" || db == 0) ? "—" : sprintf("%.0f%%", 100 * api / db) }
    {
      errors = $9 + ($13 == "-" ? 0 : $13) + ($17 == "-" || $17 == "" ? 0 : $17)
      printf "| %s | %s | %s | %s | %s | %.0f | %s | %s | %d | %s | %s | %s | %s | %s | %s |\n",
        $1, $2, $3, $4, $5, $6, ms($7), ms($8), errors, tps($10), ms($12), pct($6, $10),
        tps($14), ms($16), pct($6, $14)
    }' "$results"
  echo
  echo "### Summary"
  echo
  echo "Means of the runs, except p99: the worst run's. API/(a) and API/(b) are the means of the runs' ratios."
  echo "Errors count failed pgbench transactions too."
  echo
  echo "| store | auth | conns | workload | API req/s | p50 ms | p99 ms | errors | (a) tps | (a) p99 ms | API/(a) | (b) tps | (b) p99 ms | API/(b) |"
  echo "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '
    {
      key = $1 "|" $2 "|" $3 "|" $4
      if (!(key in n)) order[++keys] = key
      n[key]++; rps[key] += $6; p50[key] += $7; errors[key] += $9
      if ($8 > p99[key]) p99[key] = $8
      if ($10 != "-" && $10 > 0) {
        dbn[key]++; db[key] += $10; ratio[key] += $6 / $10; errors[key] += $13
        if ($12 > dbp99[key]) dbp99[key] = $12
      }
      if ($14 != "-" && $14 > 0) {
        chn[key]++; ch[key] += $14; chratio[key] += $6 / $14; errors[key] += $17
        if ($16 > chp99[key]) chp99[key] = $16
      }
    }
    END {
      for (i = 1; i <= keys; i++) {
        k = order[i]; split(k, f, "|")
        d = (k in dbn) ? sprintf("%.0f | %.2f | %.0f%%", db[k] / dbn[k], dbp99[k] / 1000, 100 * ratio[k] / dbn[k]) : "— | — | —"
        c = (k in chn) ? sprintf("%.0f | %.2f | %.0f%%", ch[k] / chn[k], chp99[k] / 1000, 100 * chratio[k] / chn[k]) : "— | — | —"
        printf "| %s | %s | %s | %s | %.0f | %.2f | %.2f | %d | %s | %s |\n",
          f[1], f[2], f[3], f[4], rps[k] / n[k], p50[k] / n[k] / 1000, p99[k] / 1000, errors[k], d, c
      }
    }' "$results"
  if [[ -s $open ]]; then
    echo
    echo "### Open loop"
    echo
    echo "A constant arrival rate (oha -q, latency corrected for coordinated omission: measured from when"
    echo "each request was due), at a share of the maximum: what the same oha processes and connections"
    echo "reach in a closed loop right before (HS256; wrk's maximum of the closed-loop runs beside it:"
    echo "oha costs more CPU per request than wrk, on the CPUs the server runs on). Reads: $open_read_procs"
    echo "processes, writes: $open_procs (each its own user); $open_conns connections in all."
    echo "p50: the mean of the oha processes'; p99: the worst process's."
    echo
    echo "| store | workload | load | rate req/s (of max) | wrk max | achieved req/s | p50 ms | p99 ms | errors |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' '{ printf "| %s | %s | %s%% | %s (%s) | %s | %.0f | %.2f | %.2f | %d |\n", $1, $2, $3, $4, $5, $10, $6, $7 / 1000, $8 / 1000, $9 }' "$open"
  fi
  if [[ -s $events ]]; then
    echo
    echo "### Event stream"
    echo
    echo "sync-load (bench/sync_load.rs) holds one stream (GET /api/{user}/events) per user of its own and"
    echo "creates tasks through the same server at a constant rate, each for a user picked at random;"
    echo "delay: from the task's updated_at (taken before the commit) to its event read by the client."
    echo "After a ${warmup}s warm-up, ${seconds}s of writes, HS256."
    echo
    echo "| store | streams | writes/s | p50 ms | p90 ms | p99 ms | max ms | write errors | events missing |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$events"
  fi
  if [[ -s $baseline ]]; then
    echo
    echo "### Baseline"
    echo
    echo "BENCH_BASELINE_BIN ($baseline_bin), on a database of its own seeded alike, measured after this"
    echo "binary on each store (HS256, one run). Ratio: this binary's mean throughput over the baseline's."
    echo
    echo "| store | conns | workload | baseline req/s | baseline p99 ms | baseline errors | this binary req/s | ratio |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|"
    awk -F'\t' -v results="$results" '
      BEGIN { while ((getline line < results) > 0) { split(line, f, "\t"); if (f[2] == "hs256") { k = f[1] SUBSEP f[3] SUBSEP f[4]; n[k]++; rps[k] += f[6] } } }
      { k = $1 SUBSEP $2 SUBSEP $3; mine = (k in n) ? rps[k] / n[k] : 0
        printf "| %s | %s | %s | %.0f | %.2f | %d | %.0f | %s |\n", $1, $2, $3, $4, $6 / 1000, $7, mine,
          ($4 > 0 && mine > 0) ? sprintf("%.0f%%", 100 * mine / $4) : "—" }' "$baseline"
  fi
  echo
  echo "### Server"
  echo
  echo "Cold start: process start to the first 200 on /ready, migrations already applied (median). With"
  echo "EdDSA the server fetches the JWKS before it is ready. Peak RSS: the server's VmHWM after all the"
  echo "runs at that connection count, and after the whole benchmark of that store (open loop included;"
  echo "one server per store, accepting both kinds of token)."
  echo
  echo "| store | cold start, HS256, ms | cold start, EdDSA (JWKS), ms | peak RSS after c=32, MiB | after c=64, MiB | at the end, MiB |"
  echo "|---|---:|---:|---:|---:|---:|"
  awk -F'\t' '{ if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } v[$1, $2, $3] = $4 }
    function get(k) { return (k in v) ? v[k] : "—" }
    END { for (i = 1; i <= n; i++) { s = order[i]
      printf "| %s | %s | %s | %s | %s | %s |\n", s, get(s SUBSEP "hs256" SUBSEP "cold_start_ms"),
        get(s SUBSEP "eddsa" SUBSEP "cold_start_ms"), get(s SUBSEP "-" SUBSEP "peak_rss_mib_c32"),
        get(s SUBSEP "-" SUBSEP "peak_rss_mib_c64"), get(s SUBSEP "-" SUBSEP "peak_rss_mib") } }' "$facts"
  echo
  echo "### Targets"
  echo
  echo "Issue 8 (PostgreSQL, 64 connections) and issue 18 (numbered as in the issue), as this run judged them."
  echo
  awk -F'\t' -v facts="$facts" -v open="$open" '
    BEGIN {
      while ((getline line < facts) > 0) { split(line, f, "\t"); fact[f[1], f[2], f[3]] = f[4] }
      while ((getline line < open) > 0) { split(line, f, "\t"); openp99[f[1], f[2], f[3]] = f[8]; openerr[f[1], f[2], f[3]] = f[9]; openrate[f[1], f[2], f[3]] = f[4]; openmax[f[1], f[2], f[3]] = f[5] }
    }
    $3 == 64 {
      key = $1 "|" $2 "|" $4; if (!(key in n)) order[++keys] = key
      n[key]++; rps[key] += $6; errors[key] += $9 + ($13 == "-" ? 0 : $13) + ($17 == "-" || $17 == "" ? 0 : $17)
      if ($8 > p99[key]) p99[key] = $8
      if ($10 != "-" && $10 > 0) { ratio[key] += $6 / $10; dbn[key]++; if ($12 > dbp99[key]) dbp99[key] = $12 }
      if ($14 != "-" && $14 > 0) { chratio[key] += $6 / $14; chn[key]++ }
    }
    function verdict(ok) { return ok ? "met" : "**NOT met**" }
    function mean(k) { return (k in n) ? rps[k] / n[k] : 0 }
    END {
      for (i = 1; i <= keys; i++) {
        k = order[i]; split(k, f, "|"); store = f[1]; auth = f[2]; w = f[3]
        if (store == "postgres" && (w == "list_one" || w == "list_many" || w == "create")) {
          r = (k in dbn) ? ratio[k] / dbn[k] : 0
          c = (k in chn) ? chratio[k] / chn[k] : 0
          floor = (w == "create") ? 0.40 : 0.45
          printf "- 8: %s (%s): %.0f%% of (a) (≥ 40%%): %s; p99 %.1f ms (< 25; pgbench alone: %.1f ms): %s; %d errors: %s\n",
            w, auth, 100 * r, verdict(r >= 0.4), p99[k] / 1000, dbp99[k] / 1000,
            verdict(p99[k] < 25000), errors[k], verdict(errors[k] == 0)
          printf "- 18.4a: %s (%s): %.0f%% of the server'"'"'s own SQL (≥ 60%%): %s\n", w, auth, 100 * r, verdict(r >= 0.6)
          printf "- 18.4b: %s (%s): %.0f%% of the cheapest SQL (≥ %.0f%%): %s\n", w, auth, 100 * c, 100 * floor, verdict(c >= floor)
        }
        if (store == "postgres" && w == "unauthorized" && auth == "hs256") {
          printf "- 8: 401 (%s): %.0f req/s (≥ 30,000), %d errors: %s\n", auth, mean(k), errors[k],
            verdict(mean(k) >= 30000 && errors[k] == 0)
        }
        if (store == "postgres" && w == "unauthorized" && auth != "hs256") {
          printf "- 8: 401 (%s, every forged signature checked): %.0f req/s, %d errors (no target)\n", auth, mean(k), errors[k]
        }
        # Target 1: SQLite writes at 64 connections; "today" is the last run before group commit
        # (bench/README.md: create 2,799, toggle 3,612 req/s).
        if (store == "sqlite" && auth == "hs256" && (w == "create" || w == "toggle")) {
          base = (w == "create") ? 2799 : 3612
          printf "- 18.1: SQLite %s: p99 %.1f ms (< 25): %s; %.0f req/s (≥ %d before group commit): %s; %d errors: %s\n",
            w, p99[k] / 1000, verdict(p99[k] < 25000), mean(k), base, verdict(mean(k) >= base), errors[k], verdict(errors[k] == 0)
        }
        # Target 2: SQLite lists at least as fast as PostgreSQL lists, same run.
        if (store == "sqlite" && (w == "list_one" || w == "list_many")) {
          pk = "postgres|" auth "|" w
          if (pk in n) printf "- 18.2: SQLite %s (%s): %.0f req/s, PostgreSQL %.0f (≥ 100%%): %.0f%%: %s\n",
            w, auth, mean(k), mean(pk), 100 * mean(k) / mean(pk), verdict(mean(k) >= mean(pk))
        }
      }
      for (k in openp99) {
        split(k, f, SUBSEP)
        limit = (f[3] <= 50) ? 10 : 25
        if (f[1] == "postgres")
          printf "- 18.3: open loop, PostgreSQL %s at %s%% (%s of %s req/s): p99 %.1f ms (< %d): %s; %d errors: %s\n",
            f[2], f[3], openrate[k], openmax[k], openp99[k] / 1000, limit, verdict(openp99[k] < limit * 1000), openerr[k], verdict(openerr[k] == 0)
        else
          printf "- 18.3: open loop, SQLite %s at %s%% (%s of %s req/s): p99 %.1f ms (no target; PostgreSQL'"'"'s would be < %d), %d errors\n",
            f[2], f[3], openrate[k], openmax[k], openp99[k] / 1000, limit, openerr[k]
      }
      for (k in fact) {
        split(k, f, SUBSEP)
        if (f[3] == "peak_rss_mib") printf "- 18.5: peak RSS, %s: %s MiB (< 40): %s\n", f[1], fact[k], verdict(fact[k] < 40)
        if (f[3] == "cold_start_ms") printf "- 8: cold start, %s (%s): %s ms (< 150): %s\n", f[1], f[2], fact[k], verdict(fact[k] < 150)
      }
    }' "$results" | sort
  # Target 6: the new features' workloads (every run, both connection counts), the event
  # stream, and the older workloads against the baseline binary when one was given.
  awk -F'\t' -v nw=" $new_workloads " '
    $2 == "hs256" && index(nw, " " $4 " ") {
      key = $1 "|" $3 "|" $4; if (!(key in n)) order[++keys] = key
      n[key]++; rps[key] += $6; errors[key] += $9; if ($8 > p99[key]) p99[key] = $8
    }
    END {
      for (i = 1; i <= keys; i++) {
        k = order[i]; split(k, f, "|")
        printf "- 18.6: %s %s (c=%s): %.0f req/s, p99 %.1f ms, %d errors: %s\n", f[1], f[3], f[2],
          rps[k] / n[k], p99[k] / 1000, errors[k], errors[k] == 0 ? "ran without errors" : "**NOT met** (errors)"
      }
    }' "$results"
  awk -F'\t' '{
    ok = ($8 == 0 && $9 == 0 && $6 != "-" && $6 < 100)
    printf "- 18.6: %s events: write → event p50 %s ms, p99 %s ms with %s streams at %s writes/s (p99 < 100 ms, issue 14'"'"'s one-process target), %s write errors, %s events missing: %s\n",
      $1, $4, $6, $2, $3, $8, $9, ok ? "met" : "**NOT met**" }' "$events"
  if has_workload events && [[ -z $sync_load ]]; then
    echo "- 18.6: events: not measured (no sync-load binary; set BENCH_SYNC_LOAD)"
  fi
  if [[ -s $baseline ]]; then
    awk -F'\t' -v results="$results" '
      BEGIN { while ((getline line < results) > 0) { split(line, f, "\t"); if (f[2] == "hs256") { k = f[1] SUBSEP f[3] SUBSEP f[4]; n[k]++; rps[k] += f[6] } } }
      { k = $1 SUBSEP $2 SUBSEP $3; mine = (k in n) ? rps[k] / n[k] : 0; r = ($4 > 0) ? mine / $4 : 0
        printf "- 18.6: no regression, %s %s (c=%s): %.0f req/s against the baseline'"'"'s %.0f: %.0f%% (≥ 90%%, within one run'"'"'s noise): %s\n",
          $1, $3, $2, mine, $4, 100 * r, (r >= 0.9) ? "met" : "**NOT met**" }' "$baseline"
  else
    echo "- 18.6: no regression: not measured in this run (BENCH_BASELINE_BIN=<an older release binary> measures list_one, get and create on it too)"
  fi
  # EdDSA against HS256 list throughput, run by run (they ran back to back): the cost is
  # 1 - EdDSA/HS256.
  awk -F'\t' '
    ($2 == "hs256" || $2 == "eddsa") && ($4 == "list_one" || $4 == "list_many") {
      rps[$1, $3, $4, $5, $2] = $6; key[$1 "|" $3 "|" $4] = 1; errors[$1 "|" $3 "|" $4] += $9
    }
    END {
      for (k in key) {
        split(k, f, "|"); sum = 0; n = 0
        for (run = 1; (f[1], f[2], f[3], run, "hs256") in rps; run++) {
          if (((f[1], f[2], f[3], run, "eddsa") in rps) && rps[f[1], f[2], f[3], run, "hs256"] > 0) {
            sum += 1 - rps[f[1], f[2], f[3], run, "eddsa"] / rps[f[1], f[2], f[3], run, "hs256"]; n++
          }
        }
        if (!n) continue
        cost = sum / n
        if (f[1] == "postgres" && f[2] == 64)
          printf "- EdDSA cost, %s (%s, c=%s): %.1f%% of HS256 throughput (≤ 10%%), %d errors: %s\n", f[3], f[1], f[2], 100 * cost, errors[k], (cost <= 0.10 && errors[k] == 0) ? "met" : "**NOT met**"
        else
          printf "- EdDSA cost, %s (%s, c=%s): %.1f%% of HS256 throughput\n", f[3], f[1], f[2], 100 * cost
      }
    }' "$results" | sort
} | tee "$work/report.md"
