#!/usr/bin/env bash
# The desktop app's Debian package, Ringside_VERSION_ARCH.deb, made by the Tauri bundler
# (the Tauri CLI from npm, installed with the UI's packages: cd ui && npm ci):
#   scripts/package-app.sh release   builds the app (release) and packages it
#   scripts/package-app.sh debug     packages the debug binary already built (the tests')
# prints the package's path on stdout. The package holds /usr/bin/ringside, its icons and a
# desktop entry (src-tauri/linux/ringside.desktop) that makes it the handler of tel: and
# callto: links.
set -euo pipefail

profile="${1:-release}"
cd "$(dirname "$0")/.."
root="$(pwd)"

die() {
  echo "scripts/package-app.sh: $*" >&2
  exit 1
}

tauri="$root/ui/node_modules/.bin/tauri"
[ -x "$tauri" ] || die "the Tauri CLI is missing: cd ui && npm ci"
[ -f ui/dist/index.html ] || die "the UI is not built: cd ui && npm run build"
target="${CARGO_TARGET_DIR:-$root/target}"
case "$profile" in
  release) (cd src-tauri && "$tauri" build --bundles deb --ci -- --locked) >&2 ;;
  debug)
    [ -x "$target/debug/ringside" ] || die "$target/debug/ringside is missing: build it first"
    (cd src-tauri && "$tauri" bundle --debug --bundles deb --ci) >&2
    ;;
  *) echo "usage: scripts/package-app.sh [release|debug]" >&2; exit 2 ;;
esac

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
deb="$target/$profile/bundle/deb/Ringside_${version}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || die "the bundler made no $deb"
echo "$deb"
