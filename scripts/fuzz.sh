#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ from its committed seeds (fuzz/seeds/TARGET) and the
# corpus fuzzing grew (fuzz/corpus/TARGET, not committed).
#   scripts/fuzz.sh smoke   each target for FUZZ_RUNS inputs (default 20000): part of make test
#   scripts/fuzz.sh long    each target for FUZZ_SECONDS seconds (default 300): make fuzz
# FUZZ_TARGETS limits the run to some targets (space-separated). A crash, a hang (an input
# taking longer than FUZZ_TIMEOUT seconds, default 10) or running out of memory fails the
# run; libFuzzer writes the input to fuzz/artifacts/TARGET/.
set -euo pipefail
# The tests' builds lint with stable clippy-driver as rustc's wrapper (Makefile); it cannot
# wrap the nightly rustc the fuzz targets are built with.
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS

mode="${1:-smoke}"
cd "$(dirname "$0")/../fuzz"

if ! command -v rustup >/dev/null 2>&1 || ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzzing needs a nightly Rust toolchain (rustup toolchain install nightly --profile minimal); run make deps" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzzing needs cargo-fuzz (cargo install cargo-fuzz --locked); run make deps" >&2
  exit 1
fi

# Safe Rust: no sanitizer needed to find panics, hangs and unbounded memory; twice as fast.
fuzz=(cargo +nightly fuzz)
build_flags=(--sanitizer none)
targets="${FUZZ_TARGETS:-$("${fuzz[@]}" list)}"

case "$mode" in
  smoke) budget=(-runs="${FUZZ_RUNS:-20000}") ;;
  long) budget=(-max_total_time="${FUZZ_SECONDS:-300}") ;;
  *) echo "usage: $0 smoke|long" >&2; exit 2 ;;
esac

"${fuzz[@]}" build "${build_flags[@]}"
for target in $targets; do
  echo "== fuzzing $target ($mode)"
  mkdir -p "corpus/$target"
  "${fuzz[@]}" run "${build_flags[@]}" "$target" "corpus/$target" "seeds/$target" -- \
    "${budget[@]}" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -print_final_stats=1
done
