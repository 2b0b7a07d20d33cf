"""The binary wheel installs and runs on a machine without the build dependencies.

scripts/wheel.sh builds the wheel (auditwheel-repaired, RocksDB, OpenSSL and the
compression libraries inside) and the sdist. The wheel goes into a fresh virtual
environment that cannot see the checkout or the system's site-packages, and the
quickstart, the three-process demo and a C++ plugin built against the wheel's own
headers run in a private mount namespace where an EMPTY FILE is bind-mounted over
every system copy of the bundled libraries: if the wheel missed one, or its RPATH
pointed at the system, the dynamic loader fails and so does the test.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIB_DIRS = ["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
            "/usr/local/lib"]


def _namespaces_unavailable() -> str | None:
    if sys.platform != "linux":
        return "Linux only"
    if os.geteuid() != 0:
        return "hiding the system libraries needs root (a private mount namespace)"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is missing"
    return None


@pytest.fixture(scope="module")
def dists() -> tuple[Path, Path]:
    """(the repaired wheel, the sdist), built now from the current tree (incremental)."""
    out = subprocess.run(["bash", str(ROOT / "scripts" / "wheel.sh"), sys.executable],
                         capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    wheel, sdist = (Path(p) for p in out.stdout.strip().splitlines()[-2:])
    return wheel, sdist


@pytest.fixture(scope="module")
def venv(dists: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment (no system site-packages) with only the wheel installed."""
    env_dir = tmp_path_factory.mktemp("wheel") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, timeout=300)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-index", str(dists[0])],
                   check=True, timeout=300)
    return py


def _site_packages(py: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['platlib'])"
    out = subprocess.run([str(py), "-c", code], capture_output=True, text=True, check=True,
                         cwd="/")
    return Path(out.stdout.strip())


def test_wheel_is_manylinux_and_holds_only_the_package(dists: tuple[Path, Path]) -> None:
    wheel, _ = dists
    assert re.search(r"-manylinux_2_\d+_x86_64\.whl$", wheel.name), wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    # The package, its bundled libraries and metadata: no lib/, include/ or
    # cmake/ at the top of site-packages.
    version = wheel.name.split("-")[1]
    assert tops == {"dragonboat", "dragonboat.libs", f"dragonboat-{version}.dist-info"}, tops
    bundled = [n for n in names if n.startswith("dragonboat.libs/")]
    assert any("librocksdb" in n for n in bundled), bundled
    assert "dragonboat/include/dragonboat/plugin.h" in names
    assert "dragonboat/_core.pyi" in names and "dragonboat/py.typed" in names


def test_sdist_holds_what_a_source_build_needs(dists: tuple[Path, Path]) -> None:
    _, sdist = dists
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    for needed in ["pyproject.toml", "CMakeLists.txt", "cpp/include/dragonboat/nodehost.h",
                   "python/dragonboat/__init__.py", "python/dragonboat/_core.pyi"]:
        assert needed in names, needed
    assert any(n.startswith("bindings/") and n.endswith(".cc") for n in names)
    assert not any(n.startswith(("build/", ".ci/")) for n in names)


def _hidden_system_copies(site: Path) -> list[str]:
    """The system files the bundled libraries were copied from (librocksdb.so.7.8 ...)."""
    stems = {re.sub(r"-[0-9a-f]{8}\..*$", "", p.name)
             for p in (site / "dragonboat.libs").iterdir()}
    assert "librocksdb" in stems, stems
    files: set[str] = set()
    for d in LIB_DIRS:
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            if any(name.startswith(stem + ".so") for stem in stems):
                real = os.path.realpath(os.path.join(d, name))
                if os.path.isfile(real):
                    files.add(real)
    return sorted(files)


# What a manylinux wheel may take from the system (the policy's whitelist, the
# part an extension like this one can need): everything else must be bundled.
MANYLINUX_BASELINE = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
                      "libgcc_s.so.1", "libstdc++.so.6", "libz.so.1", "ld-linux-x86-64.so.2",
                      "libresolv.so.2", "libutil.so.1", "linux-vdso.so.1"}


def test_extension_needs_nothing_outside_the_wheel_but_the_manylinux_baseline(venv: Path) -> None:
    """The loader's view of the installed extension (ldd follows the RPATH into
    dragonboat.libs): a library the wheel failed to bundle resolves to the
    system's copy and fails here, whether or not the namespace test hides it."""
    site = _site_packages(venv)
    (core,) = (site / "dragonboat").glob("_core*.so")
    out = subprocess.run(["ldd", str(core)], capture_output=True, text=True, check=True).stdout
    outside, resolved = [], []
    for line in out.splitlines():
        name, _, target = line.strip().partition(" => ")
        # The RPATH is $ORIGIN/../dragonboat.libs: normalise the "..".
        path = os.path.normpath(target.split(" (")[0].strip() if target else name.split(" (")[0])
        resolved.append(path)
        if "not found" in line:
            outside.append(line.strip())
        elif not path.startswith(str(site)) and name.split(" (")[0] not in MANYLINUX_BASELINE \
                and os.path.basename(path) not in MANYLINUX_BASELINE:
            outside.append(line.strip())
    assert outside == [], f"resolved outside the wheel:\n{out}"
    assert any(p.startswith(f"{site}/dragonboat.libs/librocksdb-") for p in resolved), out


