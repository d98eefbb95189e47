#!/usr/bin/env bash
# The hub's Debian package, ringside-hub_VERSION_ARCH.deb, from a binary already built:
#   scripts/package-hub.sh [release|debug]   (default release; `make package-hub` builds it)
# prints the package's path on stdout. The package holds /usr/bin/ringside-hub, its systemd
# unit and the maintainer scripts of crates/ringside-hub/debian/ (a system user ringside,
# /etc/ringside/ringside.toml written with fresh tokens on the first install, the service
# started where systemd runs). Built with dpkg-deb: files owned by root.
set -euo pipefail

profile="${1:-release}"
case "$profile" in release | debug) ;; *) echo "usage: scripts/package-hub.sh [release|debug]" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."

die() {
  echo "scripts/package-hub.sh: $*" >&2
  exit 1
}

command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb is missing: packages are built on Debian or Ubuntu"
target="${CARGO_TARGET_DIR:-target}"
binary="$target/$profile/ringside-hub"
[ -x "$binary" ] || die "$binary is missing: build it first (make package-hub builds the release one)"

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
[ -n "$version" ] || die "no workspace version in Cargo.toml"
arch="$(dpkg --print-architecture)"
# The C library the binary was linked against, or a newer one.
glibc="$(ldd --version | sed -n '1s/.* \([0-9][0-9.]*\)$/\1/p')"
[ -n "$glibc" ] || die "cannot read the C library's version from ldd"

out="$target/package-hub"
root="$out/root"
rm -rf "$out"
install -d -m 755 "$root/DEBIAN"
install -D -m 755 "$binary" "$root/usr/bin/ringside-hub"
install -D -m 644 crates/ringside-hub/debian/ringside-hub.service \
  "$root/usr/lib/systemd/system/ringside-hub.service"
install -d -m 755 "$root/usr/share/doc/ringside-hub"
printf '%s\n' "Ringside hub, licensed under the Apache License, Version 2.0:" \
  "see /usr/share/common-licenses/Apache-2.0." >"$root/usr/share/doc/ringside-hub/copyright"
chmod 644 "$root/usr/share/doc/ringside-hub/copyright"
for script in postinst prerm postrm; do
  install -m 755 "crates/ringside-hub/debian/$script" "$root/DEBIAN/$script"
done
size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
cat >"$root/DEBIAN/control" <<EOF
Package: ringside-hub
Version: $version
Architecture: $arch
Maintainer: Ringside <ringside@example.org>
Installed-Size: $size
Depends: adduser, libc6 (>= $glibc), libgcc-s1
Section: comm
Priority: optional
Description: Ringside hub: caller popups for help-desk agents
 Receives the call events of the phone system (generic CTI as Zammad's, Placetel,
 sipgate.io, Twilio), keeps the team's call journal, identifies callers from the help
 desk and streams live events to the Ringside desktop apps. Runs as the service
 ringside-hub, configured in /etc/ringside/ringside.toml.
EOF
deb="$out/ringside-hub_${version}_${arch}.deb"
dpkg-deb --build --root-owner-group "$root" "$deb" >&2
echo "$deb"
