#!/usr/bin/env bash
# `make run`: builds and runs Ringside. On first run it writes ringside.toml and creates an
# admin agent, printing its token.
set -euo pipefail
config="${1:-ringside.toml}"

cargo build --release --locked -p ringside-hub
hub=target/release/ringside-hub

if [ ! -f "$config" ]; then
  "$hub" --config "$config" init
fi
if [ -z "$("$hub" --config "$config" agent list)" ]; then
  echo "creating the first agent, an admin:"
  "$hub" --config "$config" agent add admin --name "Admin" --admin
fi

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found: running the hub alone."
else
  echo "The desktop app is not part of this version yet: running the hub alone."
fi
echo "Try a call from another terminal: $hub --config $config simulate inbound"
exec "$hub" --config "$config" serve
