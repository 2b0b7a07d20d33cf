"""The system test's invariants, as pure functions over recorded histories.

Nothing here talks to a NodeHost: the controller records every operation
(:class:`WriteOp`, :class:`ReadOp`) and every observed replica state
(:class:`StateSample`), and these functions say what is wrong with them. That
keeps them unit-testable with fabricated histories (a double apply, a lost
write, a stale read, an old result handed to a new proposal).

Times are the controller's ``time.monotonic()``: an operation's ``invoke`` is
taken before the request is sent and its ``complete`` after the answer
arrived, so "A completed before B was invoked" in the record implies it in
reality.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

OK = "ok"
"""Outcome: the proposal completed and returned ``value``."""
FAILED = "failed"
"""Outcome: every attempt surely failed (refused by the call, dropped or
rejected): never applied, now or later."""
UNKNOWN = "unknown"
"""Outcome: at least one attempt may have been queued (timeout, dropped, a dead host...)."""


@dataclass
class WriteOp:
    """One client proposal (all its attempts) on one group."""

    group: int
    cmd: str
    session: bool  # through a registered client session (at most once) or the no-op one
    invoke: float
    complete: float | None = None
    outcome: str = UNKNOWN
    value: int | None = None  # the update's result: the count after the command
    attempts: int = 0
    client: str = ""


@dataclass
class ReadOp:
    """One completed linearizable read of ``b"state"``."""

    group: int
    invoke: float
    complete: float
    count: int
    hash: int
    distinct: int
    source: str = ""


@dataclass
class StateSample:
    """A replica's ``(count, hash, distinct)`` as observed (stale or linearizable read)."""

    group: int
    count: int
    hash: int
    distinct: int
    source: str  # e.g. "host 2 node 3 stale" (for reports)


@dataclass
class Violation:
    """A broken invariant, with what shows it."""

    kind: str
    group: int
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind}] group {self.group}: {self.detail}"


