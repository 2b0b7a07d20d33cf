"""Python as deployed: one NodeHost per process, beside the C++ engine in the same run.

Three processes (multiprocessing, spawn), each running ONE NodeHost with a
Python state machine (the counter of ``dragonboat.bench``) for --groups
groups replicated on all three; loopback TCP, RocksDB, fsync on. Each process
is also the client of the groups it leads (as a service in front of its
replica would be): --inflight requests in flight per group, a completion
callback issuing the next, for --seconds. Then, with --cpp-bench, the C++
engine's own benchmark (``nodehost_bench``: the same shape, C++ state
machine and client) runs with the same groups, payload and depth, and the
ratio is printed. Each process reports writes/s; the total is their sum.
Before the measurement both move leadership so that each host leads a third
of the groups (``--balance 0``: leaders stay where the elections put them).

``--malloc jemalloc`` runs both (the three Python processes and the C++
benchmark) with jemalloc preloaded (docs/operations.md, "Memory allocator");
every figure is printed with the allocator it ran with.

Usage: python benchmarks/python_multiprocess_bench.py [--groups 48] [--inflight 128]
       [--payload 16] [--seconds 5] [--cpp-bench build/dev/benchmarks/nodehost_bench]
       [--malloc glibc|jemalloc|tcmalloc] [--balance 1]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import re
import resource
import subprocess
import tempfile
import threading
import time
from typing import Any

from disk_baseline import allocator, baseline_line  # benchmarks/, beside this script

import dragonboat
from dragonboat import Config, NodeHost, NodeHostConfig
from dragonboat.bench import Counter, _port

# --malloc: the library preloaded into the benchmark's processes.
PRELOAD = {"glibc": None, "jemalloc": "libjemalloc.so.2", "tcmalloc": "libtcmalloc_minimal.so.4"}


def _cpu_seconds() -> float:
    """User + system CPU of this process so far (every thread: engine and Python)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def balance_leaders(nh: NodeHost, index: int, groups: int, hosts: int) -> dict[int, int]:
    """Moves leadership so that host i leads the groups g with (g - 1) % hosts == i,
    as nodehost_bench does (where elections put the leaders varies from run to
    run, and a host leading most groups runs most of the clients under its one
    GIL). Each host hands over what it leads; returns the leaders seen last."""
    deadline = time.monotonic() + 30
    while True:
        leaders: dict[int, int] = {}
        placed = 0
        for g in range(1, groups + 1):
            lid, ok = nh.get_leader_id(g)
            if not ok:
                continue
            leaders[g] = lid
            target = (g - 1) % hosts + 1
            if lid == target:
                placed += 1
            elif lid == index + 1:
                with contextlib.suppress(dragonboat.errors.DragonboatError):
                    nh.request_leader_transfer(g, target)  # asked again next round if not taken
        if placed == groups or time.monotonic() > deadline:
            return leaders
        time.sleep(0.05)  # start-up only; not measured


def host(index: int, addresses: list[str], directory: str, groups: int, inflight: int,
         payload: int, seconds: float, balance: bool, ready: Any, go: Any, results: Any) -> None:
    """One NodeHost process: start every group, wait for leaders, drive the
    groups this host leads, report (index, writes, seconds, errors)."""
    nh = NodeHost(NodeHostConfig(node_host_dir=f"{directory}/{index}",
                                 raft_address=addresses[index], rtt_millisecond=5))
    try:
        members = {i + 1: a for i, a in enumerate(addresses)}
        for g in range(1, groups + 1):
            nh.start_cluster(members, False, lambda c, n: Counter(),
                             Config(node_id=index + 1, cluster_id=g, election_rtt=20,
                                    heartbeat_rtt=2, check_quorum=True,
                                    snapshot_entries=100_000, compaction_overhead=10_000))
        deadline = time.monotonic() + 60
        leaders: dict[int, int] = {}
        while len(leaders) < groups and time.monotonic() < deadline:
            for g in range(1, groups + 1):
                lid, ok = nh.get_leader_id(g)
                if ok:
                    leaders[g] = lid
            time.sleep(0.02)  # start-up only; not measured
        if balance:
            leaders = balance_leaders(nh, index, groups, len(addresses))
        ready.put(index)
        go.wait()
        led = [g for g, lid in leaders.items() if lid == index + 1]
        cmd = b"x" * payload
        done = errors = 0
        lock = threading.Lock()
        running = True

        def issue(g: int) -> None:
            nonlocal errors

            def completed(r: dragonboat.RequestResult) -> None:
                nonlocal done, errors
                with lock:
                    if r.completed():
                        done += 1
                    else:
                        errors += 1
                if running:
                    issue(g)

            try:
                nh.propose(nh.get_noop_session(g), cmd, 5.0).add_done_callback(completed)
            except dragonboat.errors.SystemBusyError:
                threading.Timer(0.001, issue, (g,)).start()  # backpressure: retry shortly
            except dragonboat.errors.DragonboatError:
                with lock:
                    errors += 1

        start = time.monotonic()
        cpu0 = _cpu_seconds()
        for g in led:
            for _ in range(inflight):
                issue(g)
        time.sleep(seconds)  # the measured duration
        with lock:
            total, failed = done, errors
        elapsed = time.monotonic() - start
        cpu = _cpu_seconds() - cpu0
        running = False
        results.put((index, total, elapsed, failed, len(led), cpu, allocator()))
        go2 = time.monotonic() + 2
        while time.monotonic() < go2:
            time.sleep(0.1)  # in-flight requests drain before the host stops
    finally:
        nh.stop()


