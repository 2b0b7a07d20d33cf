"""A replicated key-value store in 40 lines: one NodeHost, one Raft group.

Run: python examples/quickstart.py  (after `pip install .`)
"""

from __future__ import annotations

import socket
import tempfile
from typing import Any

import dragonboat
from dragonboat import Config, NodeHost, NodeHostConfig, StateMachine


class KV(StateMachine):
    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def update(self, data: bytes) -> int:  # deterministic: same log, same state
        key, _, value = data.decode().partition("=")
        self.data[key] = value
        return len(self.data)

    def lookup(self, query: Any) -> Any:
        return self.data.get(query)

    def save_snapshot(self, writer: dragonboat.SnapshotWriter) -> None:
        writer.write("\n".join(f"{k}={v}" for k, v in self.data.items()).encode())

    def recover_from_snapshot(self, reader: dragonboat.SnapshotReader) -> None:
        self.data = dict(line.split("=", 1) for line in reader.read().decode().splitlines() if line)


def main() -> None:
    with socket.socket() as s:  # a free port for this demo
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    with tempfile.TemporaryDirectory() as d, NodeHost(
        NodeHostConfig(node_host_dir=d, raft_address=address, rtt_millisecond=50)
    ) as nh:
        nh.start_cluster({1: address}, False, lambda cluster, node: KV(),
                         Config(node_id=1, cluster_id=100, election_rtt=10, heartbeat_rtt=1))
        session = nh.get_noop_session(100)
        # Until the member has elected itself (a few ticks) a proposal is dropped
        # (ClusterNotReadyError: never applied) and dragonboat.retry tries again; a
        # timeout is raised at once, since that proposal may still be applied.
        dragonboat.retry(lambda: nh.sync_propose(session, b"greeting=hello", timeout=2.0))
        nh.sync_propose(session, b"answer=42", timeout=2.0)
        print("greeting:", nh.sync_read(100, "greeting", timeout=2.0))
        print("answer:", nh.sync_read(100, "answer", timeout=2.0))


if __name__ == "__main__":
    main()
