#!/usr/bin/env bash
# The profile of issue 18 ("profile first"): where a request's cost goes, on a release binary.
#
#   1. Instructions per request (valgrind's callgrind): for each store and each workload, a
#      server started under callgrind on a fresh database, seeded beforehand by the same binary
#      run normally (one reader with 50 tasks of two tags each, as bench/run.sh seeds). After a
#      few warm-up requests the counters are zeroed (callgrind_control -z), an idle stretch is
#      dumped (callgrind_control -d: what the process costs doing nothing), then
#      PROFILE_REQUESTS requests are sent one after another on one keep-alive connection (curl
#      -K) and dumped. Instructions per request = (load - idle × load seconds / idle seconds)
#      / requests. Every thread of the process is counted (the runtime's workers, sqlx's SQLite
#      threads, the blocking pool); PostgreSQL's own work is not (it is another process).
#      Workloads: list_one (GET the reader's 50 tasks), get (GET one task), create (POST the
#      body of bench/run.sh's create workload, as a writer), toggle (PATCH …/complete).
#   2. The top functions by inclusive and by self cost (callgrind_annotate) for list_one and
#      create. The release profile keeps symbols (it strips debug info only), so functions
#      have names but no lines.
#   3. The CPU split (PostgreSQL only): the server run normally, wrk at PROFILE_CPU_CONNECTIONS
#      connections for PROFILE_CPU_SECONDS on list_one (the reader's 50 tasks) and create (20
#      writers in turn), with bench/wrk/*.lua, and the CPU
#      time (utime + stime, /proc/<pid>/stat) the server, the PostgreSQL backends of its
#      database, the other postgres processes (WAL writer, checkpointer, other databases: the
#      machine is shared) and wrk used meanwhile, against the machine's busy time (/proc/stat).
#
# Usage: bench/profile.sh
# Settings (environment):
#   BENCH_BIN          the release binary to profile (default: cargo build --release)
#   PROFILE_STORES     stores ("postgres sqlite")
#   PROFILE_WORKLOADS  workloads measured with callgrind ("list_one get create toggle"; empty:
#                      none, only the CPU split)
#   PROFILE_REQUESTS   requests per workload under callgrind (2000)
#   PROFILE_IDLE       seconds of the idle stretch (3)
#   PROFILE_TOP        functions listed per table (10)
#   PROFILE_CPU_SECONDS, PROFILE_CPU_CONNECTIONS  the CPU split's wrk runs (10, 64; 0 s: skipped)
#   BENCH_PG_URL       PostgreSQL server, without a database (postgres://postgres@127.0.0.1:5432);
#                      a fresh database is created there and dropped at the end
#   BENCH_PORT         port for the server (18700)
#   BENCH_KEEP=1       keep the work directory (callgrind files, logs) and the database
# Needs valgrind (callgrind_control, callgrind_annotate), curl, wrk, psql (installed from Debian
# when missing). Takes about 7 minutes on 2 shared cores with the defaults (plus the build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=bench/lib.sh
. bench/lib.sh

stores=${PROFILE_STORES:-postgres sqlite}
workloads=${PROFILE_WORKLOADS-list_one get create toggle}
requests=${PROFILE_REQUESTS:-2000}
idle_seconds=${PROFILE_IDLE:-3}
top=${PROFILE_TOP:-10}
cpu_seconds=${PROFILE_CPU_SECONDS:-10}
cpu_connections=${PROFILE_CPU_CONNECTIONS:-64}
pg_url=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
pg_url=${pg_url%/}
port=${BENCH_PORT:-18700}
base=http://127.0.0.1:$port
reader=10001
writer=20001
tasks=50

need valgrind
need curl
need wrk
need psql postgresql-client

release_binary

work=$(mktemp -d "${TMPDIR:-/tmp}/todo-profile.XXXXXX")
server_pid=
pg_db=
cleanup() {
  set +e
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    say "kept $work${pg_db:+ and the database $pg_db}"
  else
    [[ -n $pg_db ]] && psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$work"
  fi
}
trap cleanup EXIT

secret=$(new_secret)
reader_token=$(mint "$reader" "$secret")
writer_token=$(mint "$writer" "$secret")
# The CPU split's creates go to 20 writers, as bench/run.sh's go to 100: one user's writes queue
# for its revision row.
cpu_writers=20
writer_tokens=()
for k in $(seq 1 "$cpu_writers"); do writer_tokens+=("$(mint $(( writer + k )) "$secret")"); done

