"""Three NodeHosts as three OS processes: kill -9 of the leader under load loses
no acknowledged write; the killed host restarts and catches up; a fourth
process joins and catches up by snapshot."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port

HERE = Path(__file__).resolve().parent


class Proc:
    def __init__(self, index: int, addresses: list[str], directory: Path, mode: str) -> None:
        self.p = subprocess.Popen(
            [sys.executable, str(HERE / "proc_host.py"), str(index), json.dumps(addresses),
             str(directory), mode],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        assert self.readline() == "ready"

    def readline(self) -> str:
        assert self.p.stdout is not None
        line = self.p.stdout.readline()
        assert line, "the NodeHost process exited"
        return line.strip()

    def ask(self, command: str) -> str:
        assert self.p.stdin is not None
        self.p.stdin.write(command + "\n")
        self.p.stdin.flush()
        return self.readline()

    def kill(self) -> None:
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGKILL)
        self.p.wait(timeout=30)

    def quit(self) -> None:
        if self.p.poll() is None:
            try:
                self.ask("quit")
            except (AssertionError, BrokenPipeError):
                pass
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for p in started:  # no process is left behind, whatever happened
        p.quit()


def test_kill_leader_restart_and_join(tmp_path: Path, procs: list[Proc]) -> None:
    addresses = [f"127.0.0.1:{free_port()}" for _ in range(4)]
    dirs = [tmp_path / f"nh{i}" for i in range(4)]
    for i in range(3):
        procs.append(Proc(i, addresses, dirs[i], "new"))
    acked: list[int] = []
    for i in range(40):
        assert procs[0].ask(f"put k{i} {i}") == "ok"
        acked.append(i)
    leader = int(procs[0].ask("leader").split()[1])
    assert leader in (1, 2, 3)
    victim = leader - 1
    procs[victim].kill()
    client = procs[(victim + 1) % 3]
    for i in range(40, 80):
        if client.ask(f"put k{i} {i}") == "ok":
            acked.append(i)
    assert len(acked) >= 60, "the two survivors keep accepting writes"
    for i in acked:
        assert client.ask(f"get k{i}") == f"ok {i}", f"acknowledged write k{i} lost"
    # The killed host restarts from its directory and catches up.
    procs[victim] = Proc(victim, addresses, dirs[victim], "restart")
    assert procs[victim].ask(f"get k{acked[-1]}") == f"ok {acked[-1]}"
    assert procs[victim].ask("get k0") == "ok 0"
    # A fourth host joins; the log was compacted, so it starts from a snapshot.
    assert client.ask(f"add 4 {addresses[3]}") == "ok"
    procs.append(Proc(3, addresses, dirs[3], "join"))
    assert procs[3].ask("get k0") == "ok 0"
    assert procs[3].ask(f"get k{acked[-1]}") == f"ok {acked[-1]}"
