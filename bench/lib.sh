# What the benchmark scripts share (run.sh, profile.sh, sync.sh source it): messages, installing a
# missing tool, the binary to measure, a free port, HS256 tokens, the create workload's body, and
# stopping the server. Each script keeps what it alone does (how it starts its server, waits for
# it, and cleans up).

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
# Microseconds since the epoch, without a process.
now_us() { local t=$EPOCHREALTIME; echo "${t//[.,]/}"; }

# Installs the Debian packages $@.
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "missing $*: install it and run again"
  say "installing $* from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Makes sure command $1 exists, installing Debian package $2 (default: $1) when it does not.
need() { command -v "$1" >/dev/null 2>&1 || apt_install "${2:-$1}"; }

# Sets `bin` to the release binary to measure: BENCH_BIN, or this checkout's, built now.
release_binary() {
  if [[ -n ${BENCH_BIN:-} ]]; then
    bin=$BENCH_BIN
  else
    command -v cargo >/dev/null 2>&1 || die "cargo is needed (https://rustup.rs)"
    say "cargo build --release"
    cargo build --release --locked --quiet
    bin=${CARGO_TARGET_DIR:-$root/target}/release/todo-api
  fi
  [[ -x $bin ]] || die "no binary at $bin"
}

# A free port from $1 on: nothing accepts a connection on it.
free_port() {
  local candidate
  for candidate in $(seq "$1" $(( $1 + 100 ))); do
    if ! { exec 3<>"/dev/tcp/127.0.0.1/$candidate"; } 2>/dev/null; then echo "$candidate"; return; fi
    exec 3<&- 3>&-
  done
  die "no free port in $1-$(( $1 + 100 ))"
}

# A shared secret for HS256 tokens.
new_secret() { head -c 32 /dev/urandom | base64; }

# Prints an HS256 token for user $1, signed with secret $2 (the server's `token` command).
mint() { BETTER_AUTH_SECRET=$2 "$bin" token --sub "$1" --ttl 24h; }

# The body of every create (bench/sql/create.sql inserts the same task).
create_body='{"title":"Pay the rent","description":"Transfer it to the landlord before the 1st","priority":"high","due_at":"2027-01-01T09:00:00+01:00","remind_at":"2026-12-31T09:00:00Z","recurrence":{"frequency":"monthly","interval":1}}'

# Stops the server `server_pid` names, if any, and waits for it.
stop_server() {
  if [[ -n ${server_pid:-} ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
