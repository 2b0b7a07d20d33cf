"""The README's quickstart runs as printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_runs() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")],
                         capture_output=True, text=True, timeout=60, check=True)
    assert "greeting: hello" in out.stdout
    assert "answer: 42" in out.stdout
