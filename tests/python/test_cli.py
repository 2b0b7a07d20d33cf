"""The ``dragonboat`` command: the demo (the README's main job) runs and exits cleanly."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_a_three_process_cluster_and_catches_up() -> None:
    out = subprocess.run([sys.executable, "-m", "dragonboat", "demo", "--seconds", "1"],
                         capture_output=True, text=True, timeout=180, check=True)
    assert "NodeHost 3 caught up" in out.stdout
    assert "summary:" in out.stdout
    assert " 0 writes acknowledged" not in out.stdout


def test_simulate_command() -> None:
    out = subprocess.run([sys.executable, "-m", "dragonboat", "simulate", "--seeds", "3"],
                         capture_output=True, text=True, timeout=120, check=True)
    assert "0 violations" in out.stdout


def test_bad_arguments_are_usage_errors() -> None:
    r = subprocess.run([sys.executable, "-m", "dragonboat", "nonsense"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "usage" in r.stderr
