#!/usr/bin/env bash
# The engine end to end: three NodeHost processes on loopback, fsync on,
# committed writes/s and latency for 1, 16 and 48 groups, 16 B and 128 B
# payloads, and a read-heavy mix; each configuration REPEATS times
# (min/median/max are the lines to compare), with the disk's raw fdatasync
# latency printed by every run as the baseline.
# Usage: benchmarks/nodehost.sh [BUILD_DIR] [extra nodehost_bench flags, e.g. --dir /data]
set -euo pipefail
build=${1:-build/bench}
shift || true
. "$(dirname "$0")/nodehost_runs.sh"  # bench, secs, repeats, the machine line
# This script's run() keeps stderr and sorts the repeats (min/median/max).
run() {
  echo "command: $bench --seconds $secs $* (x$repeats)"
  for ((i = 0; i < repeats; i++)); do "$bench" --seconds "$secs" "$@"; done | sort -t, -k1 | sed 's/^/  /'
}
run --groups 1 --inflight 256 --payload 16 "$@"
run --groups 16 --inflight 128 --payload 16 "$@"
run --groups 48 --inflight 128 --payload 16 "$@"
run --groups 48 --inflight 128 --payload 128 "$@"
run --groups 48 --inflight 64 --payload 16 --read-ratio 0.9 "$@"
