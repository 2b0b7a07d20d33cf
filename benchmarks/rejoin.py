"""How soon a restarted node serves again: three NodeHosts in this process
(one group, checker state machines), one host stopped for --down seconds
while the others keep writing (so their reconnect back-off toward it grows),
then started again from its directory; printed: the time from its start to
the first successful linearizable read through it, in ms and in election
timeouts (the goal: within two).

Usage: python benchmarks/rejoin.py [--rounds 5] [--down 6] [--rtt 10] [--election-rtt 10]
"""

from __future__ import annotations

import argparse
import functools
import socket
import statistics
import tempfile
import time

import dragonboat
from dragonboat import Config, NodeHost, NodeHostConfig
from dragonboat.checker import Checker


def free_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--down", type=float, default=6.0, help="seconds the node stays down")
    ap.add_argument("--rtt", type=int, default=10, help="rtt_millisecond")
    ap.add_argument("--election-rtt", type=int, default=10)
    a = ap.parse_args()
    addresses = [free_address() for _ in range(3)]
    members = {i + 1: addr for i, addr in enumerate(addresses)}
    election_ms = a.rtt * a.election_rtt
    with tempfile.TemporaryDirectory() as d:
        configs = [NodeHostConfig(node_host_dir=f"{d}/nh{i}", raft_address=addresses[i],
                                  rtt_millisecond=a.rtt) for i in range(3)]

        def group(i: int) -> Config:
            return Config(node_id=i + 1, cluster_id=1, election_rtt=a.election_rtt,
                          heartbeat_rtt=1, check_quorum=True)

        hosts = [NodeHost(c) for c in configs]
        try:
            for i, nh in enumerate(hosts):
                nh.start_cluster(members, False, lambda c, n: Checker(), group(i))
            session = hosts[0].get_noop_session(1)
            n = 0
            figures: list[float] = []
            for r in range(a.rounds):
                victim = 2 - r % 2  # never host 0, the writer
                hosts[victim].stop()
                end = time.monotonic() + a.down
                while time.monotonic() < end:  # the others write on; heartbeats to it fail
                    n += 1
                    try:
                        hosts[0].sync_propose(session, f"w{n}".encode(), 1.0)
                    except dragonboat.errors.TemporaryError:
                        pass  # no leader yet, or forwarded to the one that just stopped
                start = time.monotonic()
                back = hosts[victim] = NodeHost(configs[victim])
                back.start_cluster({}, False, lambda c, n: Checker(), group(victim))
                read = functools.partial(back.sync_read, 1, b"state", 1.0)
                dragonboat.retry(read, timeout=60.0, interval=0.001, idempotent=True)
                ms = (time.monotonic() - start) * 1000
                figures.append(ms)
                print(f"round {r + 1}: node {victim + 1} serves a linearizable read {ms:.0f} ms "
                      f"after its start ({ms / election_ms:.2f} election timeouts of "
                      f"{election_ms} ms)", flush=True)
            print(f"rejoin: median {statistics.median(figures):.0f} ms, max {max(figures):.0f} ms "
                  f"({max(figures) / election_ms:.2f} election timeouts) over {a.rounds} rounds")
        finally:
            for nh in hosts:
                nh.stop()


if __name__ == "__main__":
    main()
