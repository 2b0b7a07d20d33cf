"""``dragonboat bench``: the engine under load from this Python process.

Three NodeHosts in this process (loopback TCP, RocksDB, fsync on), --groups
groups on all three, --inflight requests in flight per group for --seconds;
a share --read-ratio of them are linearizable reads. The state machine is a
Python counter, or the C++ KV plugin with --plugin PATH. A progress bar while
it runs, a table at the end, and with --plot FILE.png throughput over time and
the latency distribution (needs matplotlib).
"""

from __future__ import annotations

import contextlib
import random
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import dragonboat
from dragonboat import Config, NodeHost, NodeHostConfig, StateMachine


class Counter(StateMachine):
    def __init__(self) -> None:
        self.n = 0

    def update(self, data: bytes) -> int:
        self.n += 1
        return self.n

    def lookup(self, query: Any) -> Any:
        return self.n

    def save_snapshot(self, writer: dragonboat.SnapshotWriter) -> None:
        writer.write(str(self.n).encode())

    def recover_from_snapshot(self, reader: dragonboat.SnapshotReader) -> None:
        self.n = int(reader.read())


@dataclass
class Stats:
    writes: int = 0
    reads: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    per_second: list[int] = field(default_factory=list)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def three_hosts(groups: int, plugin: str | None,
                **host_options: Any) -> Iterator[tuple[list[NodeHost], dict[int, NodeHost]]]:
    """Three NodeHosts in this process (loopback, temporary directories,
    ``rtt_millisecond=20`` unless given in ``host_options``) running groups
    1..``groups`` of the Python Counter (or the C++ plugin at ``plugin``);
    yields the hosts and each group's leader's host, and stops them after."""
    addresses = [f"127.0.0.1:{_port()}" for _ in range(3)]
    options = {"rtt_millisecond": 20, **host_options}
    with tempfile.TemporaryDirectory() as d:
        hosts = [NodeHost(NodeHostConfig(node_host_dir=f"{d}/{i}", raft_address=a, **options))
                 for i, a in enumerate(addresses)]
        try:
            members = {i + 1: a for i, a in enumerate(addresses)}
            for g in range(1, groups + 1):
                for i, nh in enumerate(hosts):
                    cfg = Config(node_id=i + 1, cluster_id=g, election_rtt=10)
                    if plugin:
                        nh.start_cluster(members, False, None, cfg, plugin=plugin)
                    else:
                        nh.start_cluster(members, False, lambda c, n: Counter(), cfg)
            leaders: dict[int, NodeHost] = {}
            deadline = time.monotonic() + 60
            while len(leaders) < groups and time.monotonic() < deadline:
                for g in range(1, groups + 1):
                    lid, ok = hosts[0].get_leader_id(g)
                    if ok:
                        leaders[g] = hosts[lid - 1]
                time.sleep(0.02)  # start-up only; not measured
            yield hosts, leaders
        finally:
            for nh in hosts:
                nh.stop()


def run(groups: int, payload: int, inflight: int, seconds: float, read_ratio: float,
        plugin: str | None, plot: str | None) -> int:
    """Runs the benchmark; returns a process exit status."""
    if plot:
        try:
            import matplotlib  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
        except ImportError:
            print("dragonboat bench: --plot needs matplotlib (pip install matplotlib)")
            return 2
    stats = Stats()
    lock = threading.Lock()
    with three_hosts(groups, plugin) as (_, leaders):
        body = b"k=" + b"x" * max(0, payload - 2)
        running = True
        rng = random.Random(7)

        def issue(nh: NodeHost, g: int) -> None:
            read = rng.random() < read_ratio
            t0 = time.monotonic()

            def done(r: dragonboat.RequestResult) -> None:
                with lock:
                    if r.completed():
                        if read:
                            stats.reads += 1
                        else:
                            stats.writes += 1
                        stats.latencies.append(time.monotonic() - t0)
                    else:
                        stats.errors += 1
                if running:
                    issue(nh, g)

            try:
                rs = (nh.read_index(g, 5.0) if read
                      else nh.propose(nh.get_noop_session(g), body, 5.0))
                rs.add_done_callback(done)
            except dragonboat.errors.DragonboatError:
                with lock:
                    stats.errors += 1

        start = time.monotonic()
        for g, nh in leaders.items():
            for _ in range(inflight):
                issue(nh, g)
        last = 0
        for second in range(1, int(seconds) + 1):
            time.sleep(max(0.0, start + second - time.monotonic()))  # one sample a second
            with lock:
                total = stats.writes + stats.reads
            stats.per_second.append(total - last)
            last = total
            bar = "#" * (30 * second // int(seconds))
            print(f"\r[{bar:<30}] {second:>3}s {stats.per_second[-1]:>9,} ops/s", end="",
                  flush=True)
        print()
        elapsed = time.monotonic() - start
        running = False
        time.sleep(0.5)  # in-flight requests drain before the hosts stop
    with lock:
        lat = sorted(stats.latencies)

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else 0.0

    sm = "C++ plugin" if plugin else "Python"
    print(f"{'state machine':<16}{'groups':>8}{'payload':>9}{'in flight':>11}{'writes/s':>12}"
          f"{'reads/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'p99.9 ms':>10}")
    print(f"{sm:<16}{groups:>8}{payload:>8}B{inflight:>11}{stats.writes / elapsed:>12,.0f}"
          f"{stats.reads / elapsed:>11,.0f}{pct(0.5):>9.2f}{pct(0.99):>9.2f}{pct(0.999):>10.2f}")
    if stats.errors:
        print(f"({stats.errors} requests not completed)")
    if plot:
        import matplotlib  # type: ignore[import-not-found,unused-ignore]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found,unused-ignore]

        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
        a.plot(range(1, len(stats.per_second) + 1), stats.per_second)
        a.set_xlabel("second")
        a.set_ylabel("completed requests/s")
        b.hist([x * 1000 for x in lat], bins=50)
        b.set_xlabel("latency (ms)")
        b.set_ylabel("requests")
        fig.tight_layout()
        fig.savefig(plot)
        print(f"plot written to {plot}")
    return 0
