#!/usr/bin/env bash
# Token issuance benchmark: padconnect's client_credentials token endpoint
# against the machine's RSA-2048 signing ceiling (openssl speed) and against
# oauth2-mock-server (npm).
#
#   bash bench/tokens.sh                  # everything
#   COMPARE=0 bash bench/tokens.sh        # skip oauth2-mock-server
#   DURATION=30s bash bench/tokens.sh     # longer wrk runs (default 10s)
#
# All load goes to 127.0.0.1; every wrk run has a fixed duration; every
# process started here is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
COMPARE=${COMPARE:-1}
TENANT=8a235459-3d2c-415d-8c1e-e2fe133509ad
CLIENT=5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40
SECRET=bench-secret-value
FORM="grant_type=client_credentials&client_id=$CLIENT&client_secret=$SECRET&scope=https%3A%2F%2Fapi.powerplatform.com%2F.default"

# --- tools -------------------------------------------------------------------
apt_updated=0
need() { # command debian-package
  command -v "$1" >/dev/null && return
  [ "$apt_updated" = 1 ] || { apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need curl curl
need wrk wrk
need openssl openssl
if [ "$COMPARE" = 1 ]; then need node nodejs; need npm npm; fi

# --- processes and cleanup ---------------------------------------------------
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
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

# check_token URL: the token request must answer 200 with an access_token.
check_token() {
  local code
  code=$(curl -sS -o "$TMP/token.json" -w '%{http_code}' -d "$FORM" "$1")
  if [ "$code" != 200 ] || ! grep -q '"access_token"' "$TMP/token.json"; then
    echo "FAIL: POST $1 answered HTTP $code:" >&2; cat "$TMP/token.json" >&2; echo >&2
    exit 1
  fi
}

# --- measurements --------------------------------------------------------------
# cpu_ticks PID: user+system CPU time the process has used, in clock ticks.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# busy_pct: how busy the CPUs are over 2 s, before any load starts. Other
# work on the machine (a build, another benchmark) skews every figure here.
busy_pct() {
  local a b
  a=($(head -n1 /proc/stat)); sleep 2; b=($(head -n1 /proc/stat))
  awk -v idle=$((b[4] + b[5] - a[4] - a[5])) \
      -v all=$(( (b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + b[7] + b[8]) - (a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7] + a[8]) )) \
      'BEGIN { printf "%.0f", 100 * (1 - idle / all) }'
}
# field NAME LINE: the value of NAME=value in LINE.
field() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<" $2"; }

ROWS=()
declare -A RPS
# bench NAME CONNECTIONS SERVER_PID URL [FORM]: one wrk run; POSTs FORM when given.
bench() {
  local name=$1 conns=$2 pid=$3 url=$4 form=${5:-}
  local threads=$((conns < 2 ? conns : 2)) out="$TMP/wrk-$name-$conns.txt"
  echo "== $name, $conns connections: wrk -t$threads -c$conns -d$DURATION $url" >&2
  local t0 t1 r cores
  t0=$(cpu_ticks "$pid")
  wrk --latency -t"$threads" -c"$conns" -d"$DURATION" -s bench/wrk.lua "$url" ${form:+-- "$form"} >"$out"
  t1=$(cpu_ticks "$pid")
  cat "$out" >&2
  r=$(grep '^RESULT' "$out")
  cores=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v s="$(field secs "$r")" 'BEGIN { printf "%.2f", d / hz / s }')
  RPS[$name-$conns]=$(field req_per_s "$r")
  ROWS+=("| $name | $conns | $(field req_per_s "$r") | $(field p50_ms "$r") | $(field p99_ms "$r") | $(field non200 "$r") | $(field socket_errors "$r") | $cores |")
}

echo "== building padconnect (release)" >&2
cargo build --release -p padconnect
BUSY=$(busy_pct)
echo "== CPUs $BUSY% busy before the runs" >&2
[ "$BUSY" -le 10 ] || echo "WARNING: the machine is $BUSY% busy with other work; figures will be low and noisy" >&2

