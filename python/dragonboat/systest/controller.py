"""One seed of the system test from start to verdict, and the loop over seeds."""

from __future__ import annotations

import os
import random
import shlex
import shutil
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from dragonboat.checker import parse_state
from dragonboat.systest.cluster import CALL_ERRORS, Cluster
from dragonboat.systest.invariants import (
    FAILED,
    OK,
    UNKNOWN,
    StateSample,
    Violation,
    WriteOp,
    check_group,
)
from dragonboat.systest.load import Load, Recorder, finish, propose, read_state
from dragonboat.systest.model import VOTER, GroupSpec, Replica
from dragonboat.systest.schedule import Chaos

PY_KINDS = ("regular", "concurrent", "ondisk")


@dataclass
class Options:
    """Settings of a system test run (the ``dragonboat systest`` options)."""

    seeds: int | None = None  # how many seeds (default 3, unlimited with minutes)
    minutes: float | None = None  # stop starting seeds after this long
    seed: int | None = None  # the first seed (default: a random one)
    hosts: int | None = None  # NodeHosts per seed (default: the seed picks 3..5)
    plugin: str | None = None  # the C++ checker plugin (.so); None: Python groups only
    seconds: float = 20.0  # fault injection per seed
    verbose: bool = False
    root: str | None = None  # where each seed's temporary directory goes
    keep: bool = False  # keep each seed's directory (else kept only when it failed)
    inject: str | None = None  # a bug the workers fake (worker.INJECTED_BUGS): tests the test
    stall: float = 10.0  # after healing, replicas whose states stop changing this long diverged
    busy_poll_us: int = 0  # every host's NodeHostConfig.busy_poll_microseconds


@dataclass
class SeedResult:
    """What one seed did and found."""

    seed: int
    hosts: int = 0
    groups: list[str] = field(default_factory=list)
    writes: int = 0
    acked: int = 0
    failed: int = 0  # surely not applied
    unknown: int = 0  # maybe applied
    retried: int = 0  # acknowledged after more than one attempt
    reads: int = 0
    operations: int = 0
    faults: int = 0
    fault_counts: dict[str, int] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    seconds: float = 0.0
    directory: str | None = None


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def replay_command(seed: int, opts: Options) -> str:
    """The command line that runs ``seed`` again with the same options."""
    args = ["python", "-m", "dragonboat", "systest", "--seed", str(seed), "--seeds", "1",
            "--seconds", f"{opts.seconds:g}"]
    if opts.hosts:
        args += ["--hosts", str(opts.hosts)]
    if opts.plugin:
        args += ["--plugin", opts.plugin]
    if opts.inject:
        args += ["--inject", opts.inject]
    if opts.busy_poll_us:
        args += ["--busy-poll-us", str(opts.busy_poll_us)]
    if opts.verbose:
        args.append("--verbose")
    return shlex.join(args)


