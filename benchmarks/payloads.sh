#!/usr/bin/env bash
# Large payloads: three NodeHost processes on loopback sharing one disk,
# fsync on, 1 KiB, 16 KiB and 64 KiB proposals. Each run prints the payload
# committed in MB/s beside the disk's sequential bandwidth measured in the
# same run, the bytes the three processes wrote to disk per payload byte
# (/proc/<pid>/io), failed requests by cause (there should be none: under
# saturation the client gets SystemBusy at propose time and retries) and
# the proposals refused that way. docs/benchmarks.md explains the accounting.
# The last run's payload is random bytes (nodehost_bench --random 1).
# Usage: benchmarks/payloads.sh [BUILD_DIR] [extra nodehost_bench flags, e.g. --dir /data]
set -euo pipefail
build=${1:-build/bench}
shift || true
. "$(dirname "$0")/nodehost_runs.sh"  # bench, secs, repeats, run()
run --groups 48 --inflight 128 --payload 1024 "$@"
run --groups 16 --inflight 16 --payload 16384 "$@"
run --groups 16 --inflight 16 --payload 65536 "$@"
run --groups 16 --inflight 64 --payload 65536 "$@"
# Incompressible 64 KiB commands (encrypted or already compressed data): the
# repeated byte above shrinks ~250x in the LogDB's LZ4 files, these do not.
run --groups 16 --inflight 16 --payload 65536 --random 1 "$@"
