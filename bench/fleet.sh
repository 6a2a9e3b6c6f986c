#!/usr/bin/env bash
# Fleet report benchmark: `padconnect report` over COUNT connections in five
# environments (10,000 by default), end to end (process start, sign-in, the
# connections API's list followed page by page through nextLink in each
# environment, the report printed as JSON), and the same with --output
# markdown; against `padconnect serve` on SQLite.
#
#   bash bench/fleet.sh                   # COUNT=10000
#
# One connection per environment is created through the API (the documented
# PUT); each environment's table is then filled by copying that row with
# fresh ids in one sqlite3 statement, with the server stopped, as
# bench/million.sh does. Load goes to 127.0.0.1 only; every process started
# here is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-10000}
ENVS=(37520647-dbdf-49fa-ba01-6134c14680c4 00000000-0000-0000-0000-000000000101
  00000000-0000-0000-0000-000000000102 00000000-0000-0000-0000-000000000103
  00000000-0000-0000-0000-000000000104)

source bench/lib.sh
need curl curl
need sqlite3 sqlite3
need jq jq

build_padconnect
check_busy
BIN=${PADCONNECT_BIN:-target/release/padconnect}

world_tenant >"$TMP/world.toml"
for i in "${!ENVS[@]}"; do
  cat >>"$TMP/world.toml" <<EOT
[[tenants.environments]]
id = "${ENVS[$i]}"
display_name = "Env $i"
org = "contoso$i"
application_users = ["$CLIENT"]
[[tenants.environments.machine_groups]]
id = "a4f1c3d2-0b9e-4f8a-9c7d-00000000000$i"
name = "Bots"
owner = "$CLIENT"
machines = ["BOT-$i"]
EOT
done

start_padconnect fleet "$TMP/world.toml"
check_token "$PAD/$TENANT/oauth2/v2.0/token" "$FORM"
TOKEN=$(sed -E 's/.*"access_token":"([^"]+)".*/\1/' "$TMP/token.json")
for i in "${!ENVS[@]}"; do
  env=${ENVS[$i]}
  body=$(sed -e "s/$ENV/$env/g" -e "s/$GROUP/a4f1c3d2-0b9e-4f8a-9c7d-00000000000$i/" <<<"$BODY")
  code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data-binary "$body" \
    "$PAD/environments/$env/connectivity/connectors/shared_uiflow/connections/$(cat /proc/sys/kernel/random/uuid | tr -d -)?api-version=1")
  [ "$code" = 201 ] || { echo "FAIL: the PUT in $env answered $code" >&2; exit 1; }
done
stop "$PAD_PID"

PER_ENV=$((COUNT / ${#ENVS[@]}))
sqlite3 "$TMP/fleet-data/platform.db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $PER_ENV - 1)
INSERT INTO connections (environment_id, id, connector, display_name, parameter_set, parameter_values,
  sealed_secrets, target_group_id, created_by_id, created_by_type, created_by_name, created_at, modified_at)
SELECT c.environment_id, lower(hex(randomblob(16))), c.connector, c.display_name || ' ' || n.i, c.parameter_set,
  c.parameter_values, c.sealed_secrets, c.target_group_id, c.created_by_id, c.created_by_type, c.created_by_name,
  c.created_at + n.i, c.modified_at + n.i
FROM connections c, n;
SQL
stored=$(sqlite3 "$TMP/fleet-data/platform.db" 'SELECT count(*) FROM connections')
mv "$TMP/fleet-data" "$TMP/loaded-data"
start_padconnect loaded "$TMP/world.toml"

export AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CLIENT AZURE_CLIENT_SECRET=$SECRET
ARGS=(--platform "$PAD")
for env in "${ENVS[@]}"; do ARGS+=(--environment "$env"); done
timed_report() { # format: median and slowest of 5 runs, in ms
  for _ in 1 2 3 4 5; do
    start=$(date +%s%N)
    "$BIN" report "${ARGS[@]}" --output "$1" >"$TMP/report.$1"
    echo $(( ($(date +%s%N) - start) / 1000000 ))
  done | sort -n | sed -n '3p;5p' | paste -sd' '
}
read -r JSON_P50 JSON_MAX <<<"$(timed_report json)"
listed=$(jq '.connections | length' "$TMP/report.json")
[ "$listed" = "$stored" ] || { echo "FAIL: the report listed $listed of $stored connections" >&2; exit 1; }
read -r MD_P50 MD_MAX <<<"$(timed_report markdown)"

echo
echo "CPUs $BUSY% busy before the runs (other work on the machine)."
echo
echo "| run | connections | environments | median (ms) | slowest (ms) |"
echo "| --- | ---: | ---: | ---: | ---: |"
echo "| report --output json | $listed | ${#ENVS[@]} | $JSON_P50 | $JSON_MAX |"
echo "| report --output markdown | $listed | ${#ENVS[@]} | $MD_P50 | $MD_MAX |"
