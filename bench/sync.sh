#!/usr/bin/env bash
# The live-sync benchmark (issue 14): builds the release binary, serves it on a fresh PostgreSQL
# database, and prints, as a Markdown table:
#   - the resident memory (RSS) of one process holding 10,000 open event streams (one user each);
#   - the delay from a write to its event, p50/p90/p99/max, with 1,000 streams open and writes at
#     500/s spread over their users: written through the same process, then through a second
#     process on the same database (delivered by LISTEN/NOTIFY). It is measured from the task's
#     `updated_at` (taken in the write transaction, before its commit: an upper bound of the
#     delay from the commit) and, beside it, from the writer's 201 (after the commit: a lower
#     bound), and as the server itself sees it (todo_api_event_delay_seconds: to the event handed
#     to the connection, before the client reads it; bucket bounds). The verdict uses the
#     client's upper bound.
# For comparison it also prints the RSS of as many idle keep-alive connections without a stream
# (one `GET /health` each): what the HTTP server holds per connection on its own.
# Each measurement runs on fresh server processes. The load client is bench/sync_load.rs, the
# `sync-load` binary built beside the server (Rust, one thread: it leaves the CPU to the server
# and the database being measured). Each delay measurement also prints the CPU time the server
# process(es) and the client used during it.
#
# Usage: bench/sync.sh
# Settings (environment):
#   SYNC_STREAMS_RSS   streams held for the memory figure (10000)
#   SYNC_STREAMS       streams open while measuring delays (1000)
#   SYNC_RATE          writes per second (500)
#   SYNC_SECONDS       seconds of writes per delay measurement (30)
#   BENCH_PG_URL       PostgreSQL server, without a database (postgres://postgres@127.0.0.1:5432);
#                      a fresh database is created there and dropped at the end
#   BENCH_KEEP=1       keep the work directory (server logs, raw results) and the database
# Benchmarks print figures; they are never part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

streams_rss=${SYNC_STREAMS_RSS:-10000}
streams=${SYNC_STREAMS:-1000}
rate=${SYNC_RATE:-500}
seconds=${SYNC_SECONDS:-30}
pg_url=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
pg_url=${pg_url%/}

# shellcheck source=bench/lib.sh
. bench/lib.sh

command -v cargo >/dev/null 2>&1 || die "cargo is needed (https://rustup.rs)"
need psql postgresql-client
need curl
need python3

# Every stream is a file descriptor, in the server and in the client.
needed=$(( streams_rss + 1000 ))
if (( $(ulimit -n) < needed )); then
  ulimit -n "$needed" 2>/dev/null || die "ulimit -n is $(ulimit -n); $needed open files are needed"
fi

say "cargo build --release"
cargo build --release --locked --quiet
bin=${CARGO_TARGET_DIR:-$root/target}/release/todo-api
load=${CARGO_TARGET_DIR:-$root/target}/release/sync-load
[[ -x $bin ]] || die "no binary at $bin"
[[ -x $load ]] || die "no binary at $load"

work=$(mktemp -d "${TMPDIR:-/tmp}/todo-sync-bench.XXXXXX")
pg_db=todo_sync_bench_$$
pids=()
cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    say "kept $work and the database $pg_db"
  else
    psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$work"
  fi
}
trap cleanup EXIT

psql "$pg_url/postgres" -qc "CREATE DATABASE $pg_db" >/dev/null
database_url=$pg_url/$pg_db
secret=$(new_secret)

# Starts a server (log in $work/$1.log); sets $server_pid and $server_base.
start_server() {
  local name=$1 log=$work/$1.log
  DATABASE_URL=$database_url BETTER_AUTH_SECRET=$secret HOST=127.0.0.1 PORT=0 \
    LOG_FORMAT=json RUST_LOG=warn,todo_api=info NO_COLOR=1 "$bin" serve >"$log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  server_base=
  for _ in $(seq 1 300); do
    server_base=$(grep -oE 'listening on http://[^ "]+' "$log" | head -n1 | sed 's/^listening on //' || true)
    [[ -n $server_base ]] && curl -sf "$server_base/ready" >/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || die "the server $name exited; see $log"
    sleep 0.1
  done
  [[ -n $server_base ]] || die "the server $name did not start; see $log"
}

stop_servers() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  pids=()
}

field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# CPU seconds (user + system) a process has used so far.
cpu_seconds() {
  python3 -c 'import os,sys; f=open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")",1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf("SC_CLK_TCK"))' "$1"
}

# How busy the machine was over the last minute (the measurements share it with everything else).
busy() {
  local load pressure=""
  load=$(cut -d' ' -f2 /proc/loadavg)
  [[ -r /proc/pressure/cpu ]] && pressure=", CPU pressure $(grep -o 'avg60=[0-9.]*' /proc/pressure/cpu | head -n1 | cut -d= -f2)%"
  echo "load $load on $(nproc) cores$pressure"
}

