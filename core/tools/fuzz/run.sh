#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 30), starting
# from the committed seeds plus the local corpus. Prints one line per target:
#   target  runs  crashes
# and exits 1 if any target crashed (the input lands in artifacts/<target>/).
set -euo pipefail

seconds="${1:-30}"
case "$seconds" in
  ''|*[!0-9]*) echo "usage: $0 [SECONDS]  (SECONDS must be a whole number, got '$seconds')" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

# cargo-fuzz passes -Z flags (sanitizers, coverage) to rustc; on a stable
# toolchain RUSTC_BOOTSTRAP lets it do so.
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
  exit 2
fi

targets=$(cargo fuzz list --fuzz-dir core/tools/fuzz)
cargo fuzz build --debug-assertions --fuzz-dir core/tools/fuzz >&2

failed=0
printf '%-20s %12s %8s\n' target runs crashes
for target in $targets; do
  corpus="$here/corpus/$target"
  artifacts="$here/artifacts/$target"
  seeds="$here/seeds/$target"
  mkdir -p "$corpus" "$artifacts" "$seeds"
  log="$(mktemp)"
  before=$(find "$artifacts" -type f | wc -l)
  status=0
  cargo fuzz run --debug-assertions --fuzz-dir core/tools/fuzz "$target" "$corpus" "$seeds" -- \
    -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
  after=$(find "$artifacts" -type f | wc -l)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  crashes=$((after - before))
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then
    # A failure that left no input (a build or setup error): show why.
    crashes=1
    tail -n 20 "$log" >&2
  fi
  printf '%-20s %12s %8s\n' "$target" "${runs:-?}" "$crashes"
  if [ "$crashes" -ne 0 ]; then
    failed=1
    grep -E 'ERROR|panicked|Test unit written' "$log" | head -n 5 >&2 || true
  fi
  rm -f "$log"
done
exit "$failed"
