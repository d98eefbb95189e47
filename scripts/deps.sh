#!/usr/bin/env bash
# Installs what building and testing Ringside needs and is missing, on Debian or Ubuntu.
# The hub needs only a Rust toolchain (SQLite is compiled in); it installs nothing that is
# already there.
set -euo pipefail

missing=()
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if ! command -v cargo >/dev/null 2>&1; then
  missing+=(cargo rustc)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
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
