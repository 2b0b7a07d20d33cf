"""Committed writes/s from ONE Python process, beside PySyncObj in the same run.

dragonboat: three NodeHosts in this process (loopback TCP, RocksDB, fsync on),
--groups groups replicated on all three, 16 B proposals, --inflight requests in
flight per group (closed loop: a completion callback issues the next), for
--seconds. The state machine is Python (every replica's update runs in this
process, under its one GIL) or, with --plugin, the C++ KV plugin.
PySyncObj: three SyncObj nodes in this process, a replicated counter, async
calls with --inflight in flight in total.

Usage: python benchmarks/python_bench.py [--groups 48] [--inflight 64] [--seconds 5]
       [--plugin build/dev/examples/plugin/libdragonboat_kv_plugin.so] [--no-pysyncobj]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from typing import Any

import dragonboat
from dragonboat import Config, NodeHost, NodeHostConfig
from dragonboat.bench import Counter, _port

port = _port  # one free-port helper for the package's bench and this script


def bench_dragonboat(groups: int, inflight: int, seconds: float, plugin: str | None) -> float:
    addresses = [f"127.0.0.1:{port()}" for _ in range(3)]
    with tempfile.TemporaryDirectory() as d:
        hosts = [NodeHost(NodeHostConfig(node_host_dir=f"{d}/{i}", raft_address=addresses[i],
                                         rtt_millisecond=20)) for i in range(3)]
        try:
            members = {i + 1: a for i, a in enumerate(addresses)}
            for g in range(1, groups + 1):
                for i, nh in enumerate(hosts):
                    cfg = Config(node_id=i + 1, cluster_id=g, election_rtt=10, heartbeat_rtt=1)
                    if plugin:
                        nh.start_cluster(members, False, None, cfg, plugin=plugin)
                    else:
                        nh.start_cluster(members, False, lambda c, n: Counter(), cfg)
            # Each group is driven through its leader's NodeHost.
            leaders: dict[int, NodeHost] = {}
            deadline = time.monotonic() + 60
            while len(leaders) < groups and time.monotonic() < deadline:
                for g in range(1, groups + 1):
                    lid, ok = hosts[0].get_leader_id(g)
                    if ok:
                        leaders[g] = hosts[lid - 1]
                time.sleep(0.05)  # start-up only; not measured
            done = 0
            lock = threading.Lock()
            running = True
            payload = b"k=" + b"x" * 14  # 16 B; key=value for the C++ KV plugin

            def issue(nh: NodeHost, g: int) -> None:
                def completed(r: dragonboat.RequestResult) -> None:
                    nonlocal done
                    if r.completed():
                        with lock:
                            done += 1
                    if running:
                        issue(nh, g)

                try:
                    nh.propose(nh.get_noop_session(g), payload, 5.0).add_done_callback(completed)
                except dragonboat.errors.DragonboatError:
                    pass  # busy or stopping: this slot stops

            start = time.monotonic()
            for g, nh in leaders.items():
                for _ in range(inflight):
                    issue(nh, g)
            time.sleep(seconds)  # the measured duration
            with lock:
                total = done
            elapsed = time.monotonic() - start
            running = False
            time.sleep(0.5)  # let in-flight requests drain before stopping
            return total / elapsed
        finally:
            for nh in hosts:
                nh.stop()


def bench_pysyncobj(inflight: int, seconds: float) -> float:
    from pysyncobj import SyncObj, SyncObjConf, replicated

    class Counter(SyncObj):  # type: ignore[misc]
        def __init__(self, me: str, others: list[str]) -> None:
            super().__init__(me, others, conf=SyncObjConf(appendEntriesUseBatch=True))
            self.n = 0

        @replicated  # type: ignore[misc]
        def inc(self) -> int:
            self.n += 1
            return self.n

    addresses = [f"127.0.0.1:{port()}" for _ in range(3)]
    nodes = [Counter(a, [o for o in addresses if o != a]) for a in addresses]
    try:
        deadline = time.monotonic() + 30
        while not any(n._isLeader() for n in nodes) and time.monotonic() < deadline:
            time.sleep(0.05)  # start-up only
        leader = next(n for n in nodes if n._isLeader())
        done = 0
        lock = threading.Lock()
        running = True

        def issue() -> None:
            def cb(result: Any, error: Any) -> None:
                nonlocal done
                if error == 0:
                    with lock:
                        done += 1
                if running:
                    issue()

            leader.inc(callback=cb)

        start = time.monotonic()
        for _ in range(inflight):
            issue()
        time.sleep(seconds)
        with lock:
            total = done
        elapsed = time.monotonic() - start
        running = False
        return total / elapsed
    finally:
        for n in nodes:
            n.destroy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=48)
    ap.add_argument("--inflight", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--plugin", default=None)
    ap.add_argument("--no-pysyncobj", action="store_true")
    a = ap.parse_args()
    ours = bench_dragonboat(a.groups, a.inflight, a.seconds, None)
    print(f"dragonboat, Python state machine: {ours:,.0f} writes/s "
          f"({a.groups} groups x {a.inflight} in flight, 16 B, fsync on)")
    if a.plugin:
        native = bench_dragonboat(a.groups, a.inflight, a.seconds, a.plugin)
        print(f"dragonboat, C++ plugin state machine: {native:,.0f} writes/s")
    if not a.no_pysyncobj:
        base = bench_pysyncobj(100, a.seconds)
        print(f"PySyncObj (same process layout, 100 in flight): {base:,.0f} writes/s")
        print(f"ratio dragonboat/PySyncObj: {ours / base:.1f}x")


if __name__ == "__main__":
    main()
