#!/usr/bin/env bash
# Installs what building, running and testing Ringside needs and is missing, on Debian or
# Ubuntu: the Rust toolchain's parts, the WebKitGTK and tray libraries of the desktop app,
# the headless desktop session of its tests (Xvfb, D-Bus, keyring, notification daemon,
# WebKitWebDriver), Pebble (the ACME test server of the hub's TLS tests), Node.js for the
# UI, tauri-driver, cargo-deny, Python's venv (the API test installs Schemathesis in a
# virtualenv under target/), and the nightly toolchain and cargo-fuzz of the fuzz targets.
# Nothing already there is installed again.
set -euo pipefail
# The tests' builds lint with clippy-driver as rustc's wrapper (Makefile): not for the
# tools installed here, nor for the nightly toolchain.
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
# The cargo tools are built without optimization: they install in less than half the
# time (cargo-deny: about 2 minutes instead of 5 on two cores), and what they do in a test
# run takes seconds either way (cargo-deny's check: 13 s instead of 3).
cargo_install=(cargo install --locked --debug)

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

packages=(
  build-essential pkg-config file curl
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libssl-dev libxdo-dev
  xvfb xauth x11-utils dbus-x11 at-spi2-core webkit2gtk-driver
  gnome-keyring libsecret-tools keyutils dunst libnotify-bin imagemagick
  desktop-file-utils xdg-utils python3-venv pebble
)
command -v cargo >/dev/null 2>&1 || packages+=(cargo rustc)
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "Node.js $(node --version) is too old for the UI's build (Vite 7): install Node.js 20 or newer" >&2
  exit 1
fi

for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    if command -v rustup >/dev/null 2>&1; then
      rustup component add "$component"
    else
      echo "cargo $component is missing and rustup is not installed: install the Debian package rust-$component" >&2
      exit 1
    fi
  fi
done

cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$cargo_bin/tauri-driver" ]; then
  echo "installing tauri-driver (the WebDriver bridge of the desktop tests)"
  "${cargo_install[@]}" tauri-driver --version '^2'
fi

if ! cargo deny --version >/dev/null 2>&1; then
  echo "installing cargo-deny (the dependency policy check of make test)"
  "${cargo_install[@]}" cargo-deny --version '^0.20'
fi

# The fuzz targets (fuzz/) build with a nightly toolchain and cargo-fuzz.
if ! command -v rustup >/dev/null 2>&1; then
  echo "the fuzz targets need a nightly toolchain, which needs rustup: install it from https://rustup.rs" >&2
  exit 1
fi
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "installing the nightly Rust toolchain (for the fuzz targets)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1 && [ ! -x "$cargo_bin/cargo-fuzz" ]; then
  echo "installing cargo-fuzz (the fuzz targets' runner)"
  "${cargo_install[@]}" cargo-fuzz
fi
