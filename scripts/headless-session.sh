#!/usr/bin/env bash
# Runs a command in a desktop session of its own, with no monitor: an X server (Xvfb), a
# D-Bus session bus, an unlocked Secret Service keyring (gnome-keyring), a kernel session
# keyring, and a notification daemon (dunst). Used by `make test` for the desktop tests.
set -euo pipefail
if [ -z "${RINGSIDE_HEADLESS_SESSION:-}" ]; then
  export RINGSIDE_HEADLESS_SESSION=1
  exec xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
    dbus-run-session -- keyctl session - "$0" "$@"
fi
XDG_DATA_HOME=$(mktemp -d)
export XDG_DATA_HOME NO_AT_BRIDGE=1
# A non-empty password: with an empty one gnome-keyring asks for one in a dialog.
printf 'headless-session' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
dunst >"$XDG_DATA_HOME/dunst.log" 2>&1 &
has_owner() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'
}
for _ in $(seq 100); do
  has_owner org.freedesktop.secrets && has_owner org.freedesktop.Notifications && break
  sleep 0.1
done
"$@"
