#!/usr/bin/env bash
# Lints the GitHub Actions workflows (.github/workflows) with zizmor, offline: template
# injection, unpinned actions, credentials left in the checkout, excessive permissions.
# zizmor is installed from PyPI (a prebuilt wheel), at the pinned version, in a virtualenv
# under target/.
#
# actionlint is not run: its only PyPI package downloads the binary from GitHub while it
# installs, and neither GitHub nor Go's module proxy is reachable where this runs.
set -euo pipefail

ZIZMOR_VERSION=1.33.1

root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/target/zizmor-venv

if [ "$("$venv/bin/zizmor" --version 2>/dev/null)" != "zizmor $ZIZMOR_VERSION" ]; then
  echo "installing zizmor $ZIZMOR_VERSION in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary :all: "zizmor==$ZIZMOR_VERSION"
fi

"$venv/bin/zizmor" --offline --persona pedantic "$root/.github/workflows"
