"""The whole-system randomized test (dragonboat.systest): real NodeHost
processes under faults keep every invariant; and the checks do see the bugs
they exist for, both in fabricated histories (the pure invariant functions)
and end to end, when the worker processes fake a bug."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dragonboat.checker import Checker
from dragonboat.systest import Options, replay_command, run_seed
from dragonboat.systest.controller import summarize
from dragonboat.systest.invariants import (
    FAILED,
    OK,
    UNKNOWN,
    HashLedger,
    ReadOp,
    StateSample,
    Violation,
    WriteOp,
    check_applied,
    check_group,
    check_reads,
    check_results,
)

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("DRAGONBOAT_BUILD_DIR", ROOT / "build" / "dev"))
PLUGIN = BUILD / "tests" / "checker" / "libdragonboat_checker_plugin.so"


def _plugin() -> list[str]:
    return ["--plugin", str(PLUGIN)] if PLUGIN.exists() else []


def _leftover_processes(marker: str) -> list[str]:
    """Processes whose command line mentions ``marker`` (the run's directory)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            out.append(f"{pid}: {cmdline}")
    return out


# ---- real processes ----------------------------------------------------------------------------


def test_seeds_keep_every_invariant(tmp_path: Path) -> None:
    """Three seeds of load and faults (kill -9, restarts, membership changes,
    snapshots...) through the command line: zero violations, and no process
    is left behind."""
    if not PLUGIN.exists():
        print(f"{PLUGIN} is missing: C++ groups skipped")
    r = subprocess.run(
        [sys.executable, "-m", "dragonboat", "systest", "--seed", "6", "--seeds", "3",
         "--seconds", "20", "--dir", str(tmp_path), *_plugin()],
        capture_output=True, text=True, timeout=900)
    print(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    m = re.fullmatch(r"system test: 3 seeds, (\d+) operations, 0 violations", lines[-1])
    assert m, lines[-1]
    assert int(m.group(1)) > 1000, "the seeds did real work"
    assert len([line for line in lines if line.startswith("seed ")]) == 3
    faults = [int(f) for f in re.findall(r"reads, (\d+) faults", r.stdout)]
    assert len(faults) == 3 and min(faults) > 0, "every seed injected faults"
    assert _leftover_processes(str(tmp_path)) == []


@pytest.mark.parametrize(("bug", "kinds"), [
    # A snapshot holding state newer than its index: entries applied twice after a restart.
    ("double-apply", {"hash", "diverged", "duplicate", "converge"}),
    # A restarted node completing a new proposal with an older entry's result.
    ("stale-result", {"result", "order"}),
])
def test_the_system_test_sees_a_faked_bug(tmp_path: Path, bug: str, kinds: set[str]) -> None:
    """The workers fake one of the bugs the test exists for: it is reported."""
    lines: list[str] = []
    r = run_seed(7, Options(seconds=10, hosts=3, root=str(tmp_path), inject=bug, stall=3.0,
                            plugin=str(PLUGIN) if PLUGIN.exists() else None), lines.append)
    found = {v.kind for v in r.violations}
    assert found & kinds, f"{bug} was not seen: {found}\n" + "\n".join(map(str, r.violations))
    assert not found & {"error", "crash", "heal"}, "\n".join(map(str, r.violations))
    assert r.directory is not None, "a failed seed keeps its directory (logs)"
    assert _leftover_processes(str(tmp_path)) == []


def test_bad_arguments_are_usage_errors() -> None:
    r = subprocess.run([sys.executable, "-m", "dragonboat", "systest", "--hosts", "7"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--hosts" in r.stderr


def test_replay_command_repeats_the_options() -> None:
    opts = Options(seconds=12.5, hosts=4, plugin="/x/p.so")
    assert replay_command(99, opts) == ("python -m dragonboat systest --seed 99 --seeds 1 "
                                        "--seconds 12.5 --hosts 4 --plugin /x/p.so")


# ---- the invariant checks on fabricated histories ---------------------------------------------


def _history() -> tuple[list[WriteOp], list[ReadOp], Checker]:
    """A correct history of group 1: 6 proposals applied in order, 2 reads."""
    sm = Checker()
    ops = []
    for i in range(6):
        op = WriteOp(1, f"c{i}", session=i % 2 == 0, invoke=float(i), attempts=1)
        op.value = sm.update(op.cmd.encode())
        op.complete, op.outcome = i + 0.5, OK
        ops.append(op)
    ops.append(WriteOp(1, "never-queued", True, 6.0, outcome=FAILED))
    ops.append(WriteOp(1, "timed-out", True, 6.0, outcome=UNKNOWN, attempts=1))
    reads = [ReadOp(1, 2.6, 2.8, 3, 0, 3, "r1"), ReadOp(1, 5.6, 5.7, 6, sm.hash, 6, "r2")]
    return ops, reads, sm


def _finals(*sms: Checker) -> tuple[dict[str, tuple[int, int, int]], dict[str, dict[str, int]]]:
    finals = {}
    applied = {}
    for i, sm in enumerate(sms):
        count, h, distinct = (int(x) for x in sm.lookup(b"state").split())
        finals[f"n{i}"] = (count, h, distinct)
        applied[f"n{i}"] = {k.decode(): v for k, v in sm.applied.items()}
    return finals, applied


def test_a_correct_history_passes() -> None:
    ops, reads, sm = _history()
    finals, applied = _finals(sm, sm)
    assert check_group(1, ops, reads, finals, applied) == []


def test_a_double_apply_is_reported() -> None:
    ops, reads, good = _history()
    bad = Checker()  # a replica that applied c2 twice (e.g. replayed under a newer snapshot)
    for cmd in ["c0", "c1", "c2", "c2", "c3", "c4", "c5"]:
        bad.update(cmd.encode())
    finals, applied = _finals(good, bad)
    kinds = {v.kind for v in check_group(1, ops, reads, finals, applied)}
    assert {"diverged", "duplicate"} <= kinds
    # At equal counts the hashes tell, as the ledger sees continuously.
    ledger = HashLedger()
    at3 = Checker()
    for cmd in ["c0", "c1", "c2"]:
        at3.update(cmd.encode())
    dup3 = Checker()
    for cmd in ["c0", "c1", "c1"]:
        dup3.update(cmd.encode())
    assert ledger.observe(StateSample(1, 3, at3.hash, 3, "n0")) is None
    v = ledger.observe(StateSample(1, 3, dup3.hash, 2, "n1"))
    assert v is not None and v.kind == "hash" and "n0" in v.detail and "n1" in v.detail
    assert ledger.observe(StateSample(1, 3, dup3.hash, 2, "n1 again")) is None  # reported once
    assert len(ledger.violations) == 1


def test_a_lost_write_and_a_phantom_write_are_reported() -> None:
    ops, _, sm = _history()
    finals, applied = _finals(sm)
    lost = dict(applied["n0"], c3=0)
    kinds = {v.kind for v in check_applied(1, ops, lost, finals["n0"])}
    assert {"lost", "count"} <= kinds
    phantom = dict(applied["n0"], **{"never-queued": 1})
    kinds = {v.kind for v in check_applied(1, ops, phantom, (7, 0, 7))}
    assert kinds == {"phantom"}
    # A timed-out session proposal may be applied once, never twice.
    assert check_applied(1, ops, dict(applied["n0"], **{"timed-out": 1}), (7, 0, 7)) == []
    twice = check_applied(1, ops, dict(applied["n0"], **{"timed-out": 2}), (8, 0, 7))
    assert {v.kind for v in twice} == {"duplicate"}


def test_an_old_result_for_a_new_proposal_is_reported() -> None:
    ops, _, _ = _history()
    ops[5].value = 3  # c5 completed with c2's result
    kinds = {v.kind for v in check_results(1, ops, final_count=6)}
    assert kinds == {"result", "order"}
    ops[5].value = 99
    assert {v.kind for v in check_results(1, ops, final_count=6)} == {"result"}


def test_stale_reads_are_reported() -> None:
    ops, reads, sm = _history()
    assert check_reads(1, ops, reads) == []
    # Invoked after c0..c4 were acknowledged, but sees only 4 of them.
    stale = ReadOp(1, 4.6, 4.7, 4, 0, 4, "behind")
    [v] = check_reads(1, ops, [*reads, stale])
    assert v.kind == "stale-read" and "behind" in v.detail
    # A read that began after another one ended sees at least as much.
    older = ReadOp(1, 5.8, 5.9, 5, 0, 6, "older")
    found = check_reads(1, ops, [*reads, older])
    assert [v.kind for v in found] == ["stale-read", "stale-read"]


def test_summarize_caps_each_kind() -> None:
    vs = [Violation("hash", 1, f"#{i}") for i in range(5)] + [Violation("lost", 2, "x")]
    lines = summarize(vs, per_kind=2)
    assert len(lines) == 4
    assert lines[-1] == "  ... and 3 more [hash] in group 1"
