#!/usr/bin/env bash
# The hub's Debian package, installed for real on this machine with dpkg (as root; with
# sudo otherwise): the ringside system user, the configuration written with fresh tokens
# (root:ringside 0640) and kept on reinstall, the data directory, the systemd unit checked
# by systemd-analyze verify, the installed binary serving as the ringside user and
# answering a webhook, then remove (the configuration stays) and purge (it goes).
#   scripts/test-hub-package.sh PACKAGE.deb
# Refuses to run where a ringside-hub package is installed already (it would replace it).
# Everything it installed is removed at the end, also when a check fails.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: scripts/test-hub-package.sh PACKAGE.deb" >&2; exit 2; }
deb="$(realpath -- "$1")"
config=/etc/ringside/ringside.toml

fail() {
  echo "FAILED: hub package: $*" >&2
  exit 1
}

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo -n true 2>/dev/null ||
    fail "installing a package needs root: run make test as root or with password-less sudo"
  sudo="sudo -n"
fi

if dpkg-query -W -f='${Status}' ringside-hub 2>/dev/null | grep -q "installed"; then
  fail "a ringside-hub package is installed on this machine already: this test would replace it"
fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "installing systemd (for systemd-analyze; it is not started)" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=300 systemd >&2 || fail "cannot install systemd for systemd-analyze"
fi

user_existed=false
getent passwd ringside >/dev/null && user_existed=true
serve_pid=""
log="$(mktemp)"
cleanup() {
  [ -n "$serve_pid" ] && $sudo kill "$serve_pid" 2>/dev/null || true
  $sudo dpkg --purge ringside-hub >/dev/null 2>&1 || true
  $sudo rm -rf /var/lib/ringside
  if ! $user_existed && getent passwd ringside >/dev/null; then
    $sudo deluser --system --quiet ringside >/dev/null 2>&1 || true
    $sudo delgroup --system --quiet ringside >/dev/null 2>&1 || true
  fi
  rm -f "$log"
}
trap cleanup EXIT

echo "hub package: installing $deb" >&2
$sudo dpkg -i "$deb" >&2 || fail "dpkg -i failed"
[ -x /usr/bin/ringside-hub ] || fail "/usr/bin/ringside-hub is not installed"

# The system user.
uid="$(getent passwd ringside | cut -d: -f3)" || fail "postinst made no user ringside"
[ "$uid" -lt 1000 ] || fail "ringside is not a system user (uid $uid)"
case "$(getent passwd ringside | cut -d: -f7)" in
  */nologin | */false) ;;
  *) fail "ringside may log in: $(getent passwd ringside)" ;;
esac

# The configuration: fresh tokens, readable by root and the service's group only.
[ "$($sudo stat -c '%U:%G %a' "$config")" = "root:ringside 640" ] ||
  fail "$config is $($sudo stat -c '%U:%G %a' "$config"), not root:ringside 640"
[ "$($sudo stat -c '%U:%G %a' /etc/ringside)" = "root:ringside 750" ] ||
  fail "/etc/ringside is $($sudo stat -c '%U:%G %a' /etc/ringside)"
$sudo grep -qx 'data_dir = "/var/lib/ringside"' "$config" || fail "$config does not keep the journal in /var/lib/ringside"
token="$($sudo sed -n '/^\[generic\]/,/^\[/s/^token = "\(.*\)"$/\1/p' "$config")"
[ ${#token} -ge 16 ] || fail "$config has no generic token"
[ "$($sudo stat -c '%U:%G %a' /var/lib/ringside)" = "ringside:ringside 700" ] ||
  fail "/var/lib/ringside is $($sudo stat -c '%U:%G %a' /var/lib/ringside)"

# The unit, as systemd reads it.
$sudo systemd-analyze verify /usr/lib/systemd/system/ringside-hub.service >&2 ||
  fail "systemd-analyze verify refused the unit"

# Installing again (an upgrade) keeps the configuration and its tokens.
before="$($sudo sha256sum "$config")"
$sudo dpkg -i "$deb" >&2 || fail "installing again failed"
[ "$($sudo sha256sum "$config")" = "$before" ] || fail "installing again changed $config"

# The installed binary, as the service runs it, answers a webhook; it leaves the
# configuration's mode as the package set it, without a warning.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
$sudo env RINGSIDE_LISTEN="127.0.0.1:$port" runuser -u ringside -- \
  /usr/bin/ringside-hub --config "$config" serve >"$log" 2>&1 &
serve_pid=$!
up=false
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
    up=true
    break
  fi
  sleep 0.1
done
$up || fail "the installed hub did not come up as ringside: $(cat "$log")"
status="$(curl -sS -o /dev/null -w '%{http_code}' -X POST \
  --data 'event=newCall&direction=in&callId=pkg-1&from=4930609854180&to=4930600000000' \
  "http://127.0.0.1:$port/api/v1/cti/$token")"
[ "$status" = 200 ] || fail "the generic webhook answered $status: $(cat "$log")"
[ "$($sudo stat -c '%U %a' /var/lib/ringside/ringside.sqlite)" = "ringside 600" ] ||
  fail "the journal is $($sudo stat -c '%U %a' /var/lib/ringside/ringside.sqlite)"
$sudo kill "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
serve_pid=""
[ "$($sudo stat -c '%U:%G %a' "$config")" = "root:ringside 640" ] || fail "serving changed $config's mode"
! grep -q "ringside.toml" "$log" || fail "serving warned about the configuration: $(grep ringside.toml "$log")"

# Remove keeps the configuration; purge removes it.
$sudo dpkg -r ringside-hub >&2 || fail "dpkg -r failed"
[ ! -e /usr/bin/ringside-hub ] || fail "remove left /usr/bin/ringside-hub"
$sudo test -f "$config" || fail "remove took $config (its tokens are in the PBX)"
$sudo dpkg -P ringside-hub >&2 || fail "dpkg -P failed"
[ ! -e /etc/ringside ] || fail "purge left /etc/ringside"
! dpkg-query -W ringside-hub >/dev/null 2>&1 || fail "purge left the package known to dpkg"

echo "hub package: ok (installed, verified, served a webhook as ringside, removed, purged)" >&2