def run_python(groups: int, inflight: int, payload: int, seconds: float,
               balance: bool) -> tuple[float, int, float, float, str, str]:
    """(writes/s, failed requests, CPU microseconds per write, cores busy,
    the allocator the processes ran with, groups led by each host)."""
    ctx = mp.get_context("spawn")
    addresses = [f"127.0.0.1:{_port()}" for _ in range(3)]
    ready, results = ctx.Queue(), ctx.Queue()
    go = ctx.Event()
    with tempfile.TemporaryDirectory() as d:
        procs = [ctx.Process(target=host, args=(i, addresses, d, groups, inflight, payload,
                                                seconds, balance, ready, go, results))
                 for i in range(3)]
        for p in procs:
            p.start()
        for _ in procs:
            ready.get(timeout=120)
        go.set()
        rows = [results.get(timeout=seconds + 120) for _ in procs]
        for p in procs:
            p.join(timeout=60)
    writes = sum(r[1] / r[2] for r in rows)
    errors = sum(r[3] for r in rows)
    cpu = sum(r[5] for r in rows)
    done = sum(r[1] for r in rows)
    allocators = ",".join(sorted({r[6] for r in rows}))
    # A host leading most groups (--balance 0) runs most of the client's
    # Python, under its one GIL.
    led = "/".join(str(r[4]) for r in sorted(rows))
    return writes, errors, cpu * 1e6 / max(1, done), cpu / max(r[2] for r in rows), allocators, led


def run_cpp(bench: str, groups: int, inflight: int, payload: int,
            seconds: float, balance: bool) -> tuple[float, float]:
    """(writes/s, CPU microseconds per write) of ``nodehost_bench``."""
    out = subprocess.run([bench, "--groups", str(groups), "--inflight", str(inflight),
                          "--payload", str(payload), "--seconds", str(seconds),
                          "--balance", "1" if balance else "0"],
                         capture_output=True, text=True, check=True).stdout
    print("  " + out.strip().replace("\n", "\n  "))
    m = re.search(r": (\d+) writes/s", out)
    c = re.search(r"cpu: ([\d.]+) us per completed request", out)
    return (float(m.group(1)) if m else 0.0), (float(c.group(1)) if c else 0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=48)
    ap.add_argument("--inflight", type=int, default=128, help="per group")
    ap.add_argument("--payload", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--balance", type=int, default=1,
                    help="1: each host leads a third of the groups (leaders moved); 0: as elected")
    ap.add_argument("--cpp-bench", default=None, help="path of nodehost_bench to run beside")
    ap.add_argument("--malloc", choices=sorted(PRELOAD), default="glibc",
                    help="the allocator of every benchmark process (preloaded)")
    a = ap.parse_args()
    preload = PRELOAD[a.malloc]
    if preload:
        # Inherited by the spawned hosts and the C++ benchmark.
        os.environ["LD_PRELOAD"] = preload
    print(baseline_line(with_malloc=False), flush=True)  # the disk's figures, same run
    shape = f"{a.groups} groups x {a.inflight} in flight, {a.payload} B, fsync on"
    py, errors, us, cores, malloc, led = run_python(a.groups, a.inflight, a.payload, a.seconds,
                                                    a.balance)
    print(f"Python, one NodeHost per process, Python state machine: {py:,.0f} writes/s "
          f"({shape}; failed requests {errors}; malloc: {malloc})", flush=True)
    print(f"  cpu: {us:.1f} us per completed request (user + sys of the three processes), "
          f"{cores:.2f} cores busy; groups led by each host {led}", flush=True)
    if a.cpp_bench:
        cpp, cpp_us = run_cpp(a.cpp_bench, a.groups, a.inflight, a.payload, a.seconds, a.balance)
        print(f"C++ engine benchmark, same shape: {cpp:,.0f} writes/s")
        if cpp:
            print(f"Python / C++: {py / cpp:.0%} of the writes/s; "
                  f"{us / cpp_us if cpp_us else 0:.2f}x the CPU per request")


if __name__ == "__main__":
    main()
