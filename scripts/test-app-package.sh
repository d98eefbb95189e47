#!/usr/bin/env bash
# The desktop app's Debian package, installed for real on this machine with dpkg (as root;
# with sudo otherwise) and used as an agent would: its files, its desktop entry (valid, the
# handler of tel: and callto: links), the system's handler for tel: being Ringside, a tel:
# link opened with xdg-open starting the installed app whose window appears, then removal
# (the handler goes with it).
#   scripts/headless-session.sh scripts/test-app-package.sh PACKAGE.deb
# Needs an X display (the headless session gives one). Refuses to run where a ringside
# package is installed already (it would replace it). Everything it installed is removed
# at the end, also when a check fails.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: scripts/test-app-package.sh PACKAGE.deb" >&2; exit 2; }
deb="$(realpath -- "$1")"
desktop_file=/usr/share/applications/Ringside.desktop
# The app's window appears within this many tenths of a second.
patience=600

fail() {
  echo "FAILED: app package: $*" >&2
  exit 1
}

[ -n "${DISPLAY:-}" ] || fail "no X display: run it in scripts/headless-session.sh"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo -n true 2>/dev/null ||
    fail "installing a package needs root: run make test as root or with password-less sudo"
  sudo="sudo -n"
fi
if dpkg-query -W -f='${Status}' ringside 2>/dev/null | grep -q "installed"; then
  fail "a ringside package is installed on this machine already: this test would replace it"
fi

home="$(mktemp -d)"
opener_pid=""
cleanup() {
  if [ -n "$opener_pid" ]; then
    pkill -TERM -f '^(/usr/bin/)?ringside( |$)' 2>/dev/null || true
    kill "$opener_pid" 2>/dev/null || true
    wait "$opener_pid" 2>/dev/null || true
  fi
  $sudo dpkg --purge ringside >/dev/null 2>&1 || true
  rm -rf "$home"
}
trap cleanup EXIT

# Who handles a link scheme for a user with no choices of their own.
handler() {
  env -u XDG_CONFIG_HOME HOME="$home" XDG_DATA_HOME="$home/.local/share" \
    xdg-mime query default "x-scheme-handler/$1" 2>/dev/null || true
}
[ "$(handler tel)" != Ringside.desktop ] || fail "Ringside handles tel: before the package is installed"

echo "app package: installing $deb" >&2
$sudo dpkg -i "$deb" >&2 || fail "dpkg -i failed (its dependencies: $(dpkg-deb -f "$deb" Depends))"

# The files an agent's desktop needs.
[ -x /usr/bin/ringside ] || fail "/usr/bin/ringside is not installed"
[ -f "$desktop_file" ] || fail "$desktop_file is not installed"
desktop-file-validate "$desktop_file" >&2 || fail "$desktop_file is not a valid desktop entry"
grep -qx 'Exec=ringside %u' "$desktop_file" ||
  fail "$desktop_file does not hand the link to the app: $(grep '^Exec=' "$desktop_file")"
for scheme in tel callto; do
  grep -q "^MimeType=.*x-scheme-handler/$scheme;" "$desktop_file" ||
    fail "$desktop_file does not declare x-scheme-handler/$scheme"
done
icon="$(sed -n 's/^Icon=//p' "$desktop_file")"
ls /usr/share/icons/hicolor/*/apps/"$icon".png >/dev/null 2>&1 ||
  fail "no icon $icon in /usr/share/icons/hicolor"

# The system's handler of tel: and callto: links is Ringside.
for scheme in tel callto; do
  [ "$(handler "$scheme")" = Ringside.desktop ] ||
    fail "the handler of $scheme: links is '$(handler "$scheme")', not Ringside.desktop"
done

# A tel: link opened as a browser or a mail client opens it starts the installed app, and
# its window appears. Its data goes to a directory of its own.
mkdir -p "$home/app"
env -u XDG_CONFIG_HOME HOME="$home" XDG_DATA_HOME="$home/.local/share" RINGSIDE_APP_DIR="$home/app" \
  setsid xdg-open 'tel:+4930609854180' >"$home/app.log" 2>&1 &
opener_pid=$!
shown=false
for _ in $(seq 1 "$patience"); do
  if xwininfo -name Ringside 2>/dev/null | grep -q 'Map State: IsViewable'; then
    shown=true
    break
  fi
  sleep 0.1
done
$shown || fail "no Ringside window after xdg-open tel:: $(tail -n 20 "$home/app.log")"
app_pid="$(pgrep -f '^(/usr/bin/)?ringside tel:' | head -n 1)" || true
[ -n "$app_pid" ] && [ "$(readlink "/proc/$app_pid/exe")" = /usr/bin/ringside ] ||
  fail "the window is not the installed app's, started with the link: $(pgrep -af ringside)"
# The installed app leaves the choice of handler to the package: nothing of its own in the
# user's settings, which would outlive the package.
[ "$(handler tel)" = Ringside.desktop ] || fail "after the app's start the handler of tel: is '$(handler tel)'"
[ ! -e "$home/.local/share/applications" ] && [ ! -e "$home/.config/mimeapps.list" ] ||
  fail "the installed app registered itself for the user: $(ls -R "$home/.local/share/applications" "$home/.config" 2>&1)"
kill -TERM "$app_pid" 2>/dev/null || true
kill "$opener_pid" 2>/dev/null || true
wait "$opener_pid" 2>/dev/null || true
opener_pid=""

# Removal takes the app and its handler.
$sudo dpkg -r ringside >&2 || fail "dpkg -r failed"
[ ! -e /usr/bin/ringside ] || fail "remove left /usr/bin/ringside"
[ ! -e "$desktop_file" ] || fail "remove left $desktop_file"
[ "$(handler tel)" != Ringside.desktop ] || fail "Ringside still handles tel: after removal"
$sudo dpkg -P ringside >&2 || fail "dpkg -P failed"
! dpkg-query -W ringside >/dev/null 2>&1 || fail "purge left the package known to dpkg"

echo "app package: ok (installed, handler of tel: and callto:, opened a tel: link, removed)" >&2
