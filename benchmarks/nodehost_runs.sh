# Sourced by latency.sh, payloads.sh and nodehost.sh (which has its own
# run()) after they set `build`: the
# nodehost_bench of that build, SECONDS_PER_RUN / REPEATS, the machine line,
# and run ARGS... (prints the command, then each repeat's output indented;
# the benchmark's start-up warnings on stderr are dropped).
# MALLOC=jemalloc (or tcmalloc) runs the benchmark with that allocator
# preloaded (docs/operations.md, "Memory allocator"); every run prints the
# allocator it ran with on its baseline line.
bench="$build/benchmarks/nodehost_bench"
secs=${SECONDS_PER_RUN:-5}
repeats=${REPEATS:-3}
case "${MALLOC:-glibc}" in
  glibc) ;;
  jemalloc) export LD_PRELOAD=libjemalloc.so.2 ;;
  tcmalloc) export LD_PRELOAD=libtcmalloc_minimal.so.4 ;;
  *) echo "MALLOC must be glibc, jemalloc or tcmalloc, not ${MALLOC}" >&2; exit 2 ;;
esac
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); malloc: ${MALLOC:-glibc}"
run() {
  echo "command: $bench --seconds $secs $* (x$repeats)"
  for ((i = 0; i < repeats; i++)); do "$bench" --seconds "$secs" "$@" 2>/dev/null; done | sed 's/^/  /'
}
