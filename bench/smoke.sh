#!/usr/bin/env bash
# Benchmark smoke test for CI: after the workspace debug build, runs `fazhi-bench suite
# --smoke` (street scale, 200 petitions, ~2 s per scenario) against the debug `fazhi`
# binary on SQLite, and on PostgreSQL too when FAZHI_TEST_PG_URL is set. Fails when any
# request of any scenario failed, the ledger did not verify or the server did not stop
# cleanly. Speed is not judged here (see bench/README.md for the real suite).
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
cargo build -q -p fazhi -p fazhi-bench
bench="$target/debug/fazhi-bench"
server="$target/debug/fazhi"

"$bench" suite --smoke --engine sqlite --server "$server" -c 16
if [ -n "${FAZHI_TEST_PG_URL:-}" ]; then
  "$bench" suite --smoke --engine postgres --server "$server" -c 16 --pg-url "$FAZHI_TEST_PG_URL"
fi
echo "bench smoke: ok"
