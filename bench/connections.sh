#!/usr/bin/env bash
# Connections API benchmark: PUT (create) and GET of Power Platform
# connections on `padconnect serve`, path-style, on SQLite (the data dir) and
# on PostgreSQL (127.0.0.1:5432, database `test`, a schema of its own that is
# dropped at the end), against the server's own /healthz as the ceiling.
#
#   bash bench/connections.sh                     # both backends
#   BACKENDS=sqlite bash bench/connections.sh     # one backend
#   DURATION=30s bash bench/connections.sh        # longer wrk runs (default 10s)
#
# All load goes to 127.0.0.1; every wrk run has a fixed duration; every
# process started here is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

BACKENDS=${BACKENDS:-sqlite postgres}
PG="psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -qAt"
SCHEMA=bench_connections_$(date +%s)_$$

source bench/lib.sh
need curl curl
need wrk wrk
need sqlite3 sqlite3
need psql postgresql-client
WRK_LUA=bench/connections.lua
BAD=non2xx
# The database server's CPU in a column of its own: PostgreSQL runs on this machine
# (all processes of user postgres; the postmaster's counts its exited backends).
postgres_pids() { pgrep -u postgres -d ' ' || true; }
EXTRA_CPU=postgres_pids
SCHEMA_MADE=0
on_exit() { [ "$SCHEMA_MADE" = 0 ] || $PG -c "SET client_min_messages = warning" -c "DROP SCHEMA $SCHEMA CASCADE" >&2; }

build_padconnect
check_busy

{ world_tenant; cat <<EOF; } >"$TMP/world.toml"
[[tenants.users]]
upn = "admin@contoso.onmicrosoft.com"
display_name = "Admin"
password = "example-password"
[[tenants.environments]]
id = "$ENV"
display_name = "Prod"
org = "contoso"
application_users = ["$CLIENT"]
makers = ["admin@contoso.onmicrosoft.com"]
[[tenants.environments.machine_groups]]
id = "$GROUP"
name = "Finance bots"
owner = "admin@contoso.onmicrosoft.com"
machines = ["FIN-VM-01"]
shared_with = [{ client_id = "$CLIENT", role = "user" }]
EOF

# expect CODE METHOD URL [BODY]: the request must answer CODE.
expect() {
  local code
  code=$(curl -sS -o "$TMP/answer.json" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $TOKEN" \
    ${4:+-H 'Content-Type: application/json' --data-binary "$4"} "$3")
  [ "$code" = "$1" ] || { echo "FAIL: $2 $3 answered HTTP $code, not $1:" >&2; cat "$TMP/answer.json" >&2; echo >&2; exit 1; }
}

# stored BACKEND: how many connections the database holds.
stored() {
  case $1 in
    sqlite) sqlite3 "$TMP/sqlite-data/platform.db" 'SELECT count(*) FROM connections' ;;
    postgres) $PG -c "SELECT count(*) FROM $SCHEMA.connections" ;;
  esac
}

declare -A REPORT
# run BACKEND [SERVE_ARGS...]: starts a server, measures it, stops it; the
# backend's table and memory line go to REPORT[BACKEND].
run() {
  local b=$1 rss_idle rss_put count; shift
  start_padconnect "$b" "$TMP/world.toml" "$@"
  sleep 1
  rss_idle=$(rss_mib "$PAD_PID")
  check_token "$PAD/$TENANT/oauth2/v2.0/token" "$FORM"
  TOKEN=$(sed -E 's/.*"access_token":"([^"]+)".*/\1/' "$TMP/token.json")
  local base="$PAD/environments/$ENV/connectivity/connectors/shared_uiflow/connections"
  local one="$base/$(cat /proc/sys/kernel/random/uuid)?api-version=1"
  expect 201 PUT "$one" "$BODY"
  expect 200 PUT "$one" "$BODY"
  expect 200 GET "$one"
  echo "== $b: padconnect at $PAD: PUT answers 201 then 200, GET 200" >&2

  ROWS=()
  for c in 1 16 64; do bench "$b PUT" "$c" "$PAD_PID" "$base/new?api-version=1" "$TOKEN" "$BODY"; done
  rss_put=$(rss_mib "$PAD_PID")
  count=$(stored "$b")
  for c in 1 16 64; do bench "$b GET" "$c" "$PAD_PID" "$one" "$TOKEN"; done
  bench "$b /healthz" 64 "$PAD_PID" "$PAD/healthz" "$TOKEN"
  stop "$PAD_PID"

  REPORT[$b]=$(
    echo "| run | connections | req/s | p50 (ms) | p99 (ms) | non-2xx | socket errors | server CPU (cores) | postgres CPU (cores) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Server memory (VmRSS): $rss_idle MiB idle after start, $rss_put MiB after the PUT runs, with $count connections stored."
  )
}

for b in $BACKENDS; do
  case $b in
    sqlite) run sqlite ;;
    postgres)
      $PG -c "CREATE SCHEMA $SCHEMA"
      SCHEMA_MADE=1
      run postgres --database "postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D$SCHEMA"
      ;;
    *) echo "unknown backend '$b' (sqlite, postgres)" >&2; exit 1 ;;
  esac
done

# --- report ----------------------------------------------------------------------
# verdict VALUE OP TARGET: "met" or "**not met**".
verdict() { awk -v v="$1" -v t="$3" "BEGIN { exit !(v $2 t) }" && echo met || echo "**not met**"; }
echo
echo "CPUs $BUSY% busy before the runs (other work on the machine)."
for b in $BACKENDS; do
  get=${RPS[$b GET-64]} put=${RPS[$b PUT-64]} health=${RPS[$b /healthz-64]}
  get_p99=${P99[$b GET-64]} health_p99=${P99[$b /healthz-64]}
  echo
  echo "### $b"
  echo
  echo "${REPORT[$b]}"
  echo
  # The targets of docs/benchmarks.md, each a ratio to the same server's
  # /healthz in this run.
  r=$(ratio "$get" "$health")
  echo "- GET req/s at 64 / /healthz req/s at 64: $get / $health = **$r** (target >= 0.50: $(verdict "$r" '>=' 0.50))"
  r=$(ratio "$get_p99" "$health_p99")
  echo "- GET p99 at 64 / /healthz p99 at 64: $get_p99 / $health_p99 ms = **$r** (target <= 3: $(verdict "$r" '<=' 3))"
  r=$(awk -v a="$put" -v b="$health" 'BEGIN { printf "%.3f", a / b }')
  echo "- PUT req/s at 64 / /healthz req/s at 64: $put / $health = **$r** (target >= 0.20: $(verdict "$r" '>=' 0.20));" \
    "PUT p99 at 64: ${P99[$b PUT-64]} ms"
done
