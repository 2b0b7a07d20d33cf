#!/usr/bin/env bash
# Entries/s through three in-process peers driven by the Raft core alone.
# Usage: benchmarks/raft_core.sh [BUILD_DIR]   (built by `scripts/dev.sh bench`)
set -euo pipefail
build=${1:-build/bench}
cmd=("$build/benchmarks/raft_core_bench" --seconds "${SECONDS_PER_RUN:-3}" --payload 16 --repeats "${REPEATS:-3}")
echo "command: ${cmd[*]}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"${cmd[@]}"
