"""The linearizability test's short tier: three one-minute runs of server
processes in network namespaces under mixed faults (kill -9 of a minority and
of every node, pauses, partitions, a bridge, packet loss), each checked for
linearizability, lost acknowledged writes, agreeing replicas and progress
after healing; and a run with a faked stale-read bug that the checker must
catch. ``scripts/dev.sh lintest 30`` runs it long (docs/testing.md)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dragonboat.lintest import FAULTS, net, run_once

pytestmark = pytest.mark.skipif(net.unavailable() is not None,
                                reason=str(net.unavailable()))


def _namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return {line.split()[0] for line in out.stdout.splitlines()
            if line.startswith(net.PREFIX)}


def _our_processes() -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if "dragonboat.lintest.server" in line]


@pytest.mark.parametrize(("seed", "nodes"), [(101, 3), (202, 5), (303, 3)])
def test_mixed_faults_one_minute(seed: int, nodes: int, tmp_path: Path) -> None:
    before = _namespaces()
    r = run_once(seed, nodes, 60.0, root=str(tmp_path))
    print(r)
    assert r.violations == []
    # The run did real work under real faults: many operations of every kind
    # completed, and several faults were injected.
    assert r.operations > 1000
    for kind in ("read", "write", "cas"):
        assert r.ops.get(f"{kind} ok", 0) > 100, r.ops
    assert sum(r.faults.values()) >= 5, r.faults
    # Nothing is left behind: namespaces, server processes.
    assert _namespaces() == before
    assert _our_processes() == []


def test_a_stale_read_bug_is_caught(tmp_path: Path) -> None:
    # Reads served from a replica's local state (no ReadIndex) are stale on
    # a partitioned minority while the majority goes on writing.
    r = run_once(404, 3, 30.0, root=str(tmp_path), inject="stale-read",
                 faults=("partition", "isolate-leader"))
    print(r)
    assert any(v.startswith("not linearizable") for v in r.violations), r.violations
    assert _our_processes() == []


def test_faults_are_known() -> None:
    with pytest.raises(ValueError, match="unknown faults"):
        run_once(1, 3, 1.0, faults=("meteor",))
    assert "kill-all" in FAULTS and "bridge" in FAULTS
