#!/usr/bin/env bash
# Drives a throw-away hub from its OpenAPI description with Schemathesis (property-based:
# valid and invalid requests, every check) and fails on any finding: a response whose status,
# content type or body the description does not document, a valid request refused, an
# invalid one accepted, or a server error.
#
# The hub is the debug build, on a free port, with a temporary configuration and database:
# every webhook endpoint on, signatures off (Twilio's cannot be: its endpoints answer 401), and
# the generic, Placetel and sipgate webhooks' token known to the tester.
# The tester is an admin; the one operation that could revoke its own token (a new token for
# a login) runs last, alone.
#
# Schemathesis is installed, at the pinned version, in a virtualenv under target/.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
SEED=20261203
EXAMPLES=${API_FUZZ_EXAMPLES:-40}

root=$(cd "$(dirname "$0")/.." && pwd)
cargo=${CARGO:-cargo}
target_dir=${CARGO_TARGET_DIR:-$root/target}
venv=$root/target/schemathesis-venv

if [ "$("$venv/bin/st" --version 2>/dev/null)" != "st, version $SCHEMATHESIS_VERSION" ]; then
  echo "installing Schemathesis $SCHEMATHESIS_VERSION in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# Beside the test targets, with their features: after the tests, nothing is compiled again.
"$cargo" build --workspace --locked --bin ringside-hub --tests
hub_bin=$target_dir/debug/ringside-hub

work=$(mktemp -d)
hub_pid=""
cleanup() {
  if [ -n "$hub_pid" ]; then
    kill "$hub_pid" 2>/dev/null || true
    wait "$hub_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

config=$work/ringside.toml
"$hub_bin" --config "$config" init >/dev/null
export RINGSIDE_LISTEN=127.0.0.1:0
export RINGSIDE_DATA_DIR=$work/data
export RINGSIDE_PLACETEL_ENABLED=true
export RINGSIDE_SIPGATE_ENABLED=true
export RINGSIDE_SIPGATE_VERIFY_SIGNATURE=false
# One token for the generic, Placetel and sipgate webhooks, which scripts/api-fuzz.toml hands
# the tester; Twilio's requests cannot pass without a signature, so its token stays unknown.
export API_FUZZ_WEBHOOK_TOKEN=fuzz-webhook-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")
export RINGSIDE_GENERIC_TOKEN=$API_FUZZ_WEBHOOK_TOKEN
export RINGSIDE_PLACETEL_TOKEN=$API_FUZZ_WEBHOOK_TOKEN
export RINGSIDE_SIPGATE_TOKEN=$API_FUZZ_WEBHOOK_TOKEN
export RINGSIDE_TWILIO_ENABLED=true
export RINGSIDE_TWILIO_AUTH_TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")

login=schemathesis-admin
token=$("$hub_bin" --config "$config" agent add "$login" --name "API tester" --admin | tail -n 1)

log=$work/hub.log
RUST_LOG=ringside_hub=info "$hub_bin" --config "$config" serve 2>"$log" &
hub_pid=$!
addr=""
for _ in $(seq 1 300); do
  addr=$(sed -n 's/.*hub listening on \([0-9.:]*\).*/\1/p' "$log" | head -n 1)
  [ -n "$addr" ] && break
  kill -0 "$hub_pid" 2>/dev/null || { cat "$log" >&2; echo "the hub did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { cat "$log" >&2; echo "the hub did not say where it listens" >&2; exit 1; }
base=http://$addr

last_operation='POST /api/v1/admin/agents/{login}/token'
# From the temporary directory, where Schemathesis leaves its cache.
st_run() {
  (cd "$work" && "$venv/bin/st" --config-file "$root/scripts/api-fuzz.toml" run "$root/crates/ringside-hub/openapi.json" \
    --url "$base" \
    --header "Authorization: Bearer $token" \
    --checks all \
    --seed "$SEED" \
    --max-examples "$EXAMPLES" \
    --workers 1 \
    --generation-database none \
    --no-color \
    --report junit --report-dir "$work/report" \
    "$@")
}

status=0
echo "Schemathesis $SCHEMATHESIS_VERSION against $base (seed $SEED, $EXAMPLES examples per operation)"
st_run --exclude-path '/api/v1/admin/agents/{login}/token' || status=1
st_run --include-path '/api/v1/admin/agents/{login}/token' --phases examples,coverage,fuzzing || status=1
if [ "$status" -ne 0 ]; then
  echo "the hub's answers do not match crates/ringside-hub/openapi.json (see above; $last_operation ran last)" >&2
fi
exit "$status"