cat >"$TMP/world.toml" <<EOF
[[tenants]]
id = "$TENANT"
domain = "contoso.onmicrosoft.com"
[[tenants.apps]]
display_name = "deploy-pipeline"
client_id = "$CLIENT"
secrets = ["$SECRET"]
EOF
# Port 0: the kernel picks a free port; the "listening" line (kept at info) tells which.
RUST_LOG=warn,padconnect::serve=info target/release/padconnect serve \
  --listen 127.0.0.1:0 --data-dir "$TMP/data" --world "$TMP/world.toml" --log-format json \
  2>"$TMP/padconnect.log" &
PIDS+=($!)
PAD_PID=$!
PAD=$(wait_for "$TMP/padconnect.log" '"url":"http://127\.0\.0\.1:[0-9]+"' | cut -d'"' -f4)
for _ in $(seq 100); do curl -sf "$PAD/healthz" >/dev/null && break; sleep 0.1; done
curl -sSf "$PAD/healthz" >/dev/null
PAD_TOKEN="$PAD/$TENANT/oauth2/v2.0/token"
check_token "$PAD_TOKEN"
echo "== padconnect at $PAD answers 200 with a token" >&2

for c in 1 16 64; do bench padconnect-token "$c" "$PAD_PID" "$PAD_TOKEN" "$FORM"; done
bench padconnect-healthz 64 "$PAD_PID" "$PAD/healthz"

echo "== openssl speed -seconds 5 -multi 2 rsa2048" >&2
openssl speed -seconds 5 -multi 2 rsa2048 >"$TMP/speed.txt" 2>/dev/null
cat "$TMP/speed.txt" >&2
SIGN=$(awk '/^rsa +2048 bits/ {print $6}' "$TMP/speed.txt")
[ -n "$SIGN" ] || { echo "FAIL: no rsa 2048 sign/s in openssl speed output" >&2; exit 1; }

if [ "$COMPARE" = 1 ]; then
  echo "== installing oauth2-mock-server" >&2
  npm install --no-save --no-audit --no-fund --silent --prefix "$TMP/oms" oauth2-mock-server >&2
  OMS_VERSION=$(node -p "require('$TMP/oms/node_modules/oauth2-mock-server/package.json').version")
  # With no --jwk it generates an RSA key (RS256, 2048 bits) at start.
  "$TMP/oms/node_modules/.bin/oauth2-mock-server" -a 127.0.0.1 -p 0 >"$TMP/oms.log" 2>&1 &
  PIDS+=($!)
  OMS_PID=$!
  OMS=$(wait_for "$TMP/oms.log" 'http://127\.0\.0\.1:[0-9]+')
  check_token "$OMS/token"
  echo "== oauth2-mock-server $OMS_VERSION at $OMS answers 200 with a token" >&2
  bench "oauth2-mock-server-$OMS_VERSION-token" 16 "$OMS_PID" "$OMS/token" "$FORM"
fi

# --- report ----------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "CPUs $BUSY% busy before the runs (other work on the machine)."
echo
echo "| run | connections | req/s | p50 (ms) | p99 (ms) | non-200 | socket errors | server CPU (cores) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${ROWS[@]}"
echo "| openssl speed rsa2048, 2 processes | - | $SIGN sign/s | - | - | - | - | 2 |"
echo
echo "- padconnect token req/s at 64 connections / openssl 2-process RSA-2048 sign/s:" \
  "${RPS[padconnect-token-64]} / $SIGN = **$(ratio "${RPS[padconnect-token-64]}" "$SIGN")** (target >= 0.85)"
if [ "$COMPARE" = 1 ]; then
  OMS_RPS=${RPS[oauth2-mock-server-$OMS_VERSION-token-16]}
  echo "- padconnect / oauth2-mock-server $OMS_VERSION token req/s at 16 connections:" \
    "${RPS[padconnect-token-16]} / $OMS_RPS = **$(ratio "${RPS[padconnect-token-16]}" "$OMS_RPS")** (target >= 2)"
fi