say "memory: $streams_rss streams on one process"
start_server rss
rss=$("$load" rss --base "$server_base" --secret "$secret" \
  --pid "$server_pid" --streams "$streams_rss")
echo "$rss" >"$work/rss.json"
rss_busy=$(busy)
stop_servers

say "memory, for comparison: $streams_rss idle keep-alive connections (no stream) on one process"
start_server idle
idle=$("$load" idle --base "$server_base" --pid "$server_pid" \
  --connections "$streams_rss")
echo "$idle" >"$work/idle.json"
stop_servers

say "delay: $streams streams, $rate writes/s for ${seconds}s, one process"
start_server one
one_cpu_before=$(cpu_seconds "$server_pid")
one=$("$load" latency --streams-base "$server_base" --writes-base "$server_base" \
  --secret "$secret" --streams "$streams" --rate "$rate" --seconds "$seconds")
one_cpu=$(python3 -c "print(round($(cpu_seconds "$server_pid") - $one_cpu_before, 1))")
echo "$one" >"$work/one.json"
one_server=$("$load" delays --base "$server_base")
one_busy=$(busy)
stop_servers

say "delay: $streams streams, $rate writes/s for ${seconds}s, written through a second process"
start_server streams
streams_base=$server_base
streams_pid=$server_pid
start_server writes
two_cpu_before=$(python3 -c "print($(cpu_seconds "$streams_pid") + $(cpu_seconds "$server_pid"))")
two=$("$load" latency --streams-base "$streams_base" --writes-base "$server_base" \
  --secret "$secret" --streams "$streams" --rate "$rate" --seconds "$seconds")
two_cpu=$(python3 -c "print(round($(cpu_seconds "$streams_pid") + $(cpu_seconds "$server_pid") - $two_cpu_before, 1))")
echo "$two" >"$work/two.json"
two_server=$("$load" delays --base "$streams_base")
two_busy=$(busy)
stop_servers

rss_mib=$(python3 -c "print(round($(field "$rss" rss_kib) / 1024, 1))")
rss_before_mib=$(python3 -c "print(round($(field "$rss" rss_before_kib) / 1024, 1))")
idle_mib=$(python3 -c "print(round($(field "$idle" rss_kib) / 1024, 1))")
verdict() { python3 -c "print('met' if $1 < $2 else 'NOT met')"; }

cat <<EOF

| measurement | figure | target | verdict |
|---|---|---|---|
| RSS with $(field "$rss" streams) streams open (server counted $(field "$rss" server_says_open)) | ${rss_mib} MiB (${rss_before_mib} MiB idle; $(field "$rss" kib_per_stream) KiB a stream) | < 150 MiB | $(verdict "$rss_mib" 150) |
| for comparison: RSS with $(field "$idle" connections) keep-alive connections and no stream | ${idle_mib} MiB ($(field "$idle" kib_per_connection) KiB a connection) | | |
| write → event, one process: p50 / p90 / p99 / max | $(field "$one" p50_ms) / $(field "$one" p90_ms) / $(field "$one" p99_ms) / $(field "$one" max_ms) ms (after the 201: p50 $(field "$one" after_ack_p50_ms), p99 $(field "$one" after_ack_p99_ms) ms; server side: p50 ≤ $(field "$one_server" p50_le_ms), p99 ≤ $(field "$one_server" p99_le_ms) ms) | p99 < 100 ms | $(verdict "$(field "$one" p99_ms)" 100) |
| write → event, across two processes: p50 / p90 / p99 / max | $(field "$two" p50_ms) / $(field "$two" p90_ms) / $(field "$two" p99_ms) / $(field "$two" max_ms) ms (after the 201: p50 $(field "$two" after_ack_p50_ms), p99 $(field "$two" after_ack_p99_ms) ms; server side: p50 ≤ $(field "$two_server" p50_le_ms), p99 ≤ $(field "$two_server" p99_le_ms) ms) | p99 < 250 ms | $(verdict "$(field "$two" p99_ms)" 250) |

Machine (1-minute averages after each measurement): memory: $rss_busy; one process: $one_busy;
two processes: $two_busy. CPU time during the delay measurements (each about ${seconds}s of writes, plus
opening the streams): one process: server ${one_cpu}s, client $(field "$one" client_cpu_seconds)s; two processes: servers
${two_cpu}s, client $(field "$two" client_cpu_seconds)s.

Writes: one process $(field "$one" writes) at $(field "$one" writes_per_second)/s ($(field "$one" write_errors) errors, $(field "$one" missing_events) events missing); two processes $(field "$two" writes) at $(field "$two" writes_per_second)/s ($(field "$two" write_errors) errors, $(field "$two" missing_events) events missing). Raw: rss=$rss one=$one two=$two
EOF
