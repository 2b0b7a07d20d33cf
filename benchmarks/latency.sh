#!/usr/bin/env bash
# What one client sees: three NodeHost processes on loopback, fsync on, ONE
# group, requests issued one after another (1 in flight), then 128 in flight.
# The 1-in-flight write runs with hop tracing (dragonboat/tracing.h) and
# prints the median timeline of one proposal (step pass, Replicate, both
# saves, acknowledgement, commit, apply); then ReadIndex reads one at a time.
# Every run prints its baseline from the same disk: 64 B fdatasync
# (overwrite and append) and sequential 1 MiB fdatasync'd writes.
# Usage: benchmarks/latency.sh [BUILD_DIR] [extra nodehost_bench flags, e.g. --dir /data]
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
run --groups 1 --inflight 1 --payload 16 --trace 1 "$@"
run --groups 1 --inflight 1 --payload 16 --read-ratio 1 "$@"
run --groups 1 --inflight 128 --payload 16 "$@"