# Starts the server on DATABASE_URL $1, logging to $2, under the command prefix in the rest.
start_server() {
  local url=$1 log=$2
  shift 2
  env DATABASE_URL="$url" BETTER_AUTH_SECRET="$secret" HOST=127.0.0.1 PORT="$port" RUST_LOG=warn \
    "$@" "$bin" serve >>"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 1200); do
    curl -sf "$base/ready" >/dev/null 2>&1 && return
    kill -0 "$server_pid" 2>/dev/null || die "the server exited; see $log"
    sleep 0.1
  done
  die "the server was not ready within 120 s; see $log"
}

# A curl config of $2 requests of workload $1, one after another (curl -K keeps the connection).
requests_config() {
  local workload=$1 n=$2 i id
  local -a ids
  mapfile -t ids <"$work/ids"
  for i in $(seq 1 "$n"); do
    id=${ids[i % ${#ids[@]}]}
    case $workload in
      list_one) printf 'url = "%s/api/%s/tasks"\nheader = "Authorization: Bearer %s"\n' "$base" "$reader" "$reader_token" ;;
      get) printf 'url = "%s/api/%s/tasks/%s"\nheader = "Authorization: Bearer %s"\n' "$base" "$reader" "$id" "$reader_token" ;;
      toggle) printf 'url = "%s/api/%s/tasks/%s/complete"\nrequest = "PATCH"\nheader = "Authorization: Bearer %s"\n' "$base" "$reader" "$id" "$reader_token" ;;
      create) printf 'url = "%s/api/%s/tasks"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "%s"\n' \
        "$base" "$writer" "$writer_token" "${create_body//\"/\\\"}" ;;
      *) die "unknown workload $workload" ;;
    esac
    printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nsilent\nshow-error\nnext\n'
  done | sed '$d'
}

# Sends the requests of config $1 and dies unless each answered 2xx.
send() {
  local out
  out=$(curl -K "$1")
  [[ -z $(grep -v '^2[0-9][0-9]$' <<<"$out") ]] || die "requests failed: $(sort <<<"$out" | uniq -c | tr '\n' ' ')"
}

# Seeds the reader's tasks through the server (run normally) on $1; writes $work/ids.
seed() {
  local url=$1 j
  start_server "$url" "$work/seed.log"
  for j in $(seq 1 "$tasks"); do
    printf 'url = "%s/api/%s/tasks"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"title\\":\\"Task %d\\",\\"description\\":\\"Seeded by bench/profile.sh\\",\\"priority\\":\\"medium\\",\\"tags\\":[\\"bench\\",\\"batch-%d\\"]}"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nsilent\nshow-error\nnext\n' \
      "$base" "$reader" "$reader_token" "$j" $(( j % 5 ))
  done | sed '$d' >"$work/seed.curl"
  send "$work/seed.curl"
  curl -sf "$base/api/$reader/tasks" -H "Authorization: Bearer $reader_token" | grep -o '"id":[0-9]*' | cut -d: -f2 >"$work/ids"
  [[ $(wc -l <"$work/ids") == "$tasks" ]] || die "the reader does not list the $tasks tasks just seeded"
  stop_server
}

