#!/bin/sh
# Direct vs through two strait proxies (mTLS, Wasm authz): throughput ratio,
# latency at a fixed 1,000 rps, and each proxy's memory. Needs `oha`
# (cargo install oha); installs it if missing.
#
#   pod_to_pod.sh                      the timed comparison
#   pod_to_pod.sh --instructions [N]   each proxy's instructions per request
#                                      over N requests (default 20000), under
#                                      callgrind (needs valgrind)
set -eu
cd "$(dirname "$0")/../../../.."
if ! command -v oha >/dev/null 2>&1; then
    cargo install oha --locked
fi
if [ "${1:-}" = "--instructions" ]; then
    command -v valgrind >/dev/null 2>&1 || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
    export POD_TO_POD_INSTRUCTIONS="${2:-20000}"
fi
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
if [ -n "${POD_TO_POD_INSTRUCTIONS:-}" ]; then
    # rustix's own system calls find the vDSO through the kernel's auxiliary
    # vector, which under valgrind names pages the process does not map;
    # through libc it gets valgrind's. A build of its own, so the timed
    # runs keep the usual one.
    proxy_dir="$target_dir/callgrind"
    CARGO_TARGET_DIR="$proxy_dir" RUSTFLAGS="--cfg rustix_use_libc" \
        cargo build --release -q -p strait-proxy --bin strait-proxy
else
    proxy_dir="$target_dir"
    cargo build --release -q -p strait-proxy --bin strait-proxy
fi
STRAIT_PROXY_BIN="$proxy_dir/release/strait-proxy" OHA="$(command -v oha)" \
    cargo bench -q -p strait-proxy-integration --bench pod_to_pod
