#!/usr/bin/env bash
# Transparent mode's cost: the token request sent straight to the platform
# and through it as an HTTPS proxy (a kept-alive CONNECT tunnel with TLS),
# alternated in one run by crates/platform/examples/tunnel_load.rs.
#
#   bash bench/tunnel.sh                      # 10 s per round, 16 concurrent, 2 rounds each
#   SECONDS_PER_ROUND=5 CONCURRENCY=1 bash bench/tunnel.sh
#
# All load goes to 127.0.0.1; every round has a fixed duration; every
# process started here is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/lib.sh
need curl curl
SECONDS_PER_ROUND=${SECONDS_PER_ROUND:-10}
CONCURRENCY=${CONCURRENCY:-16}
ROUNDS=${ROUNDS:-2}

build_padconnect
cargo build --release -q -p padconnect-platform --example tunnel_load
check_busy
world_tenant >"$TMP/world.toml"
start_padconnect padconnect "$TMP/world.toml"
check_token "$PAD/$TENANT/oauth2/v2.0/token" "$FORM"

target/release/examples/tunnel_load "$PAD" "$TMP/padconnect-data/tls/ca.pem" "$TENANT" "$CLIENT" "$SECRET" \
  "$SECONDS_PER_ROUND" "$CONCURRENCY" "$ROUNDS" | tee "$TMP/rounds.txt" >&2

echo
echo "CPUs $BUSY% busy before the runs; $CONCURRENCY concurrent requests, ${SECONDS_PER_ROUND} s a round."
echo
echo "| mode | requests | s | req/s | p50 (ms) | p99 (ms) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
awk '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$TMP/rounds.txt"
awk '$1 == "direct" { d += $4; nd++ } $1 == "tunnel" { t += $4; nt++ }
     END { printf "\n- time per token through the tunnel / direct: **%.2f** (target <= 1.5)\n", (d / nd) / (t / nt) }' "$TMP/rounds.txt"
