# Shared parts of the benchmark scripts (bench/tokens.sh, bench/connections.sh,
# bench/million.sh).
# Source it from the repo root with `set -euo pipefail` on. It creates $TMP and
# kills every process added to PIDS on exit; a script may define on_exit() to
# clean up more (it runs after the processes are gone).

DURATION=${DURATION:-10s}

# --- the bench world -----------------------------------------------------------
# One tenant with one app (client_credentials with SECRET), an environment
# and a machine group; FORM asks for a Power Platform token, BODY is the
# documented PUT of a connection to GROUP.
TENANT=8a235459-3d2c-415d-8c1e-e2fe133509ad
CLIENT=5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40
SECRET=example-secret-value
ENV=37520647-dbdf-49fa-ba01-6134c14680c4
GROUP=a4f1c3d2-0b9e-4f8a-9c7d-6e5f4a3b2c1d
FORM="grant_type=client_credentials&client_id=$CLIENT&client_secret=$SECRET&scope=https%3A%2F%2Fapi.powerplatform.com%2F.default"
BODY='{"properties":{"environment":{"id":"/providers/Microsoft.PowerApps/environments/'$ENV'","name":"'$ENV'"},"connectionParametersSet":{"name":"azureRelay","values":{"username":{"value":"CONTOSO\\svc-bot"},"password":{"value":"bench-password"},"targetId":{"value":"'$GROUP'"}}}}}'

# world_tenant: the world file's tenant and app, for a script to append its
# environment to.
world_tenant() {
  cat <<EOF
[[tenants]]
id = "$TENANT"
domain = "contoso.onmicrosoft.com"
[[tenants.apps]]
display_name = "deploy-pipeline"
client_id = "$CLIENT"
secrets = ["$SECRET"]
EOF
}

