"""What a Python client pays per call: get_noop_session, propose and
add_done_callback on one single-member NodeHost, with N proposals in flight
(the engine completing earlier ones meanwhile, as under load).

Usage: python benchmarks/python_call_costs.py [--inflight 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import time
from typing import Any

import dragonboat
from dragonboat import Config, NodeHost, NodeHostConfig, RequestResult, StateMachine


class Nothing(StateMachine):
    def update(self, data: bytes) -> int:
        return 1

    def lookup(self, query: Any) -> Any:
        return None

    def save_snapshot(self, writer: dragonboat.SnapshotWriter) -> None:
        pass

    def recover_from_snapshot(self, reader: dragonboat.SnapshotReader) -> None:
        pass


def wrapper_cost(session: dragonboat.Session) -> tuple[float, float]:
    """ns per ``nh.propose(...).add_done_callback(cb)`` through the package's
    Python wrappers, and per the same two calls made on the extension's
    objects directly, with the extension replaced by stubs that do nothing:
    what the wrappers themselves cost."""

    class Raw:
        def on_complete(self, cb: Any) -> None:
            pass

    raw = Raw()

    class Core:
        def propose(self, s: Any, c: bytes, t: float) -> Raw:
            return raw

    nh = object.__new__(NodeHost)
    nh._core = Core()  # type: ignore[assignment]
    core = Core()

    def cb(r: RequestResult) -> None:
        pass

    cmd, n = b"0123456789abcdef", 200_000
    start = time.perf_counter()
    for _ in range(n):
        nh.propose(session, cmd, 5.0).add_done_callback(cb)
    wrapped = (time.perf_counter() - start) / n * 1e9
    start = time.perf_counter()
    for _ in range(n):
        core.propose(session, cmd, 5.0).on_complete(cb)
    return wrapped, (time.perf_counter() - start) / n * 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inflight", type=int, default=2000, help="below max_pending_per_node (4096)")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    with tempfile.TemporaryDirectory() as d, NodeHost(
        NodeHostConfig(node_host_dir=d, raft_address=address, rtt_millisecond=50)
    ) as nh:
        nh.start_cluster({1: address}, False, lambda c, n: Nothing(),
                         Config(node_id=1, cluster_id=1))
        dragonboat.retry(lambda: nh.sync_propose(nh.get_noop_session(1), b"x", 2.0))
        n = 200_000
        start = time.perf_counter()
        for _ in range(n):
            nh.get_noop_session(1)
        print(f"get_noop_session: {(time.perf_counter() - start) / n * 1e9:,.0f} ns")
        session = nh.get_noop_session(1)

        def ignore(r: RequestResult) -> None:
            pass

        wrapped, bare = wrapper_cost(session)
        print(f"the package's Python around the extension (extension stubbed): "
              f"propose + add_done_callback {wrapped:,.0f} ns, the bare calls {bare:,.0f} ns")

        for _ in range(a.rounds):
            start = time.perf_counter()
            pending = [nh.propose(session, b"0123456789abcdef", 5.0) for _ in range(a.inflight)]
            proposed = time.perf_counter()
            for rs in pending:
                rs.add_done_callback(ignore)
            end = time.perf_counter()
            print(f"propose: {(proposed - start) / a.inflight * 1e9:,.0f} ns, "
                  f"add_done_callback: {(end - proposed) / a.inflight * 1e9:,.0f} ns")
            for rs in pending:
                rs.wait(10.0)


if __name__ == "__main__":
    main()
