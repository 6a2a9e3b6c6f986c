#!/usr/bin/env bash
# Solution deployment benchmark: `padconnect deploy` of the largest real
# solution zip (TerraformSolutionExample_1_0_0_1.zip, 9 KiB, a connection
# reference and three environment variables) against `padconnect serve`,
# and the server's memory over 1,000 imports of it through the Web API
# (StageSolution, ImportSolutionAsync, asyncoperations until done).
#
#   bash bench/deploy.sh                # 10 timed deploys, 1,000 imports
#   IMPORTS=200 bash bench/deploy.sh    # fewer imports
#
# All load goes to 127.0.0.1; every process started here is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

IMPORTS=${IMPORTS:-1000}
ZIP=crates/solution/tests/zips/TerraformSolutionExample_1_0_0_1.zip

source bench/lib.sh
need curl curl
need jq jq

build_padconnect
check_busy

world_tenant >"$TMP/world.toml"
cat >>"$TMP/world.toml" <<EOT
[[tenants.environments]]
id = "$ENV"
display_name = "Bench"
org = "contoso"
application_users = ["$CLIENT"]
EOT
start_padconnect padconnect "$TMP/world.toml"
BIN=${PADCONNECT_BIN:-target/release/padconnect}
DV="$PAD/orgs/contoso/api/data/v9.2"

# --- the CLI: one whole deploy (process start, sign-in, org lookup, stage,
# import, poll, the report), ten times with --force.
export AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CLIENT AZURE_CLIENT_SECRET=$SECRET
"$BIN" deploy --platform "$PAD" --environment "$ENV" --solution "$ZIP" --output json >"$TMP/first.json"
jq -e '.action == "imported"' "$TMP/first.json" >/dev/null
for i in $(seq 10); do
  start=$(date +%s%N)
  "$BIN" deploy --platform "$PAD" --environment "$ENV" --solution "$ZIP" --force --output json >/dev/null 2>&1
  echo $(( ($(date +%s%N) - start) / 1000000 ))
done | sort -n >"$TMP/deploy-ms.txt"
DEPLOY_P50=$(sed -n 5p "$TMP/deploy-ms.txt")
DEPLOY_MAX=$(tail -n1 "$TMP/deploy-ms.txt")

# --- the server's memory over many imports through the Web API.
TOKEN=$(curl -sS -d "grant_type=client_credentials&client_id=$CLIENT&client_secret=$SECRET&scope=https%3A%2F%2Fcontoso.crm.dynamics.com%2F.default" \
  "$PAD/$TENANT/oauth2/v2.0/token" | jq -r .access_token)
printf '{"CustomizationFile":"%s"}' "$(base64 -w0 "$ZIP")" >"$TMP/stage.json"
call() { curl -sS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
import_once() {
  local upload job
  upload=$(call -d @"$TMP/stage.json" "$DV/StageSolution" | jq -r .StageSolutionResults.StageSolutionUploadId)
  job=$(call -d '{"PublishWorkflows":true,"OverwriteUnmanagedCustomizations":false,"SolutionParameters":{"StageSolutionUploadId":"'"$upload"'"}}' \
    "$DV/ImportSolutionAsync" | jq -r .AsyncOperationId)
  until [ "$(call "$DV/asyncoperations($job)" | jq -r .statuscode)" = 30 ]; do :; done
}
echo "| imports | server RSS (MiB) | seconds since the first |" >"$TMP/rss.md"
echo "| ---: | ---: | ---: |" >>"$TMP/rss.md"
started=$(date +%s)
for i in $(seq 0 "$IMPORTS"); do
  if [ $((i % (IMPORTS / 10))) = 0 ]; then
    echo "| $i | $(rss_mib "$PAD_PID") | $(( $(date +%s) - started )) |" >>"$TMP/rss.md"
  fi
  [ "$i" = "$IMPORTS" ] || import_once
done

echo
echo "CPUs $BUSY% busy before the runs (other work on the machine)."
echo
echo "padconnect deploy of $(basename "$ZIP") ($(stat -c %s "$ZIP") bytes), 10 runs with --force: median $DEPLOY_P50 ms, slowest $DEPLOY_MAX ms."
echo
cat "$TMP/rss.md"
