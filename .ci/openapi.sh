#!/usr/bin/env bash
# The JSON API against its own OpenAPI document, on a running demo (a fresh, throw-away data
# directory):
#   1. /api/v1/openapi.json passes openapi-spec-validator;
#   2. schemathesis fuzzes every operation (state-changing POSTs included) as several demo
#      accounts, for a bounded time each, and fails on any 5xx, any undocumented status code,
#      content type or response body that does not match its schema.
# Needs python3 (with venv) and the PyPI registry; builds the binary unless FAZHI_BIN is set.
# By hand: `bash .ci/openapi.sh` (FUZZ_SECONDS=30 for a shorter run, FUZZ_SEED=N to replay).
set -euo pipefail
shopt -s inherit_errexit 2>/dev/null || true
cd "$(dirname "$0")/.."

# Exact versions: a new release must not change what CI checks.
SCHEMATHESIS=4.32.5
SPEC_VALIDATOR=0.9.0
FUZZ_SECONDS=${FUZZ_SECONDS:-120}
DEMO_PASSWORD='Fazhi@demo2026'

started=$(date +%s)
if [ -z "${FAZHI_BIN:-}" ]; then
  cargo build -q -p fazhi
  FAZHI_BIN="${CARGO_TARGET_DIR:-target}/debug/fazhi"
fi
FAZHI_BIN=$(realpath "$FAZHI_BIN")

work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check \
  "schemathesis==$SCHEMATHESIS" "openapi-spec-validator==$SPEC_VALIDATOR"

port=$((20000 + RANDOM % 20000))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((20000 + RANDOM % 20000)); done
base="http://127.0.0.1:$port"
"$FAZHI_BIN" --data-dir "$work/demo" serve --demo --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  curl -sf "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; echo "the demo server stopped"; exit 1; }
  sleep 1
done
curl -sf "$base/healthz" >/dev/null || { tail -50 "$work/serve.log"; echo "the demo server did not start"; exit 1; }
echo "demo up after $(($(date +%s) - started)) s (build, tools and demo data)"

# The bearer token of the demo's integration account (tokens belong to integration accounts,
# not to people): the demo prints it at start. Only this function knows how it is obtained.
demo_token() {
  grep -o 'fzt_[0-9a-z]*' "$work/serve.log" | head -n1
}

echo "openapi-spec-validator $SPEC_VALIDATOR"
curl -sf "$base/api/v1/openapi.json" -o "$work/openapi.json"
"$work/venv/bin/openapi-spec-validator" "$work/openapi.json"

# The 12345 integration account: the petitions desk's role (registers, handles, imports).
failed=0
for who in duijie12345; do
  token=$(demo_token)
  [ -n "$token" ] || { tail -30 "$work/serve.log"; echo "the demo printed no token"; exit 1; }
  echo "schemathesis $SCHEMATHESIS as $who (${FUZZ_SECONDS} s)"
  seed=()
  [ -n "${FUZZ_SEED:-}" ] && seed=(--seed "$FUZZ_SEED")
  # Run in the work dir: schemathesis keeps its example database (.hypothesis) in the cwd.
  if ! (cd "$work" && timeout $((FUZZ_SECONDS + 90)) "$work/venv/bin/st" run "$base/api/v1/openapi.json" \
    -H "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-time "$FUZZ_SECONDS" --request-timeout 20 --workers 2 --no-color --suppress-health-check all \
    "${seed[@]}" >"$work/st-$who.log" 2>&1); then
    cat "$work/st-$who.log"
    failed=1
  else
    grep -E "^(Test cases:|  [0-9]+ generated)" -A0 "$work/st-$who.log" || true
  fi
done

kill -TERM "$server"
wait "$server" || { tail -50 "$work/serve.log"; echo "the demo server did not stop cleanly"; failed=1; }
server=
if grep -q "panicked" "$work/serve.log"; then
  grep -B2 -A10 "panicked" "$work/serve.log" | head -60
  echo "the server panicked while fuzzed"
  failed=1
fi
echo "openapi step took $(($(date +%s) - started)) s"
[ "$failed" = 0 ] || { echo "the API does not keep its OpenAPI document (see above)"; exit 1; }
echo "ok"
