#!/bin/sh
# strait's proxy beside Linkerd's, in pods (network namespaces with
# proxy-init's iptables rules), in one run: direct, two plain relays,
# strait's pair, Linkerd's pair and the mixed pairs. Then the mixed-mesh
# tests (tests/pods.rs) with the same binaries.
#
# Usage: pods.sh [PATH-TO-LINKERD2-PROXY]
# Without a linkerd2-proxy binary (built from Linkerd's own source, outside
# this repository), the Linkerd rows are skipped and the output says so.
# Needs root, iproute2, util-linux (nsenter), iptables and perf; installs
# oha (cargo install oha) if missing.
set -eu
cd "$(dirname "$0")/../../../.."
if [ "$#" -gt 0 ]; then
    LINKERD2_PROXY_BIN=$(realpath "$1")
    export LINKERD2_PROXY_BIN
fi
if ! command -v oha >/dev/null 2>&1; then
    cargo install oha --locked
fi
cargo build --release -q -p strait-proxy --bin strait-proxy
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
if [ -n "${LINKERD2_PROXY_BIN:-}" ]; then
    echo "linkerd2-proxy: $LINKERD2_PROXY_BIN"
fi
echo "strait-proxy: $("$target_dir/release/strait-proxy" --version)"
STRAIT_PROXY_BIN="$target_dir/release/strait-proxy" OHA="$(command -v oha)" \
    cargo bench -q -p strait-proxy-integration --bench pods
cargo test -q -p strait-proxy-integration --test pods -- --nocapture --test-threads 1
