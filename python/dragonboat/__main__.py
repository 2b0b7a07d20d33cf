"""Command line: ``dragonboat demo`` (three local NodeHosts doing real work) and
``dragonboat simulate [--seeds N] [--steps K]`` (the deterministic Raft simulation)."""

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


def _demo(args: argparse.Namespace) -> int:
    from dragonboat import demo

    return demo.run(args.seconds)


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
    sim = sub.add_parser("simulate", help="run the deterministic Raft simulation")
    sim.add_argument("--seeds", type=int, default=200, help="number of seeds (default 200)")
    sim.add_argument("--first", type=int, default=1, help="first seed (default 1)")
    sim.add_argument("--steps", type=int, default=2000, help="chaos steps per seed")
    sim.set_defaults(func=_simulate)
    args = parser.parse_args(argv)
    if args.seeds <= 0 or args.steps <= 0:
        parser.error("--seeds and --steps must be positive")
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
