#!/bin/sh
# Direct vs through two strait proxies (mTLS, Wasm authz): throughput ratio,
# latency at a fixed 1,000 rps, and each proxy's memory. Needs `oha`
# (cargo install oha); installs it if missing.
set -eu
cd "$(dirname "$0")/../../../.."
if ! command -v oha >/dev/null 2>&1; then
    cargo install oha --locked
fi
cargo build --release -q -p strait-proxy --bin strait-proxy
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
STRAIT_PROXY_BIN="$target_dir/release/strait-proxy" OHA="$(command -v oha)" \
    cargo bench -q -p strait-proxy-integration --bench pod_to_pod
