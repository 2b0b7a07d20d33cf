"""Many Raft groups on three NodeHosts: a sharded counter service.

Three NodeHosts (in this process, for brevity; normally one per machine)
each run a replica of 8 groups; keys are spread over the groups by hash, so
writes to different keys proceed in parallel and every group elects its own
leader. Run: python examples/multigroup.py
"""

from __future__ import annotations

import functools
import socket
import tempfile
import time
import zlib
from typing import Any

import dragonboat
from dragonboat import Config, NodeHost, NodeHostConfig, StateMachine

GROUPS = 8


class Counters(StateMachine):
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def update(self, data: bytes) -> int:
        key = data.decode()
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]

    def lookup(self, query: Any) -> Any:
        return self.counts.get(query, 0)

    def save_snapshot(self, writer: dragonboat.SnapshotWriter) -> None:
        writer.write(repr(sorted(self.counts.items())).encode())

    def recover_from_snapshot(self, reader: dragonboat.SnapshotReader) -> None:
        import ast

        self.counts = dict(ast.literal_eval(reader.read().decode()))


def retry(fn: Any, idempotent: bool = False) -> Any:
    """Retries while the group has no leader yet (a temporary error); a
    proposal only while it is surely not applied, a read (idempotent) after
    any temporary error."""
    return dragonboat.retry(fn, timeout=10.0, idempotent=idempotent)


def group_of(key: str) -> int:
    return 1 + zlib.crc32(key.encode()) % GROUPS


def main() -> None:
    ports = []
    for _ in range(3):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    addresses = [f"127.0.0.1:{p}" for p in ports]
    members = {i + 1: a for i, a in enumerate(addresses)}
    with tempfile.TemporaryDirectory() as d:
        hosts = [NodeHost(NodeHostConfig(node_host_dir=f"{d}/{i}", raft_address=a,
                                         rtt_millisecond=20)) for i, a in enumerate(addresses)]
        try:
            for g in range(1, GROUPS + 1):
                for i, nh in enumerate(hosts):
                    nh.start_cluster(members, False, lambda c, n: Counters(),
                                     Config(node_id=i + 1, cluster_id=g, election_rtt=10))
            nh = hosts[0]
            # Every group elects its own leader; wait until each has one.
            while not all(nh.get_leader_id(g)[1] for g in range(1, GROUPS + 1)):
                time.sleep(0.02)
            keys = [f"user{i}" for i in range(40)]
            pending = []
            for _ in range(5):
                for key in keys:
                    session = nh.get_noop_session(group_of(key))
                    pending.append(retry(functools.partial(nh.propose, session, key.encode(), 5.0)))
            failed = 0
            for rs in pending:
                r = rs.wait(10.0)
                if r is None or not r.completed():
                    # e.g. dropped during a first election: a client would retry a dropped
                    # increment (never applied), not a timed-out one (it may still apply)
                    failed += 1
            leaders = {g: nh.get_leader_id(g)[0] for g in range(1, GROUPS + 1)}
            print(f"{len(pending) - failed} increments over {GROUPS} groups; leaders: {leaders}")
            total = sum(retry(lambda k=k: hosts[2].sync_read(group_of(k), k, 5.0), idempotent=True)
                        for k in keys)
            print(f"read back from NodeHost 3: {total} increments")
        finally:
            for h in hosts:
                h.stop()


if __name__ == "__main__":
    main()
