#!/usr/bin/env bash
# Large payloads: three NodeHost processes on loopback sharing one disk,
# fsync on, 1 KiB, 16 KiB and 64 KiB proposals. Each run prints the payload
# committed in MB/s beside the disk's sequential bandwidth measured in the
# same run, the bytes the three processes wrote to disk per payload byte
# (/proc/<pid>/io), failed requests by cause (there should be none: under
# saturation the client gets SystemBusy at propose time and retries) and
# the proposals refused that way. docs/benchmarks.md explains the accounting.
# Usage: benchmarks/payloads.sh [BUILD_DIR] [extra nodehost_bench flags, e.g. --dir /data]
set -euo pipefail
build=${1:-build/bench}
shift || true
bench="$build/benchmarks/nodehost_bench"
secs=${SECONDS_PER_RUN:-5}
repeats=${REPEATS:-3}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
run() {
  echo "command: $bench --seconds $secs $* (x$repeats)"
  for ((i = 0; i < repeats; i++)); do "$bench" --seconds "$secs" "$@" 2>/dev/null; done | sed 's/^/  /'
}
run --groups 48 --inflight 128 --payload 1024 "$@"
run --groups 16 --inflight 16 --payload 16384 "$@"
run --groups 16 --inflight 16 --payload 65536 "$@"
run --groups 16 --inflight 64 --payload 65536 "$@"