def plan(seed: int, rng: random.Random, opts: Options) -> tuple[int, dict[str, object],
                                                                   list[GroupSpec]]:
    """The seed's set-up: host count, engine settings and groups."""
    n = opts.hosts or rng.randint(3, 5)
    rtt = rng.choice((5, 10))
    settings: dict[str, object] = {
        "rtt": rtt,
        "election_rtt": max(10, rng.choice((200, 300, 500)) // rtt),
        "heartbeat_rtt": rng.choice((1, 2)),
        "plugin": opts.plugin,
        "cpp_save_delay_ms": [rng.choice((0, 0, 20, 100)) for _ in range(n)],
        "log_level": "WARNING" if opts.verbose else "ERROR",
        "inject": opts.inject,
        "busy_poll_us": opts.busy_poll_us,
    }
    kinds = list(PY_KINDS) + (["plugin"] if opts.plugin else [])
    if opts.inject == "double-apply":
        kinds = ["regular"]  # the kind that fakes it
    rng.shuffle(kinds)
    count = rng.randint(3, 4) if n < 5 else rng.randint(4, 5)  # several groups on every host
    chosen = kinds[:count] + [rng.choice(kinds) for _ in range(count - len(kinds))]
    groups = []
    for i, kind in enumerate(chosen, 1):
        if kind == "plugin":  # the plugin's kind follows cluster_id % 3
            sub = rng.randrange(3)
            cluster, sm_kind, delay = 3 * (10 + i) + sub, PY_KINDS[sub], 0.0
        else:
            cluster, sm_kind = i, kind
            delay = rng.choice((0.0, 0.0, 0.02, 0.1, 0.3))
        groups.append(GroupSpec(cluster, kind, sm_kind, delay, snapshot_entries=rng.randint(5, 30),
                                compaction_overhead=rng.randint(2, 10),
                                check_quorum=rng.random() < 0.5))
    return n, settings, groups


class SeedRun:
    """One seed: processes, load, faults, healing and the final checks."""

    def __init__(self, seed: int, opts: Options, out: Callable[[str], None]) -> None:
        self.seed = seed
        self.opts = opts
        self.out = out
        self.rng = random.Random(seed)
        self.result = SeedResult(seed)
        self.t0 = time.monotonic()
        self.root = tempfile.mkdtemp(prefix=f"dragonboat-systest-{seed}-", dir=opts.root)
        self._events = open(os.path.join(self.root, "events.log"), "a")  # closed in run()
        self._events_lock = threading.Lock()

    def log(self, msg: str) -> None:
        """An event of the run: into events.log, and printed with --verbose."""
        line = f"{time.monotonic() - self.t0:8.3f} {msg}"
        with self._events_lock:
            if not self._events.closed:
                self._events.write(line + "\n")
                self._events.flush()
        if self.opts.verbose:
            self.out(f"  [{self.seed}] {line}")

    def violation(self, v: Violation) -> None:
        """Records a violation found by the controller."""
        self.log(f"VIOLATION {v}")
        self.result.violations.append(v)

    def run(self) -> SeedResult:
        """Runs the seed; always stops every process it started."""
        n, settings, groups = plan(self.seed, self.rng, self.opts)
        self.result.hosts = n
        self.result.groups = [g.label() + (f"(delay {g.save_delay:g}s)" if g.save_delay else "")
                              for g in groups]
        addresses = [f"127.0.0.1:{free_port()}" for _ in range(n)]
        cluster = Cluster(self.root, addresses, settings, self.log)
        rec = Recorder(self.log)
        load = Load(cluster, rec, self.seed)
        try:
            self._run(cluster, groups, rec, load)
        except Exception:  # the harness itself failed: report it like a violation
            self.violation(Violation("error", 0, traceback.format_exc()))
        finally:
            load.finish(5.0)
            cluster.shutdown()
            for crash in cluster.crashes():
                self.violation(Violation("crash", 0, crash))
            with self._events_lock:
                self._events.close()
        r = self.result
        with rec.lock:
            r.writes = len(rec.writes)
            r.acked = sum(1 for op in rec.writes if op.outcome == OK)
            r.failed = sum(1 for op in rec.writes if op.outcome == FAILED)
            r.unknown = sum(1 for op in rec.writes if op.outcome == UNKNOWN)
            r.retried = sum(1 for op in rec.writes if op.outcome == OK and op.attempts > 1)
            r.reads = len(rec.reads)
            r.operations = len(rec.writes) + rec.read_attempts
            r.violations = rec.ledger.violations + r.violations
        r.seconds = time.monotonic() - self.t0
        if r.violations or self.opts.keep:
            r.directory = self.root
        else:
            shutil.rmtree(self.root, ignore_errors=True)
        return r

    def _run(self, cluster: Cluster, groups: list[GroupSpec], rec: Recorder, load: Load) -> None:
        model = cluster.model
        n = len(model.addresses)
        for h in range(n):
            cluster.spawn(h)
        load_of = [0] * n
        for g in groups:  # on the 3 hosts with the fewest replicas (ties: the seed decides)
            initial = sorted(range(n), key=lambda h: (load_of[h], self.rng.random()))[:3]
            for h in initial:
                load_of[h] += 1
            members = {i + 1: model.addresses[h] for i, h in enumerate(initial)}
            with model.lock:
                model.groups[g.cluster] = g
                model.replicas[g.cluster] = {i + 1: Replica(g.cluster, i + 1, h, VOTER)
                                             for i, h in enumerate(initial)}
                model.next_node[g.cluster] = len(initial) + 1
            for r in list(model.replicas[g.cluster].values()):
                if not cluster.start_replica(r, members=members):
                    raise RuntimeError(f"cannot start {r.name()} (see {self.root})")
        for g in groups:  # every group makes progress before the faults start
            if self._write(cluster, rec, g.cluster, f"init.{g.cluster}", 60.0) is None:
                self.violation(Violation("progress", g.cluster, "no write within 60 s of start"))
        self.log("load and faults start")
        load.start(self.rng)
        chaos = Chaos(cluster, self.rng)
        chaos.run(self.opts.seconds, threading.Event())
        self.log(f"healing after {chaos.faults} faults")
        for problem in chaos.heal(time.monotonic() + 60.0):
            self.violation(Violation("heal", 0, problem))
        stuck = load.finish(60.0)
        if stuck:
            self.violation(Violation("stuck", 0, f"load threads still running: {stuck}"))
        # Again: a host that died since (a crash, reported as such) is back for the checks.
        for problem in chaos.heal(time.monotonic() + 60.0):
            self.violation(Violation("heal", 0, problem))
        self.result.faults = chaos.faults
        self.result.fault_counts = dict(chaos.counts)
        for h in range(n):
            load.poll_host(h)
        for g in groups:
            self._final(cluster, rec, g.cluster)

    def _write(self, cluster: Cluster, rec: Recorder, c: int, cmd: str,
               within: float) -> WriteOp | None:
        """A no-op-session write retried until it is acknowledged or ``within`` passes."""
        op = WriteOp(c, cmd, False, time.monotonic(), client="controller")
        rec.add_write(op)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            t = cluster.model.write_target(c, self.rng)
            if t is not None and propose(t, op, 0) == OK:
                break
            time.sleep(0.05)  # polling until the group takes writes, with a deadline
        finish(op)
        return op if op.outcome == OK else None

    def _final(self, cluster: Cluster, rec: Recorder, c: int) -> None:
        """Invariants (d), (e), (b), (c) of group ``c`` after healing."""
        model = cluster.model
        # (d) progress: a write and a read within a deadline.
        op = self._write(cluster, rec, c, f"final.{c}", 30.0)
        if op is None:
            self.violation(Violation("progress", c, "no write acknowledged within 30 s of healing"))
        deadline = time.monotonic() + 30.0
        read = None
        while read is None and time.monotonic() < deadline:
            t = model.read_target(c, self.rng)
            read = read_state(t, c) if t is not None else None
            rec.add_read(read)
            if read is None:
                time.sleep(0.05)  # polling until the group serves reads, with a deadline
        if read is None:
            self.violation(Violation("progress", c, "no read completed within 30 s of healing"))
        # Every live member converges to the same state.
        cluster.refresh(c, self.rng, tries=10)  # every live replica: the newest answer wins
        with model.lock:
            replicas = [r for r in model.members(c)
                        if r.confirmed and r.role != "witness" and model.is_up(r)]
        finals: dict[str, tuple[int, int, int]] = {}
        target = op.value if op is not None and op.value is not None else 0
        deadline = time.monotonic() + 60.0
        last: dict[str, tuple[int, int, int]] = {}
        changed = time.monotonic()
        while True:
            finals, errors = {}, []
            for r in replicas:
                try:
                    answer = cluster.call(r.host, "stale_read", 20.0, cluster=c,
                                          queries=["state"])["answers"][0]
                    finals[r.name()] = parse_state(answer)
                except CALL_ERRORS as e:
                    errors.append(f"{r.name()}: {e}")
            counts = {s[0] for s in finals.values()}
            if not errors and len(counts) == 1 and min(counts) >= target:
                break
            now = time.monotonic()
            if finals != last:
                last, changed = finals, now
            if now > deadline or now - changed > self.opts.stall:  # stuck: they never will
                states = ", ".join(f"{k}: count {v[0]}" for k, v in sorted(finals.items()))
                self.violation(Violation("converge", c, f"replicas did not converge: "
                                         f"{states} {'; '.join(errors)}"))
                break
            time.sleep(0.1)  # polling for convergence, with a deadline
        for name, (count, h, distinct) in finals.items():
            rec.observe(StateSample(c, count, h, distinct, name + " (final)"))
        with rec.lock:
            ops = [w for w in rec.writes if w.group == c]
            reads = [r for r in rec.reads if r.group == c]
        applied: dict[str, dict[str, int]] = {}
        for r in replicas:
            if r.name() not in finals:
                continue
            per_cmd: dict[str, int] = {}
            try:
                for i in range(0, len(ops), 2000):
                    chunk = ops[i:i + 2000]
                    answers = cluster.call(r.host, "stale_read", 60.0, cluster=c,
                                           queries=["applied:" + w.cmd for w in chunk])["answers"]
                    per_cmd.update((w.cmd, int(a)) for w, a in zip(chunk, answers))
            except CALL_ERRORS as e:
                self.violation(Violation("converge", c, f"{r.name()} stopped answering: {e}"))
                continue
            applied[r.name()] = per_cmd
        for v in check_group(c, ops, reads, finals, applied):
            self.violation(v)


def summarize(violations: list[Violation], per_kind: int = 3) -> list[str]:
    """Report lines: the first ``per_kind`` violations of each kind in each group,
    then how many more there were."""
    shown: dict[tuple[str, int], int] = {}
    lines = []
    for v in violations:
        key = (v.kind, v.group)
        shown[key] = shown.get(key, 0) + 1
        if shown[key] <= per_kind:
            lines.append(f"  VIOLATION {v}")
    for (kind, group), n in sorted(shown.items()):
        if n > per_kind:
            lines.append(f"  ... and {n - per_kind} more [{kind}] in group {group}")
    return lines


def run_seed(seed: int, opts: Options, out: Callable[[str], None] = print) -> SeedResult:
    """Runs one seed (see :class:`SeedRun`)."""
    return SeedRun(seed, opts, out).run()


def run(opts: Options, out: Callable[[str], None] = print) -> int:
    """Runs seeds as ``opts`` says, prints a line per seed and the summary;
    returns the exit status (1 when any invariant was violated)."""
    if opts.plugin and not os.path.exists(opts.plugin):
        out(f"C++ checker plugin {opts.plugin} not found: C++ groups skipped")
        opts.plugin = None
    first = opts.seed if opts.seed is not None else random.SystemRandom().randrange(1, 1 << 31)
    limit = opts.seeds if opts.seeds is not None else (None if opts.minutes else 3)
    start = time.monotonic()
    seeds = operations = violations = faults = 0
    seed = first
    while limit is None or seeds < limit:
        if opts.minutes is not None and seeds and time.monotonic() - start >= opts.minutes * 60:
            break
        r = run_seed(seed, opts, out)
        seeds += 1
        operations += r.operations
        violations += len(r.violations)
        faults += r.faults
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(r.fault_counts.items()))
        out(f"seed {seed}: {r.hosts} hosts, groups {' '.join(r.groups)}; {r.writes} proposals "
            f"({r.acked} acknowledged, {r.retried} of them after a retry; {r.failed} failed, "
            f"{r.unknown} unknown), {r.reads} reads, {r.faults} faults ({kinds}); "
            f"{len(r.violations)} violations; {r.seconds:.1f} s")
        for line in summarize(r.violations):
            out(line)
        if r.violations:
            out(f"  replay: {replay_command(seed, opts)}")
        if r.directory:
            out(f"  directory (logs, events.log): {r.directory}")
        sys.stdout.flush()
        seed += 1
    out(f"totals: {faults} faults injected, {time.monotonic() - start:.1f} s")
    out(f"system test: {seeds} seeds, {operations} operations, {violations} violations")
    return 1 if violations else 0
