"""Command line: ``dragonboat demo`` (three local NodeHosts doing real work),
``dragonboat simulate [--seeds N] [--steps K]`` (the deterministic Raft simulation) and
``dragonboat systest`` (the randomized whole-system test with real NodeHost processes) and
``dragonboat lintest`` (server processes in network namespaces under faults, checked for
linearizability)."""

from __future__ import annotations

import argparse
import sys
import time

from dragonboat.simulation import simulate


def _simulate(args: argparse.Namespace) -> int:
    start = time.monotonic()
    total_steps = writes = reads = elections = violations = 0
    for i, seed in enumerate(range(args.first, args.first + args.seeds), 1):
        r = simulate(seed, args.steps)
        total_steps += r.steps
        writes += r.writes_acked
        reads += r.reads_confirmed
        elections += r.leader_elections
        violations += len(r.violations)
        for v in r.violations:
            print(f"VIOLATION {v}\n  settings: {r.settings}\n  replay: {r.replay}")
        filled = 40 * i // args.seeds
        print(
            f"\r[{'#' * filled}{'.' * (40 - filled)}] {i}/{args.seeds} seeds, "
            f"{writes} writes acked, {violations} violations",
            end="" if i < args.seeds else "\n",
            flush=True,
        )
    secs = time.monotonic() - start
    print(f"totals: {writes} writes acknowledged, {reads} linearizable reads, "
          f"{elections} elections, {secs:.1f} s")
    print(f"simulation: {args.seeds} seeds, {total_steps} steps, {violations} violations")
    return 0 if violations == 0 else 1


# NodeDirInfo.state_machine_type (ClusterInfo's) values; 0: an imported node not started yet.
_KINDS = {0: "not recorded yet", 1: "regular", 2: "concurrent", 3: "on-disk"}


def _hint(e: Exception) -> str:
    """What to change on the command line for error ``e``, if that is clear."""
    from dragonboat import errors

    if isinstance(e, errors.HardSettingsChangedError) and "wal_dir" in str(e):
        return " (--wal-dir)"
    return ""


def _info(args: argparse.Namespace) -> int:
    from dragonboat import errors, tools

    try:
        info = tools.read_host_dir(args.dir, args.wal_dir)
    except errors.DragonboatError as e:
        print(f"dragonboat info: {args.dir}: {type(e).__name__}: {e}{_hint(e)}", file=sys.stderr)
        return 1
    print(f"NodeHost directory {args.dir}" + (f" (WAL in {args.wal_dir})" if args.wal_dir else ""))
    for key in ("raft_address", "deployment_id", "logdb_type", "logdb_shards", "format_version"):
        print(f"  {key}: {getattr(info, key)}")
    print(f"  {len(info.nodes)} node(s):")
    for n in info.nodes:
        print(f"    cluster {n.cluster_id} node {n.node_id}: term {n.term}, "
              f"commit {n.commit}, log [{n.first_index}, {n.last_index}], "
              f"snapshot {n.snapshot_index or '-'}, "
              f"state machine {_KINDS.get(n.state_machine_type, 'unknown')}, "
              f"members {n.initial_members or '(joined)'}")
    return 0


