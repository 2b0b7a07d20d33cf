#!/usr/bin/env bash
# What one client sees: three NodeHost processes on loopback, fsync on, ONE
# group, requests issued one after another (1 in flight), then 128 in flight.
# The 1-in-flight write runs with hop tracing (dragonboat/tracing.h) and
# prints the median timeline of one proposal (step pass, Replicate, both
# saves, acknowledgement, commit, apply); then ReadIndex reads one at a time.
# Then the same three shapes with busy polling (NodeHostConfig::
# busy_poll_microseconds = 1000: engine threads poll before they sleep; see
# docs/benchmarks.md, "Busy polling"). Every run prints its baseline from
# the same disk: 64 B fdatasync (overwrite and append) and sequential 1 MiB
# fdatasync'd writes.
# Usage: benchmarks/latency.sh [BUILD_DIR] [extra nodehost_bench flags, e.g. --dir /data]
set -euo pipefail
build=${1:-build/bench}
shift || true
. "$(dirname "$0")/nodehost_runs.sh"  # bench, secs, repeats, run()
run --groups 1 --inflight 1 --payload 16 --trace 1 "$@"
run --groups 1 --inflight 1 --payload 16 --read-ratio 1 "$@"
run --groups 1 --inflight 128 --payload 16 "$@"
run --groups 1 --inflight 1 --payload 16 --trace 1 --busy-poll-us 1000 "$@"
run --groups 1 --inflight 1 --payload 16 --read-ratio 1 --busy-poll-us 1000 "$@"
run --groups 1 --inflight 128 --payload 16 --busy-poll-us 1000 "$@"
