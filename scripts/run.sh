#!/usr/bin/env bash
# `make run`: with a display, builds and opens the desktop app, whose embedded hub needs no
# set-up. Without one, builds and runs the hub alone: on first run it writes ringside.toml
# and creates an admin agent, printing its token.
set -euo pipefail
config="${1:-ringside.toml}"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  (cd ui && npm ci --no-audit --no-fund && npm run build)
  cargo build --release --locked -p ringside
  echo "Opening Ringside. Settings shows the webhook URL for your PBX and sends a test call."
  exec target/release/ringside
fi

echo "No display found: running the hub alone (the desktop app needs a graphical session)."
cargo build --release --locked -p ringside-hub
hub=target/release/ringside-hub
if [ ! -f "$config" ]; then
  "$hub" --config "$config" init
fi
if [ -z "$("$hub" --config "$config" agent list)" ]; then
  echo "creating the first agent, an admin:"
  "$hub" --config "$config" agent add admin --name "Admin" --admin
fi
echo "Try a call from another terminal: $hub --config $config simulate inbound"
exec "$hub" --config "$config" serve
