"""The README's quickstart runs as printed, and so does examples/quickstart.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_runs() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")],
                         capture_output=True, text=True, timeout=60, check=True)
    assert "greeting: hello" in out.stdout
    assert "answer: 42" in out.stdout


def test_readme_quickstart_block_runs_as_pasted(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quickstart \(Python\).*?```python\n(.*?)```", readme, re.S)
    assert block is not None, "the README lost its Python quickstart block"
    script = tmp_path / "pasted.py"
    script.write_text(block.group(1))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=60, check=True)
    assert "greeting: hello" in out.stdout
