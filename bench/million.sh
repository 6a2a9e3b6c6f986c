#!/usr/bin/env bash
# A million connections stored: the server's memory and the cost of GET and
# of listing, on SQLite.
#
#   bash bench/million.sh                 # COUNT=1000000 DURATION=10s by default
#
# One connection is created through the API (the documented PUT); the database is
# then filled by copying that row COUNT-1 times with fresh random ids, in one
# sqlite3 statement, with the server stopped (a million PUTs would take
# minutes and measure nothing new: bench/connections.sh measures PUT). Every
# copy has the same shape as a real row, sealed secrets included (they stay
# bound to the first id and are never opened by GET or list). Then the
# server restarts on that database and is measured. Load goes to 127.0.0.1
# only; every process started here is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-1000000}

source bench/lib.sh
need curl curl
need wrk wrk
need sqlite3 sqlite3
WRK_LUA=bench/connections.lua
BAD=non2xx

build_padconnect
check_busy

{ world_tenant; cat <<EOF; } >"$TMP/world.toml"
[[tenants.environments]]
id = "$ENV"
display_name = "Prod"
org = "contoso"
application_users = ["$CLIENT"]
[[tenants.environments.machine_groups]]
id = "$GROUP"
name = "Finance bots"
owner = "$CLIENT"
machines = ["FIN-VM-01"]
EOF

# timed URL: seconds for one GET (curl's time_total), checking it answers 200.
timed() {
  local out
  out=$(curl -sS -o "$TMP/page.json" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $TOKEN" "$1")
  [ "${out% *}" = 200 ] || { echo "FAIL: GET $1 answered ${out% *}" >&2; cat "$TMP/page.json" "$TMP"/*.log >&2; exit 1; }
  echo "${out#* }"
}

start_padconnect million "$TMP/world.toml"
check_token "$PAD/$TENANT/oauth2/v2.0/token" "$FORM"
TOKEN=$(sed -E 's/.*"access_token":"([^"]+)".*/\1/' "$TMP/token.json")
ONE=$(cat /proc/sys/kernel/random/uuid | tr -d -)
BASE="$PAD/environments/$ENV/connectivity"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' --data-binary "$BODY" "$BASE/connectors/shared_uiflow/connections/$ONE?api-version=1")
[ "$code" = 201 ] || { echo "FAIL: the PUT answered $code" >&2; exit 1; }
stop "$PAD_PID"

DB="$TMP/million-data/platform.db"
echo "== copying the connection $((COUNT - 1)) times into $DB" >&2
t0=$(date +%s.%N)
sqlite3 "$DB" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $COUNT - 1)
INSERT INTO connections (environment_id, id, connector, display_name, parameter_set, parameter_values,
  sealed_secrets, target_group_id, created_by_id, created_by_type, created_by_name, created_at, modified_at)
SELECT c.environment_id, lower(hex(randomblob(16))), c.connector, c.display_name || ' ' || n.i, c.parameter_set,
  c.parameter_values, c.sealed_secrets, c.target_group_id, c.created_by_id, c.created_by_type, c.created_by_name,
  c.created_at + n.i, c.modified_at + n.i
FROM connections c, n;
SQL
t1=$(date +%s.%N)
stored=$(sqlite3 "$DB" 'SELECT count(*) FROM connections')
size=$(du -m "$DB" | cut -f1)
echo "== $stored connections stored ($size MiB), copied in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s" >&2

# A name of its own: start_padconnect reads the address from "$TMP/NAME.log".
mv "$TMP/million-data" "$TMP/loaded-data"
start_padconnect loaded "$TMP/world.toml"
sleep 1
rss_start=$(rss_mib "$PAD_PID")
check_token "$PAD/$TENANT/oauth2/v2.0/token" "$FORM"
TOKEN=$(sed -E 's/.*"access_token":"([^"]+)".*/\1/' "$TMP/token.json")
BASE="$PAD/environments/$ENV/connectivity"
first_page=$(timed "$BASE/connections?api-version=1")
items=$(grep -o '"name":"[0-9a-f]\{32\}"' "$TMP/page.json" | wc -l)
next=$(sed -E 's/.*"nextLink":"([^"]+)".*/\1/' "$TMP/page.json")
second_page=$(timed "$next")
tenant_page=$(timed "$PAD/connectivity/environments/$ENV/connections?api-version=1")
for c in 1 64; do bench "GET one of $stored" "$c" "$PAD_PID" "$BASE/connectors/shared_uiflow/connections/$ONE?api-version=1" "$TOKEN"; done
rss_after=$(rss_mib "$PAD_PID")
stop "$PAD_PID"

echo
echo "CPUs $BUSY% busy before the runs (other work on the machine)."
echo
echo "| run | connections | req/s | p50 (ms) | p99 (ms) | non-2xx | socket errors | server CPU (cores) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${ROWS[@]}"
echo
echo "- Stored: $stored connections, SQLite file $size MiB."
echo "- Server memory (VmRSS): $rss_start MiB after start, $rss_after MiB after the GET runs."
echo "- First page of the environment's list ($items connections and a nextLink): $first_page s; the page after it: $second_page s; the tenant host's first page: $tenant_page s."
