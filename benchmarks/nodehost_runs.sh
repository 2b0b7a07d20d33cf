# Sourced by latency.sh, payloads.sh and nodehost.sh (which has its own
# run()) after they set `build`: the
# nodehost_bench of that build, SECONDS_PER_RUN / REPEATS, the machine line,
# and run ARGS... (prints the command, then each repeat's output indented;
# the benchmark's start-up warnings on stderr are dropped).
bench="$build/benchmarks/nodehost_bench"
secs=${SECONDS_PER_RUN:-5}
repeats=${REPEATS:-3}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
run() {
  echo "command: $bench --seconds $secs $* (x$repeats)"
  for ((i = 0; i < repeats; i++)); do "$bench" --seconds "$secs" "$@" 2>/dev/null; done | sed 's/^/  /'
}