# --- tools -------------------------------------------------------------------
apt_updated=0
need() { # command debian-package
  command -v "$1" >/dev/null && return
  [ "$apt_updated" = 1 ] || { apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

# --- processes and cleanup ---------------------------------------------------
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if declare -F on_exit >/dev/null; then on_exit || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# wait_for FILE REGEX: prints the first match of REGEX in FILE (30 s at most).
wait_for() {
  for _ in $(seq 300); do
    if grep -oE "$2" "$1" 2>/dev/null | head -n1 | grep .; then return; fi
    sleep 0.1
  done
  echo "timed out waiting for /$2/ in $1:" >&2; cat "$1" >&2; exit 1
}

# check_token URL FORM: the token request must answer 200 with an access_token
# (left in $TMP/token.json).
check_token() {
  local code
  code=$(curl -sS -o "$TMP/token.json" -w '%{http_code}' -d "$2" "$1")
  if [ "$code" != 200 ] || ! grep -q '"access_token"' "$TMP/token.json"; then
    echo "FAIL: POST $1 answered HTTP $code:" >&2; cat "$TMP/token.json" >&2; echo >&2
    exit 1
  fi
}

# --- padconnect ------------------------------------------------------------------
# PADCONNECT_BIN: a release binary built already (to compare two builds in
# one sitting); by default the tree's own, built here.
build_padconnect() {
  if [ -n "${PADCONNECT_BIN:-}" ]; then
    echo "== padconnect: $PADCONNECT_BIN" >&2
    return
  fi
  echo "== building padconnect (release)" >&2
  cargo build --release -p padconnect
}

# start_padconnect NAME WORLD [SERVE_ARGS...]: starts `padconnect serve` on a
# free loopback port with the data dir $TMP/NAME-data; sets PAD (its base URL)
# and PAD_PID once /healthz answers.
start_padconnect() {
  local name=$1 world=$2; shift 2
  # Port 0: the kernel picks a free port; the "listening" line (kept at info) tells which.
  RUST_LOG=warn,padconnect::serve=info "${PADCONNECT_BIN:-target/release/padconnect}" serve \
    --listen 127.0.0.1:0 --data-dir "$TMP/$name-data" --world "$world" --log-format json "$@" \
    2>"$TMP/$name.log" &
  PIDS+=($!)
  PAD_PID=$!
  PAD=$(wait_for "$TMP/$name.log" '"url":"http://127\.0\.0\.1:[0-9]+"' | cut -d'"' -f4)
  for _ in $(seq 100); do curl -sf "$PAD/healthz" >/dev/null && break; sleep 0.1; done
  curl -sSf "$PAD/healthz" >/dev/null
}

# stop PID: ends a process started here and waits for it.
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# --- measurements --------------------------------------------------------------
# cpu_ticks PID...: user+system CPU time the processes and their exited
# (reaped) children have used, in clock ticks.
cpu_ticks() {
  local pid
  for pid; do sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null || true; done |
    awk '{ t += $12 + $13 + $14 + $15 } END { print t + 0 }'
}
# busy_ticks: time all CPUs have spent on anything but idling (user, nice,
# system, irq, softirq, steal), in ticks.
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
# per_second TICKS SECONDS [DIGITS]: ticks over a run, as cores.
per_second() { awk -v d="$1" -v hz="$(getconf CLK_TCK)" -v s="$2" -v n="${3:-2}" 'BEGIN { printf "%.*f", n, d / hz / s }'; }
# rss_mib PID: the process's resident memory (VmRSS), in MiB.
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
# busy_pct: how busy the CPUs are over 2 s, before any load starts. Other
# work on the machine (a build, another benchmark) skews every figure here.
busy_pct() {
  local a b
  a=($(head -n1 /proc/stat)); sleep 2; b=($(head -n1 /proc/stat))
  awk -v idle=$((b[4] + b[5] - a[4] - a[5])) \
      -v all=$(( (b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + b[7] + b[8]) - (a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7] + a[8]) )) \
      'BEGIN { printf "%.0f", 100 * (1 - idle / all) }'
}
# check_busy: sets BUSY and warns when other work is running.
check_busy() {
  BUSY=$(busy_pct)
  echo "== CPUs $BUSY% busy before the runs" >&2
  [ "$BUSY" -le 10 ] || echo "WARNING: the machine is $BUSY% busy with other work; figures will be low and noisy" >&2
}
# field NAME LINE: the value of NAME=value in LINE.
field() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<" $2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# bench NAME CONNECTIONS SERVER_PID URL [SCRIPT_ARGS...]: one wrk run with the
# Lua script $WRK_LUA, which prints a RESULT line; SCRIPT_ARGS go to it after
# `--`. Adds a table row to ROWS and keeps req/s, p99 and the server's CPU
# (cores) in RPS, P99 and CORES under "NAME-CONNECTIONS". The row's "bad answers" column is the RESULT field $BAD.
# When EXTRA_CPU is set (a command printing PIDs, e.g. the database's), the
# row ends with one more column: the CPU those processes used.
# LOADGEN keeps the cores wrk itself used, and OTHERS those everything but
# the server used (wrk, interrupts, anything else running): all the
# machine's busy time less the server's, so nothing is counted twice.
WRK_LUA=bench/wrk.lua
BAD=non200
EXTRA_CPU=
ROWS=()
declare -A RPS P99 CORES LOADGEN OTHERS
bench() {
  local name=$1 conns=$2 pid=$3 url=$4; shift 4
  local threads=$((conns < 2 ? conns : 2)) out="$TMP/wrk-${name//[^A-Za-z0-9.-]/_}-$conns.txt"
  echo "== $name, $conns connections: wrk -t$threads -c$conns -d$DURATION $url" >&2
  local t0 t1 x0 x1 w0 w1 b0 b1 r cores secs extra=
  if (($#)); then set -- -- "$@"; fi
  [ -z "$EXTRA_CPU" ] || x0=$(cpu_ticks $($EXTRA_CPU))
  t0=$(cpu_ticks "$pid")
  # This shell's reaped children: wrk, once it has ended.
  w0=$(cpu_ticks $$)
  b0=$(busy_ticks)
  wrk --latency -t"$threads" -c"$conns" -d"$DURATION" -s "$WRK_LUA" "$url" "$@" >"$out"
  b1=$(busy_ticks)
  w1=$(cpu_ticks $$)
  t1=$(cpu_ticks "$pid")
  [ -z "$EXTRA_CPU" ] || x1=$(cpu_ticks $($EXTRA_CPU))
  cat "$out" >&2
  r=$(grep '^RESULT' "$out")
  secs=$(field secs "$r")
  cores=$(per_second "$((t1 - t0))" "$secs")
  [ -z "$EXTRA_CPU" ] || extra=" $(per_second "$((x1 - x0))" "$secs") |"
  RPS[$name-$conns]=$(field req_per_s "$r")
  P99[$name-$conns]=$(field p99_ms "$r")
  CORES[$name-$conns]=$cores
  LOADGEN[$name-$conns]=$(per_second "$((w1 - w0))" "$secs" 3)
  OTHERS[$name-$conns]=$(per_second "$((b1 - b0 - (t1 - t0)))" "$secs" 3)
  ROWS+=("| $name | $conns | $(field req_per_s "$r") | $(field p50_ms "$r") | $(field p99_ms "$r") | $(field "$BAD" "$r") | $(field socket_errors "$r") | $cores |$extra")
}
