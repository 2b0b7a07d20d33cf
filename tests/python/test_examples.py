"""Every example runs and prints what it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("DRAGONBOAT_BUILD_DIR", ROOT / "build" / "dev"))


def run(name: str, *args: str) -> str:
    out = subprocess.run([sys.executable, str(ROOT / "examples" / name), *args],
                         capture_output=True, text=True, timeout=120, check=True)
    return out.stdout


def test_multigroup() -> None:
    out = run("multigroup.py")
    assert "200 increments over 8 groups" in out
    assert "read back from NodeHost 3: 200 increments" in out


def test_on_disk_sqlite_restarts_from_its_own_index() -> None:
    out = run("ondisk_sqlite.py")
    assert "city=Lisbon" in out and "after restart" in out and "city=Porto" in out


def test_cpp_plugin_from_python() -> None:
    plugin = BUILD / "examples" / "plugin" / "libdragonboat_kv_plugin.so"
    assert plugin.exists(), f"{plugin} is missing: build the C++ tree first (scripts/dev.sh test)"
    assert "engine: c++" in run("plugin_kv.py", str(plugin))
