#!/usr/bin/env bash
# Messages/s and MB/s between two TCP transports on loopback, beside raw
# loopback TCP throughput measured in the same run.
# Usage: benchmarks/transport.sh [BUILD_DIR]   (built by `scripts/dev.sh bench`)
set -euo pipefail
build=${1:-build/bench}
cmd=("$build/benchmarks/transport_bench" --seconds "${SECONDS_PER_RUN:-3}" --repeats "${REPEATS:-3}")
echo "command: ${cmd[*]}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"${cmd[@]}"