def _members(text: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for part in text.split(","):
        node, sep, address = part.partition("=")
        if not sep or not node.strip().isdigit() or not address:
            raise argparse.ArgumentTypeError(f"bad member {part!r}: expected NODE_ID=HOST:PORT")
        out[int(node)] = address.strip()
    return out


def _import_snapshot(args: argparse.Namespace) -> int:
    from dragonboat import errors, tools
    from dragonboat.config import NodeHostConfig

    try:
        meta = tools.check_exported_snapshot(args.src)
        print(f"snapshot of cluster {meta.cluster_id} at index {meta.index} "
              f"(term {meta.term}, {meta.file_size} bytes) in {meta.dir}: verified")
        if args.node_id not in args.members:
            print(f"dragonboat import-snapshot: --members must include --node-id {args.node_id}",
                  file=sys.stderr)
            return 2
        if args.dry_run:
            print(f"dry run: node {args.node_id} of {args.dir} would restart from it with "
                  f"members {args.members}")
            return 0
        cfg = NodeHostConfig(node_host_dir=args.dir, raft_address=args.raft_address,
                             deployment_id=args.deployment_id, logdb_shards=args.logdb_shards,
                             wal_dir=args.wal_dir)
        tools.import_snapshot(cfg, args.src, args.members, args.node_id)
    except (errors.DragonboatError, ValueError) as e:  # ValueError: a bad ID or address
        print(f"dragonboat import-snapshot: {type(e).__name__}: {e}{_hint(e)}", file=sys.stderr)
        return 1
    print(f"imported: start node {args.node_id} with start_cluster({{}}, False, ...) to resume")
    return 0


def _checkdisk(args: argparse.Namespace) -> int:
    import os
    import tempfile

    samples: list[float] = []
    with tempfile.NamedTemporaryFile(dir=args.dir) as f:
        block = b"x" * 64
        for _ in range(args.count):
            t0 = time.perf_counter()
            os.pwrite(f.fileno(), block, 0)
            os.fdatasync(f.fileno())
            samples.append(time.perf_counter() - t0)
        mb = b"x" * (1 << 20)
        t0 = time.perf_counter()
        for i in range(64):
            os.pwrite(f.fileno(), mb, i << 20)
        os.fdatasync(f.fileno())
        throughput = 64 / (time.perf_counter() - t0)
    samples.sort()
    p50 = samples[len(samples) // 2] * 1e6
    p99 = samples[min(len(samples) - 1, int(0.99 * len(samples)))] * 1e6
    print(f"{args.dir}: fdatasync of 64 B: p50 {p50:.0f} us, p99 {p99:.0f} us "
          f"({1e6 / p50:,.0f} syncs/s); sequential write + fdatasync: {throughput:,.0f} MiB/s")
    # Each step-worker pass waits for one sync: its latency bounds every write's latency
    # and, with the election timeout, how long a slow disk can stall a group.
    suitable = p99 < 10_000 and throughput > 50
    print("verdict: " + ("suitable" if suitable else
                         "NOT suitable: syncs slower than 10 ms at p99 or writes under 50 MiB/s "
                         "make leaders miss heartbeats under load"))
    return 0 if suitable else 1


def _bench(args: argparse.Namespace) -> int:
    from dragonboat import bench

    if not 0 <= args.read_ratio <= 1:
        print("dragonboat bench: --read-ratio must be within [0, 1]", file=sys.stderr)
        return 2
    return bench.run(args.groups, args.payload, args.inflight, args.seconds, args.read_ratio,
                     args.plugin, args.plot)


def _demo(args: argparse.Namespace) -> int:
    from dragonboat import demo

    return demo.run(args.seconds)


def _default_plugin() -> str | None:
    """The C++ checker plugin of a source checkout's build, if it was built."""
    import os

    env = os.environ.get("DRAGONBOAT_CHECKER_PLUGIN")
    if env:
        return env
    rel = os.path.join("build", "dev", "tests", "checker", "libdragonboat_checker_plugin.so")
    here = os.path.dirname(os.path.abspath(__file__))
    for base in (os.getcwd(), os.path.dirname(os.path.dirname(here))):
        if os.path.exists(os.path.join(base, rel)):
            return os.path.join(base, rel)
    return None


def _systest(args: argparse.Namespace) -> int:
    from dragonboat import systest

    if args.hosts is not None and not 3 <= args.hosts <= 5:
        print("dragonboat systest: --hosts must be within 3..5", file=sys.stderr)
        return 2
    if args.minutes is not None and args.minutes <= 0:
        print("dragonboat systest: --minutes must be positive", file=sys.stderr)
        return 2
    plugin = args.plugin
    if plugin is None:
        plugin = _default_plugin()
        if plugin is None:
            print("C++ checker plugin not found (build/dev/tests/checker/"
                  "libdragonboat_checker_plugin.so; or --plugin PATH): C++ groups skipped")
    opts = systest.Options(seeds=args.seeds, minutes=args.minutes, seed=args.seed,
                           hosts=args.hosts, plugin=plugin, seconds=args.seconds,
                           verbose=args.verbose, root=args.dir, keep=args.keep,
                           inject=args.inject, busy_poll_us=args.busy_poll_us)
    return systest.run(opts)


def _lintest(args: argparse.Namespace) -> int:
    from dragonboat import lintest
    from dragonboat.lintest import net

    if args.cleanup:
        removed = net.cleanup_stale()
        print(f"removed {len(removed)} namespace(s) of ended runs: {' '.join(removed) or '-'}")
        return 0
    why = net.unavailable()
    if why:
        print(f"dragonboat lintest: {why}", file=sys.stderr)
        return 2
    nodes = [int(n) for n in args.nodes.split(",") if n.strip()]
    if not nodes or any(n not in (3, 5, 7) for n in nodes):
        print("dragonboat lintest: --nodes takes 3, 5 or 7 (comma-separated)", file=sys.stderr)
        return 2
    faults = args.faults.split(",") if args.faults else list(lintest.FAULTS)
    if set(faults) - set(lintest.FAULTS):
        print(f"dragonboat lintest: --faults takes {','.join(lintest.FAULTS)}", file=sys.stderr)
        return 2
    if args.seconds <= 0 or (args.minutes is not None and args.minutes <= 0):
        print("dragonboat lintest: --seconds and --minutes must be positive", file=sys.stderr)
        return 2
    return lintest.run(lintest.Options(
        runs=args.runs, minutes=args.minutes, seconds=args.seconds, nodes=nodes, seed=args.seed,
        clients_per_node=args.clients, keys=args.keys, inject=args.inject, faults=faults,
        root=args.dir, verbose=args.verbose))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dragonboat`` command."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_host":  # a demo NodeHost process (internal)
        from dragonboat import demo

        return demo.host_main(argv[1:])
    parser = argparse.ArgumentParser(prog="dragonboat", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    dm = sub.add_parser("demo", help="three local NodeHosts: writes, reads, a stop and a catch-up")
    dm.add_argument("--seconds", type=float, default=6.0, help="length of the first phase")
    dm.set_defaults(func=_demo, seeds=1, steps=1)
    bn = sub.add_parser("bench", help="the engine under load from this Python process")
    bn.add_argument("--groups", type=int, default=16, help="Raft groups (default 16)")
    bn.add_argument("--payload", type=int, default=16, help="bytes per proposal (default 16)")
    bn.add_argument("--inflight", type=int, default=64, help="requests in flight per group")
    bn.add_argument("--seconds", type=int, default=5, help="duration (default 5)")
    bn.add_argument("--read-ratio", type=float, default=0.0, help="share of ReadIndex reads")
    bn.add_argument("--plugin", default=None, help="C++ state machine plugin (.so) to use")
    bn.add_argument("--plot", default=None, help="write throughput/latency plots to this PNG")
    bn.set_defaults(func=_bench, seeds=1, steps=1)
    info = sub.add_parser("info", help="what a (stopped) NodeHost directory holds")
    info.add_argument("dir", help="the NodeHost directory (node_host_dir)")
    info.add_argument("--wal-dir", default="",
                      help="the NodeHost's wal_dir, if it had one (its LogDB's write-ahead log)")
    info.set_defaults(func=_info, seeds=1, steps=1)
    imp = sub.add_parser(
        "import-snapshot",
        help="repair: restart a node from an exported snapshot (docs/operations.md)")
    imp.add_argument("--dir", required=True, help="the NodeHost directory of the node (stopped)")
    imp.add_argument("--raft-address", required=True, help="that NodeHost's raft address")
    imp.add_argument("--src", required=True, help="the exported snapshot (directory)")
    imp.add_argument("--members", required=True, type=_members,
                     help="the new membership: NODE_ID=HOST:PORT,...")
    imp.add_argument("--node-id", required=True, type=int, help="this node's ID")
    imp.add_argument("--deployment-id", type=int, default=0)
    imp.add_argument("--logdb-shards", type=int, default=0,
                     help="0 (default): the count the directory recorded")
    imp.add_argument("--wal-dir", default="",
                     help="that NodeHost's wal_dir, if it has one (its LogDB's write-ahead log)")
    imp.add_argument("--dry-run", action="store_true", help="verify and report; change nothing")
    imp.set_defaults(func=_import_snapshot, seeds=1, steps=1)
    cd = sub.add_parser("checkdisk", help="is this disk fast enough for the LogDB?")
    cd.add_argument("--dir", default=".", help="a directory on the disk to test")
    cd.add_argument("--count", type=int, default=200, help="fdatasync samples")
    cd.set_defaults(func=_checkdisk, seeds=1, steps=1)
    sim = sub.add_parser("simulate", help="run the deterministic Raft simulation")
    sim.add_argument("--seeds", type=int, default=200, help="number of seeds (default 200)")
    sim.add_argument("--first", type=int, default=1, help="first seed (default 1)")
    sim.add_argument("--steps", type=int, default=2000, help="chaos steps per seed")
    sim.set_defaults(func=_simulate)
    st = sub.add_parser("systest", help="randomized whole-system test: NodeHost processes, "
                        "faults, invariant checks")
    st.add_argument("--seeds", type=int, default=None,
                    help="number of seeds (default 3; unlimited with --minutes)")
    st.add_argument("--minutes", type=float, default=None,
                    help="start no new seed after this many minutes")
    st.add_argument("--seed", type=int, default=None, help="the first seed (default: random)")
    st.add_argument("--hosts", type=int, default=None,
                    help="NodeHost processes per seed, 3..5 (default: the seed picks)")
    st.add_argument("--plugin", default=None,
                    help="the C++ checker plugin (.so) (default: the build's, when present)")
    st.add_argument("--seconds", type=float, default=20.0,
                    help="seconds of load and faults per seed (default 20)")
    st.add_argument("--dir", default=None, help="where the seeds' temporary directories go")
    st.add_argument("--keep", action="store_true",
                    help="keep every seed's directory (failed seeds' are always kept)")
    st.add_argument("--verbose", action="store_true", help="print every fault and event")
    st.add_argument("--inject", choices=("double-apply", "stale-result"), default=None,
                    help="make the workers fake this bug (to see the test catch it)")
    st.add_argument("--busy-poll-us", type=int, default=0,
                    help="every host's NodeHostConfig.busy_poll_microseconds (default 0; below "
                         "2500, half of the shortest tick a seed picks)")
    st.set_defaults(func=_systest, steps=1)
    lt = sub.add_parser("lintest", help="server processes in network namespaces under faults; "
                        "the history checked for linearizability (root)")
    lt.add_argument("--runs", type=int, default=1, help="number of runs (default 1)")
    lt.add_argument("--minutes", type=float, default=None,
                    help="start runs until this many minutes have passed (overrides --runs)")
    lt.add_argument("--seconds", type=float, default=60.0,
                    help="seconds of load and faults per run (default 60)")
    lt.add_argument("--nodes", default="3,5", help="nodes per run, cycled (default 3,5)")
    lt.add_argument("--seed", type=int, default=None, help="the first run's seed (default random)")
    lt.add_argument("--clients", type=int, default=2, help="clients per node (default 2)")
    lt.add_argument("--keys", type=int, default=6, help="registers (default 6)")
    lt.add_argument("--faults", default=None,
                    help="comma-separated faults to inject (default: all)")
    lt.add_argument("--inject", choices=("stale-read",), default=None,
                    help="make the servers fake this bug (to see the checker catch it)")
    lt.add_argument("--dir", default=None, help="where the runs' directories go")
    lt.add_argument("--verbose", action="store_true", help="print every fault")
    lt.add_argument("--cleanup", action="store_true",
                    help="only remove the namespaces of runs that were killed")
    lt.set_defaults(func=_lintest, seeds=1, steps=1)
    args = parser.parse_args(argv)
    if (args.seeds is not None and args.seeds <= 0) or args.steps <= 0:
        parser.error("--seeds and --steps must be positive")
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
