"""Committed writes/s from ONE Python process, beside PySyncObj in the same run.

dragonboat: three NodeHosts in this process (loopback TCP, RocksDB, fsync on),
--groups groups replicated on all three, 16 B proposals, --inflight requests in
flight per group (closed loop: a completion callback issues the next), for
--seconds. The state machine is Python (every replica's update runs in this
process, under its one GIL) or, with --plugin, the C++ KV plugin. The same
load is also driven from one asyncio event loop (coroutines awaiting their
proposals).
PySyncObj: three SyncObj nodes in this process, a replicated counter, async
calls, with the same number of requests in flight in total as dragonboat.
Rows at --groups x --inflight in flight, --low in flight on one group, and ONE
request in flight (a plain loop of sync_propose calls; PySyncObj's blocking
call); PySyncObj both at its defaults and tuned for latency (no append
batching, 1 ms append period). PySyncObj scales with requests in flight until
its one GIL is busy, so the ratio depends on it: every row is printed.

Usage: python benchmarks/python_bench.py [--groups 48] [--inflight 64] [--seconds 5]
       [--low 100] [--plugin build/dev/examples/plugin/libdragonboat_kv_plugin.so]
       [--no-pysyncobj] [--engine-stats] [--busy-poll-us 0] [--sequential-only]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import threading
import time
from typing import Any

from disk_baseline import baseline_line  # benchmarks/, beside this script

import dragonboat
from dragonboat import NodeHost
from dragonboat.bench import _port, three_hosts

port = _port  # one free-port helper for the package's bench and this script


PAYLOAD = b"k=" + b"x" * 14  # 16 B; key=value for the C++ KV plugin


def bench_dragonboat(groups: int, inflight: int, seconds: float, plugin: str | None,
                     apply_workers: int = 2, stats: bool = False,
                     logdb_shards: int = 0) -> float:
    """Futures: each completion callback issues the next proposal."""
    with three_hosts(groups, plugin, apply_workers=apply_workers,
                     logdb_shards=logdb_shards) as (hosts, leaders):
        done = 0
        lock = threading.Lock()
        running = True

        def issue(nh: NodeHost, g: int) -> None:
            def completed(r: dragonboat.RequestResult) -> None:
                nonlocal done
                if r.completed():
                    with lock:
                        done += 1
                if running:
                    issue(nh, g)

            try:
                nh.propose(nh.get_noop_session(g), PAYLOAD, 5.0).add_done_callback(completed)
            except dragonboat.errors.DragonboatError:
                pass  # busy or stopping: this slot stops

        before = [engine_counters(nh) for nh in hosts]
        start = time.monotonic()
        for g, nh in leaders.items():
            for _ in range(inflight):
                issue(nh, g)
        time.sleep(seconds)  # the measured duration
        with lock:
            total = done
        elapsed = time.monotonic() - start
        if stats:
            print_engine_stats(before, [engine_counters(nh) for nh in hosts], elapsed)
        running = False
        time.sleep(0.5)  # let in-flight requests drain before stopping
        return total / elapsed


def bench_dragonboat_sequential(seconds: float, busy_poll_us: int = 0) -> float:
    """One client thread: ``sync_propose`` calls one after the other."""
    with three_hosts(1, None, busy_poll_microseconds=busy_poll_us) as (_, leaders):
        nh = leaders[1]
        session = nh.get_noop_session(1)
        done = 0
        start = time.monotonic()
        until = start + seconds
        while time.monotonic() < until:
            if nh.sync_propose(session, PAYLOAD, 5.0) is not None:
                done += 1
        return done / (time.monotonic() - start)


def bench_dragonboat_asyncio(groups: int, inflight: int, seconds: float) -> float:
    """asyncio: one event loop, ``groups x inflight`` coroutines each awaiting
    its proposals one after the other."""
    with three_hosts(groups, None) as (_, leaders):
        done = 0

        async def client(nh: NodeHost, g: int, until: float) -> None:
            nonlocal done
            session = nh.get_noop_session(g)
            while time.monotonic() < until:
                r = await nh.propose(session, PAYLOAD, 5.0)
                if r.completed():
                    done += 1

        async def run() -> float:
            start = time.monotonic()
            until = start + seconds
            await asyncio.gather(*(client(nh, g, until) for g, nh in leaders.items()
                                   for _ in range(inflight)))
            return time.monotonic() - start

        elapsed = asyncio.run(run())
        return done / elapsed


ENGINE_COUNTERS = (
    "dragonboat_step_passes_total",
    "dragonboat_logdb_saves_total",
    "dragonboat_logdb_node_updates_total",
    "dragonboat_transport_messages_sent_total",
)


def engine_counters(nh: NodeHost) -> dict[str, float]:
    """The host-wide counters of ``write_health_metrics`` named in ENGINE_COUNTERS."""
    out = io.StringIO()
    nh.write_health_metrics(out)
    values: dict[str, float] = {}
    for line in out.getvalue().splitlines():
        name, _, value = line.partition(" ")
        if name in ENGINE_COUNTERS:
            values[name] = float(value)
    return values


def print_engine_stats(before: list[dict[str, float]], after: list[dict[str, float]],
                       elapsed: float) -> None:
    """Per-second engine activity summed over the hosts (what a write cost)."""
    total = {k: sum(a[k] - b[k] for a, b in zip(after, before)) / elapsed for k in ENGINE_COUNTERS}
    saves = total["dragonboat_logdb_saves_total"] or 1.0
    passes = total["dragonboat_step_passes_total"]
    per_save = total["dragonboat_logdb_node_updates_total"] / saves
    messages = total["dragonboat_transport_messages_sent_total"]
    print(f"  engine: {passes:,.0f} step passes/s, {saves:,.0f} fsyncs/s "
          f"({per_save:.1f} replica updates each), {messages:,.0f} messages/s")


def bench_pysyncobj(inflight: int, seconds: float, tuned: bool = False) -> float:
    """Requests/s with ``inflight`` async calls in flight; 0 in flight means
    one blocking call after the other (``sync=True``). ``tuned``: batching off
    and a 1 ms append period (its latency settings) instead of its defaults."""
    from pysyncobj import SyncObj, SyncObjConf, replicated

    conf = (SyncObjConf(appendEntriesUseBatch=False, appendEntriesPeriod=0.001)
            if tuned else SyncObjConf())

    class Counter(SyncObj):  # type: ignore[misc]
        def __init__(self, me: str, others: list[str]) -> None:
            super().__init__(me, others, conf=conf)
            self.n = 0

        @replicated  # type: ignore[untyped-decorator]
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
        if inflight == 0:
            until = start + seconds
            while time.monotonic() < until:
                leader.inc(sync=True, timeout=5)
                done += 1
            return done / (time.monotonic() - start)
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
    ap.add_argument("--inflight", type=int, default=64, help="per group")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--plugin", default=None)
    ap.add_argument("--no-pysyncobj", action="store_true")
    ap.add_argument("--low", type=int, default=100,
                    help="requests in flight of the low-concurrency row (one group)")
    ap.add_argument("--apply-workers", type=int, default=2, help="per NodeHost")
    ap.add_argument("--logdb-shards", type=int, default=0, help="per NodeHost; 0 = automatic")
    ap.add_argument("--engine-stats", action="store_true", help="print fsyncs/s and the like")
    ap.add_argument("--busy-poll-us", type=int, default=0,
                    help="NodeHostConfig.busy_poll_microseconds of the sync_propose loop's hosts")
    ap.add_argument("--sequential-only", action="store_true",
                    help="only the sync_propose loop (1 in flight), without PySyncObj")
    a = ap.parse_args()
    print(baseline_line(), flush=True)  # the disk's figures, same run
    if a.sequential_only:
        rate = bench_dragonboat_sequential(a.seconds, a.busy_poll_us)
        print(f"dragonboat, 1 in flight (a sync_propose loop): {rate:,.0f} writes/s "
              f"(busy poll {a.busy_poll_us} us)", flush=True)
        return
    high = a.groups * a.inflight
    rows: list[tuple[str, float, float | None, float | None]] = []
    ours = bench_dragonboat(a.groups, a.inflight, a.seconds, None, a.apply_workers,
                            a.engine_stats, a.logdb_shards)
    print(f"dragonboat, Python state machine: {ours:,.0f} writes/s "
          f"({a.groups} groups x {a.inflight} in flight, 16 B, fsync on)", flush=True)
    if a.no_pysyncobj:
        return
    rows.append((f"{high:,} in flight ({a.groups} groups x {a.inflight})", ours,
                 bench_pysyncobj(high, a.seconds), bench_pysyncobj(high, a.seconds, tuned=True)))
    low = bench_dragonboat(1, a.low, a.seconds, None, a.apply_workers)
    rows.append((f"{a.low:,} in flight (1 group)", low, bench_pysyncobj(a.low, a.seconds),
                 bench_pysyncobj(a.low, a.seconds, tuned=True)))
    rows.append(("1 in flight (a sync_propose loop)",
                 bench_dragonboat_sequential(a.seconds, a.busy_poll_us),
                 bench_pysyncobj(0, a.seconds), bench_pysyncobj(0, a.seconds, tuned=True)))
    rows.append((f"{high:,} in flight, asyncio (one event loop)",
                 bench_dragonboat_asyncio(a.groups, a.inflight, a.seconds), None, None))
    if a.plugin:
        rows.append((f"{high:,} in flight, C++ plugin state machine",
                     bench_dragonboat(a.groups, a.inflight, a.seconds, a.plugin), None, None))
    # PySyncObj keeps its log in memory and never fsyncs (its file journal is
    # an mmap it does not flush); dragonboat fsyncs every batch.
    title = "writes/s, 16 B, one Python process"
    print(f"\n{title:44} {'dragonboat':>12} {'PySyncObj':>12} {'PySyncObj':>12} {'ratios':>16}")
    print(f"{'':44} {'(fsync on)':>12} {'defaults':>12} {'tuned':>12}")
    print(f"{'':44} {'':>12} {'(no fsync)':>12} {'(no fsync)':>12}")
    for label, d, p, t in rows:
        ps = f"{p:12,.0f}" if p else f"{'-':>12}"
        ts = f"{t:12,.0f}" if t else f"{'-':>12}"
        ratios = f"{d / p:6.1f}x / {d / t:.1f}x" if p and t else f"{'-':>16}"
        print(f"{label:44} {d:12,.0f} {ps} {ts} {ratios}")


if __name__ == "__main__":
    main()
