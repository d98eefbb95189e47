#!/usr/bin/env bash
# Checks that the workspace's `rust-version` (Cargo.toml) names the toolchain the tests run
# on: `rustc --version`, major and minor. Part of `make lint`.
set -euo pipefail
cd "$(dirname "$0")/.."

declared="$(sed -n 's/^rust-version = "\([0-9]*\.[0-9]*\)\(\.[0-9]*\)\{0,1\}"$/\1/p' Cargo.toml)"
if [ -z "$declared" ]; then
  echo "Cargo.toml: no rust-version = \"MAJOR.MINOR\" in [workspace.package]" >&2
  exit 1
fi
tested="$(${RUSTC:-rustc} --version | sed -n 's/^rustc \([0-9]*\.[0-9]*\)\..*/\1/p')"
if [ "$declared" != "$tested" ]; then
  echo "Cargo.toml says rust-version = \"$declared\", but the tests run on rustc $tested: make them agree" >&2
  exit 1
fi
