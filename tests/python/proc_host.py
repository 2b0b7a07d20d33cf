"""One NodeHost in its own OS process, driven line by line over stdin/stdout.

Used by test_processes.py: ``python proc_host.py INDEX ADDRESSES_JSON DIR MODE``
where MODE is ``new`` (initial member), ``restart`` or ``join``. Commands:
``put KEY VALUE``, ``get KEY``, ``leader``, ``add NODE_ID ADDRESS``, ``quit``.
Every command answers one line: ``ok ...`` or ``err ErrorClass message``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import dragonboat
from dragonboat import Config, NodeHost, NodeHostConfig, StateMachine, errors
from dragonboat.statemachine import SnapshotReader, SnapshotWriter


class KV(StateMachine):
    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def update(self, data: bytes) -> int:
        key, _, value = data.decode().partition("=")
        self.data[key] = value
        return len(self.data)

    def lookup(self, query: Any) -> Any:
        return self.data.get(query, "")

    def save_snapshot(self, writer: SnapshotWriter) -> None:
        writer.write(json.dumps(self.data).encode())

    def recover_from_snapshot(self, reader: SnapshotReader) -> None:
        self.data = json.loads(reader.read())


def retry(fn: Any, limit: float = 20.0, idempotent: bool = False) -> Any:
    return dragonboat.retry(fn, timeout=limit, idempotent=idempotent)


def main() -> None:
    index, addresses, directory, mode = (int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3],
                                         sys.argv[4])
    node_id = index + 1
    nh = NodeHost(NodeHostConfig(node_host_dir=directory, raft_address=addresses[index],
                                 rtt_millisecond=10))
    members = {i + 1: a for i, a in enumerate(addresses[:3])} if mode == "new" else {}
    nh.start_cluster(members, mode == "join", lambda c, n: KV(),
                     Config(node_id=node_id, cluster_id=1, election_rtt=10, check_quorum=True,
                            snapshot_entries=20, compaction_overhead=5))
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if cmd[0] == "quit":
            break
        print(serve(nh, cmd), flush=True)
    nh.stop()


def serve(nh: NodeHost, cmd: list[str]) -> str:
    try:
        if cmd[0] == "put":
            s = nh.get_noop_session(1)
            retry(lambda: nh.sync_propose(s, f"{cmd[1]}={cmd[2]}".encode(), 3.0))
            return "ok"
        if cmd[0] == "get":
            return "ok " + str(retry(lambda: nh.sync_read(1, cmd[1], 3.0), idempotent=True))
        if cmd[0] == "leader":
            return "ok " + str(nh.get_leader_id(1)[0])
        if cmd[0] == "add":
            retry(lambda: nh.sync_request_add_node(1, int(cmd[1]), cmd[2], 0, 3.0))
            return "ok"
        return "err ValueError unknown command"
    except errors.DragonboatError as e:
        return f"err {type(e).__name__} {e}"


if __name__ == "__main__":
    main()