class HashLedger:
    """Invariants (a) and (e): replicas that report the same count report the same hash.

    Fed continuously (:meth:`observe`); remembers the first source of each
    ``(group, count)`` so a mismatch names both replicas.
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[int, int], tuple[int, int, str]] = {}
        self._reported: set[tuple[int, int, int, int]] = set()
        self.violations: list[Violation] = []

    def observe(self, s: StateSample) -> Violation | None:
        """Records ``s``; returns (and keeps) a violation when it contradicts an earlier sample."""
        key = (s.group, s.count)
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = (s.hash, s.distinct, s.source)
            return None
        h, distinct, source = first
        if (h, distinct) == (s.hash, s.distinct):
            return None
        if (s.group, s.count, s.hash, s.distinct) in self._reported:
            return None  # the same divergent state, sampled again
        self._reported.add((s.group, s.count, s.hash, s.distinct))
        v = Violation("hash", s.group,
                      f"at count {s.count}: {source} has hash {h} ({distinct} distinct) but "
                      f"{s.source} has hash {s.hash} ({s.distinct} distinct)")
        self.violations.append(v)
        return v

    def samples(self) -> int:
        """How many different (group, count) points were observed."""
        return len(self._seen)


def check_hashes(samples: Iterable[StateSample]) -> list[Violation]:
    """(a)/(e) over a finished list of samples."""
    ledger = HashLedger()
    for s in samples:
        ledger.observe(s)
    return ledger.violations


def check_final_states(group: int, states: Mapping[str, tuple[int, int, int]]) -> list[Violation]:
    """(e): every live replica of ``group`` (source -> (count, hash, distinct)) ends equal."""
    distinct_states = {st for st in states.values()}
    if len(distinct_states) <= 1:
        return []
    listing = ", ".join(f"{src}: count {c} hash {h} distinct {d}"
                        for src, (c, h, d) in sorted(states.items()))
    return [Violation("diverged", group, f"replicas end in different states: {listing}")]


def check_applied(group: int, ops: Sequence[WriteOp], applied: Mapping[str, int],
                  final: tuple[int, int, int], source: str = "") -> list[Violation]:
    """(b) on one replica's final state: ``applied`` maps each op's command to the
    times it was applied there; ``final`` is that replica's ``(count, hash, distinct)``.

    - an acknowledged session proposal was applied exactly once;
    - an acknowledged no-op-session proposal at least once (no acknowledged write is lost);
    - a session proposal is never applied twice, whatever its outcome;
    - a proposal whose every attempt surely failed (refused, dropped, rejected) is never applied;
    - no proposal is applied more times than it was attempted;
    - nothing else was applied: the times add up to ``count`` and the commands to ``distinct``.
    """
    out: list[Violation] = []
    where = f" on {source}" if source else ""
    total = 0
    nonzero = 0
    for op in ops:
        times = applied.get(op.cmd, 0)
        total += times
        nonzero += times > 0
        kind = "session" if op.session else "no-op-session"
        if op.outcome == OK and times == 0:
            out.append(Violation("lost", group, f"acknowledged {kind} proposal {op.cmd!r} "
                                 f"(result {op.value}) was never applied{where}"))
        elif op.session and times > 1:
            out.append(Violation("duplicate", group, f"session proposal {op.cmd!r} "
                                 f"({op.outcome}) applied {times} times{where}"))
        elif op.outcome == FAILED and times > 0:
            out.append(Violation("phantom", group, f"proposal {op.cmd!r}, every attempt of which "
                                 f"failed as not applied, was applied {times} times{where}"))
        elif times > max(op.attempts, 1):
            out.append(Violation("duplicate", group, f"{kind} proposal {op.cmd!r} applied "
                                 f"{times} times in {op.attempts} attempts{where}"))
    count, _, distinct = final
    if total != count or nonzero != distinct:
        out.append(Violation("count", group, f"the commands proposed were applied {total} times "
                             f"({nonzero} distinct) but the state says count {count} "
                             f"({distinct} distinct){where}"))
    return out


def _acked(ops: Iterable[WriteOp]) -> list[WriteOp]:
    return [op for op in ops if op.outcome == OK and op.complete is not None
            and op.value is not None]


def check_results(group: int, ops: Sequence[WriteOp], final_count: int | None) -> list[Violation]:
    """Result values of acknowledged proposals are consistent.

    The value is the count after the command, i.e. its position in the
    group's applied sequence, so: each acknowledged value is unique, within
    ``[1, final_count]``, and a proposal acknowledged before another was
    invoked has the smaller value (real-time order). A new proposal completed
    with an old entry's result breaks these.
    """
    out: list[Violation] = []
    acked = _acked(ops)
    by_value: dict[int, WriteOp] = {}
    for op in acked:
        assert op.value is not None
        other = by_value.get(op.value)
        if other is not None:
            out.append(Violation("result", group, f"{op.cmd!r} and {other.cmd!r} were both "
                                 f"acknowledged with result {op.value}"))
        else:
            by_value[op.value] = op
        if op.value < 1 or (final_count is not None and op.value > final_count):
            out.append(Violation("result", group, f"{op.cmd!r} acknowledged with result "
                                 f"{op.value}, outside [1, {final_count}]"))
    out.extend(_real_time_order(group, acked))
    return out


def _prefix(acked: list[WriteOp]) -> tuple[list[float], list[int], list[WriteOp]]:
    """Acked ops sorted by completion; the running max of their values (and who had it)."""
    acked = sorted(acked, key=lambda op: op.complete or 0.0)
    completes = [op.complete or 0.0 for op in acked]
    best: list[int] = []
    holder: list[WriteOp] = []
    for op in acked:
        assert op.value is not None
        if not best or op.value > best[-1]:
            best.append(op.value)
            holder.append(op)
        else:
            best.append(best[-1])
            holder.append(holder[-1])
    return completes, best, holder


def _real_time_order(group: int, acked: list[WriteOp]) -> list[Violation]:
    out: list[Violation] = []
    completes, best, holder = _prefix(acked)
    for op in acked:
        i = bisect.bisect_left(completes, op.invoke)  # ops completed strictly before op.invoke
        if i == 0:
            continue
        assert op.value is not None
        if best[i - 1] >= op.value:
            earlier = holder[i - 1]
            out.append(Violation("order", group, f"{op.cmd!r} (invoked at {op.invoke:.3f}) got "
                                 f"result {op.value}, but {earlier.cmd!r} got {earlier.value} "
                                 f"and completed earlier, at {earlier.complete:.3f}"))
    return out


def check_reads(group: int, ops: Sequence[WriteOp], reads: Sequence[ReadOp]) -> list[Violation]:
    """(c) reads are linearizable against acknowledged writes and earlier reads.

    A read invoked after some writes were acknowledged must see them: its
    ``distinct`` is at least the number of different commands acknowledged
    before it, its ``count`` at least the largest acknowledged result; and
    its ``count`` is at least that of every read completed before it began.
    """
    out: list[Violation] = []
    acked = _acked(ops)
    completes, best, holder = _prefix(acked)
    # Distinct commands acknowledged before time t: acked ops are distinct commands,
    # but an op may be recorded twice by a caller; count unique commands.
    seen: set[str] = set()
    distinct_before: list[int] = []
    for op in sorted(acked, key=lambda o: o.complete or 0.0):
        seen.add(op.cmd)
        distinct_before.append(len(seen))
    by_completion = sorted(reads, key=lambda r: r.complete)
    read_completes = [r.complete for r in by_completion]
    read_best: list[ReadOp] = []
    for r in by_completion:
        read_best.append(r if not read_best or r.count > read_best[-1].count else read_best[-1])
    for r in reads:
        i = bisect.bisect_left(completes, r.invoke)
        if i > 0:
            if r.distinct < distinct_before[i - 1]:
                out.append(Violation("stale-read", group, f"read at {r.invoke:.3f} on "
                                     f"{r.source} saw {r.distinct} distinct commands but "
                                     f"{distinct_before[i - 1]} were acknowledged before it"))
            elif r.count < best[i - 1]:
                w = holder[i - 1]
                out.append(Violation("stale-read", group, f"read at {r.invoke:.3f} on "
                                     f"{r.source} saw count {r.count} but {w.cmd!r} was "
                                     f"acknowledged with result {w.value} at {w.complete:.3f}"))
        j = bisect.bisect_left(read_completes, r.invoke)
        if j > 0 and read_best[j - 1].count > r.count:
            e = read_best[j - 1]
            out.append(Violation("stale-read", group, f"read at {r.invoke:.3f} on {r.source} "
                                 f"saw count {r.count}, below the count {e.count} a read on "
                                 f"{e.source} returned at {e.complete:.3f}"))
    return out


def check_group(group: int, ops: Sequence[WriteOp], reads: Sequence[ReadOp],
                finals: Mapping[str, tuple[int, int, int]],
                applied: Mapping[str, Mapping[str, int]]) -> list[Violation]:
    """Every end-of-run check of one group: final states equal (e), each
    replica's applied counts (b), results (values) and reads (c).

    ``finals`` maps a replica (source) to its final ``(count, hash, distinct)``;
    ``applied`` maps the same sources to ``{cmd: times}``.
    """
    out = check_final_states(group, finals)
    for source, per_cmd in sorted(applied.items()):
        out.extend(check_applied(group, ops, per_cmd, finals[source], source))
    final_count = max((c for c, _, _ in finals.values()), default=None)
    out.extend(check_results(group, ops, final_count))
    out.extend(check_reads(group, ops, reads))
    return out


__all__ = [
    "FAILED",
    "OK",
    "UNKNOWN",
    "HashLedger",
    "ReadOp",
    "StateSample",
    "Violation",
    "WriteOp",
    "check_applied",
    "check_final_states",
    "check_group",
    "check_hashes",
    "check_reads",
    "check_results",
]