# The total instructions (Ir) of a callgrind dump.
total_ir() { sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' "$1" | head -n1; }

now_s() { date +%s.%N; }

# callgrind_control for the server: valgrind names its vgdb pipes after $HOST, which the server's
# environment sets (HOST=127.0.0.1), so vgdb must look them up under the same name.
cg_control() { HOST=127.0.0.1 callgrind_control "$@"; }

# Workload $1 under callgrind on $2 ($3 names the store): prints "requests ir_per_request".
profile_workload() {
  local workload=$1 url=$2 store=$3 prefix=$work/cg-$store-$workload t0 t1 t2 idle load
  requests_config "$workload" 20 >"$work/warm.curl"
  requests_config "$workload" "$requests" >"$work/load.curl"
  rm -f "$prefix".*
  start_server "$url" "$work/server-$store-cg.log" \
    valgrind --tool=callgrind --callgrind-out-file="$prefix.%p" --dump-instr=no --collect-jumps=no -q
  send "$work/warm.curl"
  cg_control -z "$server_pid" >/dev/null
  t0=$(now_s)
  sleep "$idle_seconds"
  cg_control -d idle "$server_pid" >/dev/null
  t1=$(now_s)
  send "$work/load.curl"
  cg_control -d load "$server_pid" >/dev/null
  t2=$(now_s)
  stop_server
  idle=$(total_ir "$(ls "$prefix".*.1 2>/dev/null | head -n1)")
  load=$(total_ir "$(ls "$prefix".*.2 2>/dev/null | head -n1)")
  [[ -n $idle && -n $load ]] || die "no callgrind dumps for $workload ($(ls "$prefix".* 2>/dev/null | tr '\n' ' '))"
  cp "$(ls "$prefix".*.2 | head -n1)" "$prefix.load"
  awk -v idle="$idle" -v busy="$load" -v n="$requests" -v t0="$t0" -v t1="$t1" -v t2="$t2" \
    'BEGIN { rate = idle / (t1 - t0); printf "%d %.0f %.0f %.1f\n", n, (busy - rate * (t2 - t1)) / n, rate, t2 - t1 }'
}

# The top $top functions of a dump, inclusive ($2 = yes) or self.
top_functions() {
  callgrind_annotate --inclusive="$2" --threshold=100 "$1" 2>/dev/null \
    | awk -v top="$top" '
        /PROGRAM TOTALS/ { total = $1; gsub(",", "", total) }
        /file:function/ { body = 1; next }
        body && NF >= 2 && $1 ~ /^[0-9,]+$/ {
          ir = $1; gsub(",", "", ir)
          line = $0; sub(/^ *[0-9,]+ +(\([ 0-9.%]+\) +)?/, "", line); sub(/^\?\?\?:/, "", line)
          sub(/ \[[^]]*\]$/, "", line)
          # Thread start-up frames and the frames of the runtime scheduler hold everything: they say
          # nothing. (Without debug info callgrind also charges them a "self" cost that
          # belongs to the code inlined into them.)
          if (line ~ /clone\.S|start_thread|thread_start|__rust_begin_short_backtrace|call_once\{\{vtable\.shim\}\}|^tokio::runtime::|^<tokio::runtime::blocking::task::BlockingTask|^0x/) next
          if (length(line) > 110) line = substr(line, 1, 107) "..."
          if (shown++ < top) printf "| %.1f%% | %s |\n", 100 * ir / total, line
        }'
}

# CPU seconds (user + system) of process $1 so far (nothing when it is gone).
cpu_of() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); split($0, f, " "); printf "%.2f", (f[12] + f[13]) / hz }' "/proc/$1/stat" 2>/dev/null || true
}
# The pids of every postgres process, and of the backends of database $1.
postgres_pids() { pgrep -x postgres || true; }
backend_pids() { psql "$pg_url/postgres" -tAc "SELECT pid FROM pg_stat_activity WHERE datname = '$1' AND pid <> pg_backend_pid()"; }
# Snapshots the CPU seconds of the pids given into the associative array named $1.
snapshot() { local -n into=$1; shift; local pid; for pid in "$@"; do into[$pid]=$(cpu_of "$pid"); done; }
# The CPU seconds the pids of snapshot $1 used since, counting only those still running.
used_since() {
  local -n from=$1; local pid now s=0
  for pid in "${!from[@]}"; do
    now=$(cpu_of "$pid")
    [[ -n $now && -n ${from[$pid]} ]] && s=$(awk -v a="$s" -v b="$now" -v c="${from[$pid]}" 'BEGIN { printf "%.2f", a + b - c }')
  done
  echo "$s"
}

