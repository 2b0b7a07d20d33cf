"""The Python package imports, reports its version and drives the core."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import dragonboat
from dragonboat import _core


def test_version_matches_metadata() -> None:
    from importlib.metadata import version

    assert re.fullmatch(r"\d+\.\d+\.\d+", dragonboat.__version__)
    assert dragonboat.__version__ == version("dragonboat")


def test_error_codes_mirror_reference_and_temp_grouping() -> None:
    names = _core.error_code_names()
    for ref in ("system_busy", "cluster_not_found", "payload_too_big", "invalid_session",
                "timeout", "rejected", "cluster_not_ready", "invalid_target"):
        assert ref in names
    assert _core.is_temp_error_code("system_busy")
    assert _core.is_temp_error_code("timeout")
    assert not _core.is_temp_error_code("cluster_not_found")
    with pytest.raises(ValueError):
        _core.is_temp_error_code("no_such_code")


def test_simulation_is_deterministic_and_safe() -> None:
    a = dragonboat.simulate(7, steps=600)
    b = dragonboat.simulate(7, steps=600)
    assert a == b
    assert a.ok, a.violations
    assert a.writes_acked > 0 and a.leader_elections > 0


def test_simulate_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        dragonboat.simulate(1, steps=0)


def test_command_line_prints_summary() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dragonboat", "simulate", "--seeds", "3", "--steps", "300"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "simulation: 3 seeds," in out and "0 violations" in out


def test_retry_retries_temporary_errors_only() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise dragonboat.errors.SystemBusyError("busy")  # temporary
        return "done"

    assert dragonboat.retry(flaky, timeout=10.0, interval=0.0) == "done" and len(calls) == 3

    def wrong() -> None:
        calls.append(1)
        raise dragonboat.errors.PayloadTooBigError("too big")  # not temporary

    calls.clear()
    with pytest.raises(dragonboat.errors.PayloadTooBigError):
        dragonboat.retry(wrong, timeout=10.0)
    assert len(calls) == 1

    def never() -> None:
        raise dragonboat.errors.ClusterNotReadyError("no leader")

    with pytest.raises(dragonboat.errors.ClusterNotReadyError):
        dragonboat.retry(never, timeout=0.0)
