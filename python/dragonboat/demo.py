"""``dragonboat demo``: three NodeHosts as three local processes running a
replicated key-value store; writes and reads with live progress; one NodeHost
stops and the others keep serving; it restarts and catches up; a summary.

Everything lives under a temporary directory and on free loopback ports.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

GROUPS = 4  # Raft groups, each replicated on the three NodeHosts

# ---- the NodeHost process ----------------------------------------------------------


def host_main(argv: list[str]) -> int:
    """``python -m dragonboat _host INDEX ADDRESSES_JSON DIR MODE``: one demo NodeHost."""
    from dragonboat import Config, NodeHost, NodeHostConfig, StateMachine, errors
    from dragonboat.checker import CheckerState
    from dragonboat.retry import retry as dragonboat_retry
    from dragonboat.statemachine import SnapshotReader, SnapshotWriter

    class KV(StateMachine):
        """A key-value store that also counts and hashes every command it
        applies (dragonboat.checker): a command applied twice or skipped on
        any replica would show as a different count or hash."""

        def __init__(self) -> None:
            self.data: dict[str, str] = {}
            self.check = CheckerState()

        def update(self, data: bytes) -> int:
            key, _, value = data.decode().partition("=")
            self.data[key] = value
            self.check.apply(data)
            return len(self.data)

        def lookup(self, query: Any) -> Any:
            if query == "state":  # "<count> <hash> <distinct>"
                return self.check.lookup(b"state").decode()
            return self.data.get(query, "") if query is not None else len(self.data)

        def save_snapshot(self, writer: SnapshotWriter) -> None:
            saved = {"data": self.data, "check": self.check.encode().hex()}
            writer.write(json.dumps(saved).encode())

        def recover_from_snapshot(self, reader: SnapshotReader) -> None:
            saved = json.loads(reader.read())
            self.data = saved["data"]
            self.check = CheckerState.decode(bytes.fromhex(saved["check"]))

    import logging

    # The engine's warnings (e.g. "connection refused" while a peer is down,
    # which this demo does on purpose) would clutter the output.
    logging.getLogger("dragonboat").setLevel(logging.ERROR)
    index, addresses, directory, mode = int(argv[0]), json.loads(argv[1]), argv[2], argv[3]
    leader_changes = [0]

    class Leaders:
        def leader_updated(self, info: Any) -> None:
            leader_changes[0] += 1

    nh = NodeHost(NodeHostConfig(node_host_dir=directory, raft_address=addresses[index],
                                 rtt_millisecond=20, raft_event_listener=Leaders()))
    members = {i + 1: a for i, a in enumerate(addresses)} if mode == "new" else {}
    for g in range(1, GROUPS + 1):
        nh.start_cluster(members, False, lambda c, n: KV(),
                         Config(node_id=index + 1, cluster_id=g, election_rtt=10,
                                check_quorum=True, snapshot_entries=5000,
                                compaction_overhead=500))
    print("ready", flush=True)

    def retry_read(fn: Any) -> Any:
        # A read may be repeated after any temporary error, timeouts included.
        return dragonboat_retry(fn, timeout=20, idempotent=True)

    def write(count: int, base: int) -> str:
        lat: list[float] = []
        done = threading.Semaphore(0)
        window = threading.Semaphore(512)  # proposals in flight
        ok = [0]
        lock = threading.Lock()
        for i in range(count):
            window.acquire()
            g = 1 + (base + i) % GROUPS
            t0 = time.monotonic()

            def completed(r: Any, t0: float = t0) -> None:
                with lock:
                    if r.completed():
                        ok[0] += 1
                        lat.append(time.monotonic() - t0)
                window.release()
                done.release()

            try:
                nh.propose(nh.get_noop_session(g), f"k{base + i}=v{base + i}".encode(),
                           5.0).add_done_callback(completed)
            except errors.DragonboatError:
                window.release()
                done.release()
        for _ in range(count):
            done.acquire()
        lat.sort()

        def p(q: float) -> float:
            return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else 0.0

        return f"ok {ok[0]} {p(0.5):.2f} {p(0.99):.2f}"

    for line in sys.stdin:
        cmd = line.split()
        try:
            if cmd[0] == "write":
                out = write(int(cmd[1]), int(cmd[2]))
            elif cmd[0] == "read":
                g, key = 1 + int(cmd[1]) % GROUPS, f"k{cmd[1]}"
                out = "ok " + str(retry_read(lambda g=g, key=key: nh.sync_read(g, key, 5.0)))
            elif cmd[0] == "keys":
                out = "ok " + str(sum(int(nh.stale_read(g, None)) for g in range(1, GROUPS + 1)))
            elif cmd[0] == "state":  # every group's "<count> <hash> <distinct>", comma-separated
                out = "ok " + ",".join(str(nh.stale_read(g, "state")).replace(" ", ":")
                                       for g in range(1, GROUPS + 1))
            elif cmd[0] == "leaders":
                out = f"ok {leader_changes[0]}"
            elif cmd[0] == "quit":
                break
            else:
                out = "err unknown command"
        except errors.DragonboatError as e:
            out = f"err {type(e).__name__}: {e}"
        print(out, flush=True)
    nh.stop()
    return 0


# ---- the driver ------------------------------------------------------------------------


class Host:
    def __init__(self, index: int, addresses: list[str], directory: str, mode: str) -> None:
        self.index = index
        self.p = subprocess.Popen(
            [sys.executable, "-m", "dragonboat", "_host", str(index), json.dumps(addresses),
             directory, mode],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        if self._line() != "ready":
            raise RuntimeError(f"NodeHost {index + 1} failed to start")

    def _line(self) -> str:
        assert self.p.stdout is not None
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f"NodeHost {self.index + 1} exited")
        return line.strip()

    def ask(self, command: str) -> list[str]:
        assert self.p.stdin is not None
        self.p.stdin.write(command + "\n")
        self.p.stdin.flush()
        reply = self._line().split()
        if reply[0] != "ok":
            raise RuntimeError(f"NodeHost {self.index + 1}: {' '.join(reply)}")
        return reply[1:]

    def stop(self) -> None:
        if self.p.poll() is None:
            try:
                assert self.p.stdin is not None
                self.p.stdin.write("quit\n")
                self.p.stdin.flush()
                self.p.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.p.kill()
                self.p.wait()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run(seconds: float = 6.0) -> int:
    """Runs the demo; returns a process exit status."""
    root = tempfile.mkdtemp(prefix="dragonboat-demo-")
    addresses = [f"127.0.0.1:{_port()}" for _ in range(3)]
    dirs = [os.path.join(root, f"nodehost{i + 1}") for i in range(3)]
    hosts: list[Host | None] = [None, None, None]
    written = 0  # keys attempted
    acknowledged = 0
    reads = 0
    p50s: list[float] = []
    p99s: list[float] = []
    try:
        print(f"starting 3 NodeHosts ({GROUPS} Raft groups each) under {root}")
        for i in range(3):
            hosts[i] = Host(i, addresses, dirs[i], "new")

        def phase(title: str, client: Host, duration: float) -> None:
            nonlocal written, acknowledged, reads
            start = shown = time.monotonic()
            phase_ok = 0
            batch = 2000
            while time.monotonic() - start < duration:
                ok, p50, p99 = client.ask(f"write {batch} {written}")
                written += batch
                acknowledged += int(ok)
                phase_ok += int(ok)
                p50s.append(float(p50))
                p99s.append(float(p99))
                client.ask(f"read {written - 1}")
                reads += 1
                now = time.monotonic()
                if now - shown >= 0.25 or now - start >= duration:  # a few updates a second
                    shown = now
                    done = min(1.0, (now - start) / duration)
                    bar = "#" * int(30 * done) + "." * (30 - int(30 * done))
                    print(f"\r  {title:<28} [{bar}] {acknowledged:>8} writes acknowledged, "
                          f"{phase_ok / (now - start):>8,.0f} writes/s, p50 {float(p50):5.1f} ms",
                          end="", flush=True)
            print()

        h1 = hosts[0]
        assert h1 is not None
        phase("three NodeHosts", h1, seconds)
        print("stopping NodeHost 3")
        h3 = hosts[2]
        assert h3 is not None
        h3.stop()
        hosts[2] = None
        phase("two NodeHosts keep serving", h1, seconds / 2)
        print("restarting NodeHost 3 from its directory")
        t0 = time.monotonic()
        h3 = Host(2, addresses, dirs[2], "restart")
        hosts[2] = h3
        target = int(h1.ask("keys")[0])
        deadline = time.monotonic() + 60
        keys = 0
        while keys < target and time.monotonic() < deadline:
            keys = int(h3.ask("keys")[0])
            time.sleep(0.05)  # polling the catch-up; each answer is the replica's own state
        state = "caught up" if keys >= target else "did NOT catch up"
        print(f"  NodeHost 3 {state} in {time.monotonic() - t0:.2f} s ({keys} of {target} keys)")
        if keys < target:
            return 1
        # Every replica must have applied every command exactly once: the
        # same count and hash on the three hosts, group by group.
        live = [h for h in hosts if h is not None]
        deadline = time.monotonic() + 30
        states = [h.ask("state")[0] for h in live]
        while len(set(states)) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling: the followers apply the last entries
            states = [h.ask("state")[0] for h in live]
        applied = sum(int(g.split(":")[0]) for g in states[0].split(","))
        distinct = sum(int(g.split(":")[2]) for g in states[0].split(","))
        if len(set(states)) > 1 or applied != distinct:
            print(f"  replicas DISAGREE or a command was applied twice: {states}")
            return 1
        print(f"  replicas agree: {applied} commands applied once each, "
              f"the same count and hash in all {GROUPS} groups on {len(live)} hosts")
        leader_changes = sum(int(h.ask("leaders")[0]) for h in hosts if h is not None)
        p50s.sort()
        p99s.sort()
        print(f"summary: {acknowledged} writes acknowledged, {reads} linearizable reads, "
              f"{leader_changes} leader changes seen (all hosts, first elections included), "
              f"latency p50 {p50s[len(p50s) // 2]:.1f} ms, "
              f"p99 {p99s[len(p99s) // 2]:.1f} ms (median of the batches)")
        return 0
    finally:
        for h in hosts:
            if h is not None:
                h.stop()
        shutil.rmtree(root, ignore_errors=True)