# The CPU split of workload $1 on PostgreSQL database $2 ($3 its URL).
cpu_split() {
  local workload=$1 db=$2 url=$3 backends others before_server wrk_out
  local -A before_backends=() before_others=()
  start_server "$url" "$work/server-cpu.log"
  cat >"$work/data.lua" <<EOF
return {
  users = { { name = "$reader", token = "$reader_token", ids = { $(paste -sd, "$work/ids") } } },
  writers = {
$(for k in $(seq 1 "$cpu_writers"); do printf '    { name = "%d", token = "%s" },\n' $(( writer + k )) "${writer_tokens[k - 1]}"; done)
  },
  create_body = [[$create_body]],
}
EOF
  # Warm-up: the pool opens its connections.
  BENCH_DATA=$work/data.lua BENCH_WRK=$root/bench/wrk wrk -t 2 -c "$cpu_connections" -d 2s \
    -s "$root/bench/wrk/$workload.lua" "$base" >/dev/null 2>&1
  mapfile -t backends < <(backend_pids "$db")
  mapfile -t others < <(comm -23 <(postgres_pids | sort) <(printf '%s\n' "${backends[@]}" | sort))
  before_server=$(cpu_of "$server_pid")
  snapshot before_backends "${backends[@]}"
  snapshot before_others "${others[@]}"
  wrk_out=$( { BENCH_DATA=$work/data.lua BENCH_WRK=$root/bench/wrk /usr/bin/time -f 'WRK_CPU %U %S' \
    wrk -t 2 -c "$cpu_connections" -d "${cpu_seconds}s" -s "$root/bench/wrk/$workload.lua" "$base"; } 2>&1)
  local server backends_s others_s wrk_cpu rps errors
  server=$(awk -v a="$(cpu_of "$server_pid")" -v b="$before_server" 'BEGIN { printf "%.2f", a - b }')
  backends_s=$(used_since before_backends)
  others_s=$(used_since before_others)
  wrk_cpu=$(sed -n 's/^WRK_CPU \([0-9.]*\) \([0-9.]*\)/\1 \2/p' <<<"$wrk_out" | awk '{ printf "%.2f", $1 + $2 }')
  rps=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$wrk_out")
  errors=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$wrk_out")
  stop_server
  echo "$workload ${rps:-?} ${errors:-?} $server $backends_s ${#backends[@]} $others_s $wrk_cpu"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A per_request
declare -A idle_rate
for store in $stores; do
  case $store in
    postgres)
      pg_db=todo_profile_$$
      psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db" >/dev/null
      url=$pg_url/$pg_db ;;
    sqlite) url=sqlite://$work/profile.db ;;
    *) die "unknown store $store" ;;
  esac
  DATABASE_URL=$url BETTER_AUTH_SECRET=$secret "$bin" migrate >>"$work/migrate.log" 2>&1
  say "$store: seeding $tasks tasks"
  seed "$url"
  for workload in $workloads; do
    say "$store: $workload under callgrind ($requests requests)"
    read -r n ir rate secs < <(profile_workload "$workload" "$url" "$store")
    per_request[$store:$workload]=$ir
    idle_rate[$store:$workload]="$rate $secs"
  done
  if [[ $store == postgres ]] && (( cpu_seconds > 0 )); then
    for workload in list_one create; do
      say "postgres: CPU split, $workload, wrk -c $cpu_connections for ${cpu_seconds}s"
      cpu_split "$workload" "$pg_db" "$url" >>"$work/cpu.txt"
    done
  fi
  if [[ $store == postgres && ${BENCH_KEEP:-0} != 1 ]]; then
    psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null
    pg_db=
  fi
done

echo
echo "## todo-api profile"
echo
echo "- $(date -u +%Y-%m-%dT%H:%MZ), binary $bin, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (modified)')"
echo "- $(nproc) CPUs; load average $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after; $(valgrind --version)"
echo "- $requests requests per workload, one after another on one connection (curl), after 20 warm-up requests"
echo
echo "### Instructions per request (callgrind, the server process, all threads)"
echo
echo "| store | workload | instructions / request | idle instructions / s (subtracted) | seconds for the requests |"
echo "|---|---|---:|---:|---:|"
for store in $stores; do
  for workload in $workloads; do
    read -r rate secs <<<"${idle_rate[$store:$workload]}"
    printf '| %s | %s | %s | %s | %s |\n' "$store" "$workload" \
      "$(printf "%'d" "${per_request[$store:$workload]}")" "$(printf "%'d" "$rate")" "$secs"
  done
done
for store in $stores; do
  for workload in list_one create; do
    file=$work/cg-$store-$workload.load
    [[ -f $file ]] || continue
    echo
    echo "### Top functions, $store $workload (share of the dump's instructions, requests and idle)"
    echo
    echo "Inclusive (the function and what it calls):"
    echo
    echo "| incl. | function |"
    echo "|---:|---|"
    top_functions "$file" yes
    echo
    echo "Self (the function's own instructions):"
    echo
    echo "| self | function |"
    echo "|---:|---|"
    top_functions "$file" no
  done
done
if [[ -s $work/cpu.txt ]]; then
  echo
  echo "### CPU split on PostgreSQL (server run normally; wrk -c $cpu_connections for ${cpu_seconds}s)"
  echo
  echo "CPU seconds used during the run (utime + stime): the server process, the PostgreSQL backends of"
  echo "its database, the other postgres processes still running at the end (WAL writer, checkpointer,"
  echo "and other databases' backends: the machine is shared), and wrk itself ($(nproc) CPUs: at most"
  echo "$(( $(nproc) * cpu_seconds )) s in all). The split: the server against its backends plus the other postgres processes."
  echo
  echo "| workload | req/s | errors | server s | backends s (n) | other postgres s | wrk s | server : PostgreSQL | server ms / request | PostgreSQL ms / request |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -v secs="$cpu_seconds" '{ pg = $5 + $7; n = $2 * secs; printf "| %s | %.0f | %s | %s | %s (%s) | %s | %s | %.0f%% : %.0f%% | %.2f | %.2f |\n", $1, $2, $3, $4, $5, $6, $7, $8,
    100 * $4 / ($4 + pg), 100 * pg / ($4 + pg), 1000 * $4 / n, 1000 * pg / n }' "$work/cpu.txt"
fi
