#!/usr/bin/env bash
# Batched RocksLogDB save() throughput beside the raw fdatasync rate of the
# same disk (16 B and 1 KiB entries; 1, 16 and 48 groups x 8 entries a save).
# Usage: benchmarks/logdb.sh [BUILD_DIR] [extra logdb_bench flags, e.g. --dir /data]
#        (built by `scripts/dev.sh bench`; DIR defaults to /tmp)
set -euo pipefail
build=${1:-build/bench}
shift || true
cmd=("$build/benchmarks/logdb_bench" --seconds "${SECONDS_PER_RUN:-3}" --repeats "${REPEATS:-3}"
     --entries 8 --sizes 16,1024 --groups 1,16,48 "$@")
echo "command: ${cmd[*]}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
dir=/tmp
for ((i = 0; i < ${#cmd[@]}; i++)); do [[ ${cmd[i]} == --dir ]] && dir=${cmd[i+1]}; done
echo "disk: $(df -P "$dir" | awk 'NR==2 {print $1 " mounted on " $6}') ($(findmnt -no FSTYPE --target "$dir" 2>/dev/null || echo '?'))"
"${cmd[@]}"
