#!/usr/bin/env bash
# Builds the wire codec fuzzer (tests/fuzz/wire_fuzz.cc) with clang, libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer, standalone (not part of the
# CMake build or CI), and runs it.
#
# Usage: tests/fuzz/run.sh [SECONDS] [extra libFuzzer flags]   (default 60 s)
#        tests/fuzz/run.sh --seeds     rewrite the seed corpus tests/fuzz/corpus/wire/
#
# Output goes to build/fuzz/ (FUZZ_OUT overrides): the binary, the growing
# corpus (build/fuzz/corpus-wire/; the committed seeds are only read) and any
# crash/leak/timeout inputs (build/fuzz/artifacts/). Reproduce one with
#   build/fuzz/wire_fuzz build/fuzz/artifacts/crash-...
# Needs clang++ (Debian: apt-get install clang) and libxxhash-dev.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${FUZZ_OUT:-$root/build/fuzz}
cxx=${FUZZ_CXX:-clang++}
mkdir -p "$out/artifacts" "$out/corpus-wire"

srcs=(cpp/src/transport/wire_encode.cc cpp/src/transport/wire_decode.cc cpp/src/raft/types.cc cpp/src/common/status.cc
      cpp/src/common/panic.cc)
# tests/cpp: message_builder.h, which make_seeds.cc builds its messages with.
flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Icpp/include -Icpp/src -Itests/cpp
       '-DDRAGONBOAT_VERSION_STRING="fuzz"')

if [[ ${1:-} == --seeds ]]; then
  "$cxx" "${flags[@]}" tests/fuzz/make_seeds.cc "${srcs[@]}" -lxxhash -o "$out/make_seeds"
  rm -f tests/fuzz/corpus/wire/*
  mkdir -p tests/fuzz/corpus/wire
  "$out/make_seeds" tests/fuzz/corpus/wire
  ls -l tests/fuzz/corpus/wire
  exit 0
fi

secs=${1:-60}
shift || true
echo "building $out/wire_fuzz with $("$cxx" --version | head -1)"
"$cxx" "${flags[@]}" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  tests/fuzz/wire_fuzz.cc "${srcs[@]}" -lxxhash -o "$out/wire_fuzz"

# -malloc_limit_mb: no input of at most 4 KiB may make the decoder allocate a
# single block of 1 MiB or more (counts are checked against the bytes left
# before reserving: 4 KiB can justify at most ~140 KB of Message objects).
echo "fuzzing for ${secs} s"
start=$(date +%s)
set +e
"$out/wire_fuzz" "$out/corpus-wire" tests/fuzz/corpus/wire \
  -max_total_time="$secs" -max_len=4096 -malloc_limit_mb=1 -timeout=10 \
  -artifact_prefix="$out/artifacts/" -print_final_stats=1 "$@" >"$out/last-run.log" 2>&1
rc=$?
set -e
# The log without per-input progress lines and the recommended dictionary
# (the full log is last-run.log).
grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)|NEW_FUNC|^"|Recommended dictionary|End of recommended' "$out/last-run.log" | tail -n 60
echo "wall time: $(( $(date +%s) - start )) s; corpus: $(ls "$out/corpus-wire" | wc -l) inputs;" \
     "artifacts: $(ls "$out/artifacts" | wc -l) (in $out/artifacts)"
exit "$rc"