@pytest.mark.skipif(_namespaces_unavailable() is not None,
                    reason=str(_namespaces_unavailable()))
def test_wheel_runs_with_the_system_libraries_hidden(venv: Path, tmp_path: Path) -> None:
    site = _site_packages(venv)
    hidden = _hidden_system_copies(site)
    assert any("librocksdb" in f for f in hidden), "RocksDB is not installed on this machine?"
    # A C++ plugin built against the headers the wheel ships (not the checkout's).
    include = subprocess.run([str(venv), "-c", "import dragonboat; print(dragonboat.get_include())"
                              ], capture_output=True, text=True, check=True, cwd="/").stdout.strip()
    assert include.startswith(str(site)), include
    plugin = tmp_path / "libkv_plugin.so"
    subprocess.run(["c++", "-std=c++17", "-O1", "-shared", "-fPIC", f"-I{include}",
                    str(ROOT / "examples" / "plugin" / "kv_plugin.cc"), "-o", str(plugin)],
                   check=True, timeout=300)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    py = shlex.quote(str(venv))
    probe = ("import ctypes, sys\n"
             "for path in sys.argv[1:]:\n"
             "    try:\n"
             "        ctypes.CDLL(path)\n"
             "    except OSError:\n"
             "        continue\n"
             "    sys.exit('still loadable: ' + path)\n"
             "print(f'{len(sys.argv) - 1} system libraries hidden')\n")
    steps = [
        # The hiding works: not one of the system copies can be loaded any more.
        f"{py} -c {shlex.quote(probe)} {' '.join(shlex.quote(f) for f in hidden)}",
        # The extension runs on the copies in dragonboat.libs.
        f"{py} -c 'import dragonboat; m = open(\"/proc/self/maps\").read(); "
        f"assert \"dragonboat.libs/librocksdb-\" in m, m; print(\"bundled rocksdb loaded\")'",
        f"{py} {shlex.quote(str(ROOT / 'examples' / 'quickstart.py'))}",
        f"{py} {shlex.quote(str(ROOT / 'examples' / 'plugin_kv.py'))} {shlex.quote(str(plugin))}",
        f"{py} -m dragonboat demo --seconds 2",
    ]
    script = "set -e\n" + "".join(f"mount --bind {shlex.quote(str(empty))} {shlex.quote(f)}\n"
                                   for f in hidden) + "\n".join(steps) + "\n"
    # A PID namespace too: if the run times out, killing unshare kills every
    # process inside (--kill-child), so nothing outlives the test.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "LANG": "C.UTF-8"}
    out = subprocess.run(["unshare", "--mount", "--propagation", "private", "--pid", "--fork",
                          "--kill-child", "--mount-proc", "bash", "-c", script],
                         capture_output=True, text=True, timeout=300, cwd=str(tmp_path), env=env)
    assert out.returncode == 0, f"hidden: {hidden}\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
    assert f"{len(hidden)} system libraries hidden" in out.stdout
    assert "bundled rocksdb loaded" in out.stdout
    assert "greeting: hello" in out.stdout  # the quickstart
    assert "engine: c++" in out.stdout  # the plugin
    assert re.search(r"replicas agree: \d+ commands applied once each", out.stdout), out.stdout


def test_sdist_builds_and_imports(dists: tuple[Path, Path], tmp_path: Path) -> None:
    """The sdist builds from source against the system libraries (what `pip install
    dragonboat-*.tar.gz` does), without the checkout. ccache makes it cheap: with
    CCACHE_BASEDIR at the unpacked tree, its relative paths match the checkout's."""
    _, sdist = dists
    with tarfile.open(sdist) as t:
        t.extractall(tmp_path, filter="data")
    src = next(tmp_path.glob("dragonboat-*"))
    env = dict(os.environ, CCACHE_BASEDIR=str(src), CCACHE_NOHASHDIR="true")
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                          "--no-build-isolation", "-w", str(tmp_path / "out"), str(src)],
                         capture_output=True, text=True, timeout=1800, env=env, cwd=str(tmp_path))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    (built,) = (tmp_path / "out").glob("dragonboat-*.whl")
    with zipfile.ZipFile(built) as z:
        z.extractall(tmp_path / "unpacked")
    probe = subprocess.run([sys.executable, "-c", "import dragonboat; print(dragonboat.__file__); "
                            "print(dragonboat.simulate(seed=3, steps=300).ok)"],
                           capture_output=True, text=True, cwd="/",
                           env=dict(os.environ, PYTHONPATH=str(tmp_path / "unpacked")))
    assert probe.returncode == 0, probe.stderr
    init = tmp_path / "unpacked" / "dragonboat" / "__init__.py"
    assert probe.stdout.split() == [str(init), "True"]
