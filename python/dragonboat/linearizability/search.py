"""The per-key search (Wing & Gong with Lowe's memoization, and the reductions
described in :mod:`dragonboat.linearizability`)."""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Hashable, Sequence
from typing import Any

from dragonboat.linearizability.history import (
    FAIL,
    OK,
    READ,
    UNKNOWN,
    WRITE,
    Op,
    cas_args,
)

# Operation codes of the register model.
_R_READ = 0  # valid iff state == a; state unchanged
_R_WRITE = 1  # always valid; state = a (a "blind" write)
_R_CAS = 2  # valid iff state == a; state = b
_R_CAS_FAILED = 3  # valid iff state != a; state unchanged
_R_CAS_MAYBE = 4  # always valid; state = b if state == a else state

# How an op that never changes the register constrains it: needs state == a,
# needs state != a, or always fits.
_PURE_EQ = 1
_PURE_NE = 2
_PURE_ANY = 3

# Search modes.
_FRESH = 0  # just reached a configuration
_SCAN_OK = 1  # trying completed ops
_SCAN_UNKNOWN = 2  # trying unknown ops
_DEAD = 3  # nothing can be placed next

# Search results.
LINEARIZABLE = 0
NOT_LINEARIZABLE = 1
TIMED_OUT = 2

_DEADLINE_CHECK_MASK = 0x3FF  # look at the clock every 1024 search steps
_PREFIX_SHOWN = 8  # linearized operations shown in a failure explanation
_CANDIDATES_SHOWN = 16  # candidate operations shown in a failure explanation


def _freeze(value: Any) -> Hashable:
    """Returns a hashable stand-in for ``value`` that compares like it."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return frozenset((_freeze(k), _freeze(v)) for k, v in value.items())
    if isinstance(value, (set, frozenset)):
        return frozenset(_freeze(v) for v in value)
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"cannot check a register holding the unhashable {value!r}") from None
    frozen: Hashable = value
    return frozen


class _Values:
    """Interns register values as small ints: states become cheap to hash and compare.

    Id 0 is ``None``, the value of a key that was never written.
    """

    __slots__ = ("_ids", "originals")

    def __init__(self) -> None:
        self._ids: dict[Hashable, int] = {None: 0}
        self.originals: list[Any] = [None]

    def intern(self, value: Any) -> int:
        """Returns the id of ``value``, allocating one the first time it is seen."""
        frozen = _freeze(value)
        i = self._ids.get(frozen)
        if i is None:
            i = len(self.originals)
            self._ids[frozen] = i
            self.originals.append(value)
        return i


def _encode(op: Op, values: _Values, unknown: bool) -> tuple[int, int, int]:
    """Translates ``op`` to ``(model code, a, b)`` for the register model."""
    if op.kind == READ:
        return _R_READ, values.intern(op.output), 0
    if op.kind == WRITE:
        return _R_WRITE, values.intern(op.value), 0
    expected, new = cas_args(op)
    a, b = values.intern(expected), values.intern(new)
    if unknown or op.output is True:
        # An unknown cas that took effect is indistinguishable from a successful
        # one; one that failed had no effect, i.e. it is never linearized.
        return _R_CAS, a, b
    if op.output is False:
        return _R_CAS_FAILED, a, 0
    return _R_CAS_MAYBE, a, b


def _apply(code: int, a: int, b: int, state: int) -> int:
    """Returns the register state after an op, or -1 if the op cannot run in ``state``.

    The search loop inlines this; it is used to explain failures.
    """
    if code == _R_READ:
        return state if state == a else -1
    if code == _R_WRITE:
        return a
    if code == _R_CAS:
        return b if state == a else -1
    if code == _R_CAS_FAILED:
        return state if state != a else -1
    return b if state == a else state


def _fmt_time(t: float) -> str:
    """Formats a time for an explanation."""
    return "unknown" if math.isinf(t) else f"{t:.6g}"


def _describe(op: Op) -> str:
    """A one-line description of ``op`` for an explanation."""
    if op.kind == READ:
        what = f"read -> {op.output!r}"
    elif op.kind == WRITE:
        what = f"write {op.value!r}"
    else:
        expected, new = cas_args(op)
        result = "?" if op.outcome == UNKNOWN or op.output is None else repr(op.output)
        what = f"cas({expected!r} -> {new!r}) = {result}"
    window = f"[{_fmt_time(op.invoke)}, {_fmt_time(op.complete)}]"
    tag = " (outcome unknown)" if op.outcome == UNKNOWN else ""
    return f"client {op.client}: {what} {window}{tag}"


# A search frame: how to undo one placement and where to resume afterwards:
# (the call entry of the placed completed op, or -1 - the index of the placed
# unknown op; state, low, bits, ub, run; the time of the first pending return,
# the unknown ops being tried, the position in them (-1: a forced placement),
# whether they are the second pass of unknown ops).
_Frame = tuple[int, int, int, int, int, int, float, Sequence[int], int, bool]


class KeyProblem:
    """The search for a linearization of the operations on one key.

    Completed ("ok") operations are numbered ``0..n-1`` in invoke order; their
    call and return events are the entries ``0..2n-1`` of a doubly-linked list
    in time order (calls before returns at equal times), with sentinels ``2n``
    (head) and ``2n+1`` (tail). Placed (linearized) operations are unlinked and
    linked back in when the search backtracks ("dancing links"). Unknown
    operations are numbered ``0..m-1`` in invoke order; they have no return
    event and are looked up through indexes by the value they produce.

    The set of placed completed operations is kept as ``(low, bits)``: every
    operation below ``low`` is placed, ``low`` is not, and bit ``j`` of ``bits``
    says whether operation ``low + j`` is.

    Unknown operations are placed in *runs*. A configuration inside a run
    carries ``run``, the register value before the run started (``-1``
    outside a run); the completed operation that ends the run must behave
    differently in the current value than in ``run``.
    """

    def __init__(self, key: str, ops: Sequence[Op]) -> None:
        self.key = key
        self.values = values = _Values()
        ok: list[Op] = []
        unknown: list[Op] = []
        dropped = 0
        for op in ops:
            if op.outcome == FAIL or (op.outcome == UNKNOWN and op.kind == READ):
                dropped += 1
            elif op.outcome == UNKNOWN:
                unknown.append(op)
            else:
                ok.append(op)
        ok.sort(key=lambda op: (op.invoke, op.complete))
        unknown.sort(key=lambda op: op.invoke)
        self.dropped = dropped
        self.ok_ops = ok
        self.unknown_ops = unknown
        self.size = len(ok) + len(unknown)

        n = len(ok)
        encoded = [_encode(op, values, False) for op in ok]
        self.o_code = [c for c, _, _ in encoded]
        self.o_a = [a for _, a, _ in encoded]
        self.o_b = [b for _, _, b in encoded]
        # Ops that never change the register: reads, failed cas, cas(v -> v).
        self.o_pure = [
            _PURE_EQ if c == _R_READ or (c == _R_CAS and a == b)
            else _PURE_NE if c == _R_CAS_FAILED
            else _PURE_ANY if c == _R_CAS_MAYBE and a == b
            else 0
            for c, a, b in encoded
        ]
        events = sorted(
            [(op.invoke, 0, i) for i, op in enumerate(ok)]
            + [(op.complete, 1, i) for i, op in enumerate(ok)]
        )
        head, tail = 2 * n, 2 * n + 1
        self.head, self.tail = head, tail
        self.e_op = [i for _, _, i in events] + [-1, -1]
        self.e_call = [kind == 0 for _, kind, _ in events] + [False, False]
        self.e_time = [t for t, _, _ in events] + [-math.inf, math.inf]
        self.ret_entry = [0] * n
        for entry, (_, kind, i) in enumerate(events):
            if kind == 1:
                self.ret_entry[i] = entry
        self.nxt = [0] * (2 * n + 2)
        self.prv = [0] * (2 * n + 2)
        order = [head, *range(2 * n), tail]
        for x, y in zip(order, order[1:]):
            self.nxt[x] = y
            self.prv[y] = x
        self.nxt[tail] = tail
        self.prv[head] = head

        m = len(unknown)
        u_encoded = [_encode(op, values, True) for op in unknown]
        self.u_code = [c for c, _, _ in u_encoded]
        self.u_a = [a for _, a, _ in u_encoded]
        self.u_b = [b for _, _, b in u_encoded]
        self.u_inv = [op.invoke for op in unknown]
        self.all_unknown = list(range(m))
        # producers[v]: unknown ops that leave v in the register.
        # cas_by_expected[v]: unknown cas ops that need v in the register.
        self.producers: dict[int, list[int]] = {}
        self.cas_by_expected: dict[int, list[int]] = {}
        for u, (code, a, b) in enumerate(u_encoded):
            self.producers.setdefault(a if code == _R_WRITE else b, []).append(u)
            if code == _R_CAS:
                self.cas_by_expected.setdefault(a, []).append(u)

        # Filled in by an explaining search: the deepest dead end.
        self.best_prefix: list[Op] = []
        self.best_state = 0
        self.best_blocker: Op | None = None
        self.best_candidates: list[tuple[Op, int, int, int]] = []
        self.best_hidden = 0

    def search(self, deadline: float, explain: bool) -> int:
        """Runs the search; returns ``LINEARIZABLE``, ``NOT_LINEARIZABLE`` or ``TIMED_OUT``.

        With ``explain``, the deepest dead end (most completed ops placed) is
        recorded for :meth:`explain`. The linked list is restored on return only
        when the result is ``NOT_LINEARIZABLE``, which is all a second
        (explaining) run needs.
        """
        if time.monotonic() >= deadline:
            return TIMED_OUT
        remaining = len(self.ok_ops)
        if remaining == 0:
            return LINEARIZABLE
        nxt, prv, e_op, e_call, e_time = self.nxt, self.prv, self.e_op, self.e_call, self.e_time
        ret_entry, o_code, o_a, o_b = self.ret_entry, self.o_code, self.o_a, self.o_b
        o_pure = self.o_pure
        u_code, u_a, u_b, u_inv = self.u_code, self.u_a, self.u_b, self.u_inv
        producers, cas_by_expected = self.producers, self.cas_by_expected
        all_unknown = self.all_unknown
        head = self.head
        monotonic = time.monotonic
        best = -1
        no_candidates: Sequence[int] = ()

        # Failed configurations: (low, bits, state, run) -> the bitsets of unknown
        # ops placed in failed configurations with that key. A configuration is
        # failed if one of those bitsets is a subset of its own: it has fewer
        # options (the extra unknown ops are no longer available).
        failed: dict[tuple[int, int, int, int], list[int]] = {}
        stack: list[_Frame] = []
        placed = [False] * len(all_unknown)
        unknown_left = len(all_unknown)
        state = 0  # the register starts absent (None)
        low = 0  # completed ops below low are placed, low is not
        bits = 0  # bit j: completed op low + j is placed
        ub = 0  # bitset of placed unknown ops
        run = -1  # the register value before the current run of unknown ops
        mode = _FRESH
        entry = head  # the next call entry to try (_SCAN_OK)
        blocker_time = 0.0  # when the first pending return happens
        ucands = no_candidates  # unknown ops to try (_SCAN_UNKNOWN), and the next one
        j = 0
        late = False  # ucands is the second pass over unknown ops
        steps = 0

        # At each configuration the search tries, in this order: an op that
        # leaves the register unchanged (then nothing else: see _FRESH below);
        # unknown ops that leave a value some candidate op needs; completed ops
        # in call order; and, if a candidate failed cas needs the register to
        # change, every other unknown op.
        while True:
            steps += 1
            if steps & _DEADLINE_CHECK_MASK == 0 and monotonic() >= deadline:
                return TIMED_OUT
            if mode == _FRESH:
                # A new configuration. If a candidate that leaves the register
                # unchanged (a read, a failed cas) can go next, placing it now is
                # never a wrong choice: any order that places it later stays valid
                # with it moved here. So it is placed without alternatives.
                e = nxt[head]
                while e_call[e]:
                    i = e_op[e]
                    pure = o_pure[i]
                    if pure:
                        a = o_a[i]
                        if pure == _PURE_EQ:
                            if state == a and (run < 0 or a != run):
                                break
                        elif pure == _PURE_NE:
                            if state != a and (run < 0 or a == run):
                                break
                        elif run < 0 or (state == a) != (run == a):
                            break
                    e = nxt[e]
                if e_call[e]:
                    new_state = state
                    forced = -1
                else:
                    # e is the first pending return: completed ops invoked after it
                    # cannot go next. First try the unknown ops invoked before it
                    # that leave a value one of the candidates needs.
                    blocker_time = e_time[e]
                    j = 0
                    late = False
                    mode = _SCAN_UNKNOWN
                    if unknown_left == 0:
                        ucands = no_candidates
                    elif run >= 0:
                        ucands = cas_by_expected.get(state, no_candidates)
                    else:
                        wanted: list[int] = []
                        e = nxt[head]
                        while e_call[e]:
                            i = e_op[e]
                            code = o_code[i]
                            if code != _R_WRITE and code != _R_CAS_FAILED:
                                a = o_a[i]
                                if a != state and a not in wanted:
                                    wanted.append(a)
                            e = nxt[e]
                        # The unknown ops that leave a wanted value, and, for an
                        # unknown cas among them, those that leave the value it
                        # expects (a run of several unknown ops), and so on.
                        found: list[int] = []
                        k = 0
                        while k < len(wanted):
                            p = producers.get(wanted[k])
                            k += 1
                            if p is None:
                                continue
                            for u in p:
                                if placed[u] or u_inv[u] > blocker_time:
                                    continue
                                found.append(u)
                                if u_code[u] == _R_CAS and u_a[u] not in wanted:
                                    wanted.append(u_a[u])
                        ucands = found
                    continue
            elif mode == _SCAN_OK:
                if not e_call[entry]:
                    # No completed op can go next. A candidate failed (or
                    # undecided) cas expecting the current value needs some other
                    # value: then try every unknown op.
                    mode = _DEAD
                    if run < 0 and unknown_left > 0:
                        blocker_time = e_time[entry]
                        e = nxt[head]
                        while e != entry:
                            i = e_op[e]
                            code = o_code[i]
                            if (code == _R_CAS_FAILED or code == _R_CAS_MAYBE) and o_a[i] == state:
                                ucands = all_unknown[: bisect.bisect_right(u_inv, blocker_time)]
                                j = 0
                                late = True
                                mode = _SCAN_UNKNOWN
                                break
                            e = nxt[e]
                    continue
                e = entry
                entry = nxt[entry]
                i = e_op[e]
                if o_pure[i]:
                    continue  # not placeable, or _FRESH would have placed it
                code = o_code[i]
                a = o_a[i]
                if code == _R_WRITE:
                    if run >= 0:
                        continue  # it would hide the run: leaving the run out is the same
                    new_state = a
                elif code == _R_CAS:
                    if state != a or a == run:
                        continue
                    new_state = o_b[i]
                else:  # _R_CAS_MAYBE
                    if run >= 0 and (state == a) == (run == a):
                        continue
                    new_state = o_b[i] if state == a else state
                forced = 0
            elif mode == _SCAN_UNKNOWN:
                if j < len(ucands):
                    u = ucands[j]
                    if placed[u] or u_inv[u] > blocker_time:
                        j += 1
                        continue
                    if u_code[u] == _R_WRITE:
                        valid = run < 0
                        new_state = u_a[u]
                    else:  # an unknown cas that took effect succeeded
                        valid = state == u_a[u]
                        new_state = u_b[u]
                    if valid:
                        new_ub = ub | (1 << u)
                        new_run = state if run < 0 else run
                        for key in ((low, bits, new_state, -1), (low, bits, new_state, new_run)):
                            seen = failed.get(key)
                            if seen is not None:
                                for f in seen:
                                    if f & new_ub == f:
                                        valid = False
                                        break
                    if not valid:
                        j += 1
                        continue
                    stack.append(
                        (-1 - u, state, low, bits, ub, run, blocker_time, ucands, j, late)
                    )
                    placed[u] = True
                    unknown_left -= 1
                    ub = new_ub
                    state = new_state
                    run = new_run
                    mode = _FRESH
                elif late:
                    mode = _DEAD
                else:
                    entry = nxt[head]
                    mode = _SCAN_OK
                continue
            else:
                # Dead end: nothing can be placed next.
                failed.setdefault((low, bits, state, run), []).append(ub)
                if explain and run < 0:
                    progress = len(self.ok_ops) - remaining
                    if progress > best:
                        best = progress
                        self._record(stack, state, placed)
                if not stack:
                    return NOT_LINEARIZABLE
                idx, state, low, bits, ub, run, blocker_time, ucands, j, late = stack.pop()
                if idx < 0:
                    placed[-1 - idx] = False
                    unknown_left += 1
                    j += 1
                    mode = _SCAN_UNKNOWN
                else:
                    r = ret_entry[e_op[idx]]  # relink in the reverse order of unlinking
                    nxt[prv[r]] = r
                    prv[nxt[r]] = r
                    nxt[prv[idx]] = idx
                    prv[nxt[idx]] = idx
                    remaining += 1
                    if j < 0:
                        mode = _DEAD  # a forced placement failed: so does its parent
                    else:
                        entry = nxt[idx]
                        mode = _SCAN_OK
                continue

            # Place completed op i (call entry e) unless the result is known to fail.
            offset = i - low
            new_bits = bits | (1 << offset)
            new_low = low
            if offset == 0:
                shift = (new_bits ^ (new_bits + 1)).bit_length() - 1
                new_low += shift
                new_bits >>= shift
            seen = failed.get((new_low, new_bits, new_state, -1))
            if seen is not None:
                dominated = False
                for f in seen:
                    if f & ub == f:
                        dominated = True
                        break
                if dominated:
                    if forced:
                        mode = _DEAD
                    continue
            stack.append((e, state, low, bits, ub, run, blocker_time, ucands, forced, late))
            x, y = prv[e], nxt[e]
            nxt[x] = y
            prv[y] = x
            r = ret_entry[i]
            x, y = prv[r], nxt[r]
            nxt[x] = y
            prv[y] = x
            low = new_low
            bits = new_bits
            state = new_state
            run = -1
            remaining -= 1
            if remaining == 0:
                return LINEARIZABLE
            mode = _FRESH

    def _record(self, stack: list[_Frame], state: int, placed: list[bool]) -> None:
        """Remembers the current dead end as the deepest one found."""
        self.best_prefix = [
            self.unknown_ops[-1 - frame[0]] if frame[0] < 0 else self.ok_ops[self.e_op[frame[0]]]
            for frame in stack
        ]
        self.best_state = state
        candidates: list[tuple[Op, int, int, int]] = []
        entry = self.nxt[self.head]
        while self.e_call[entry]:
            i = self.e_op[entry]
            candidates.append((self.ok_ops[i], self.o_code[i], self.o_a[i], self.o_b[i]))
            entry = self.nxt[entry]
        self.best_blocker = self.ok_ops[self.e_op[entry]] if entry < self.head else None
        blocker_time = self.e_time[entry]
        hidden = 0
        for u, op in enumerate(self.unknown_ops):
            if placed[u] or op.invoke > blocker_time:
                continue
            if len(candidates) >= _CANDIDATES_SHOWN:
                hidden += 1
                continue
            candidates.append((op, self.u_code[u], self.u_a[u], self.u_b[u]))
        self.best_candidates = candidates
        self.best_hidden = hidden

    def explain(self) -> str:
        """Describes the deepest dead end recorded by an explaining search."""
        show = self.values.originals
        prefix = self.best_prefix
        held = show[self.best_state]
        n_ok = sum(1 for op in prefix if op.outcome == OK)
        n_unknown = len(prefix) - n_ok
        lines = [
            f"key {self.key!r} is not linearizable ({len(self.ok_ops)} completed and "
            f"{len(self.unknown_ops)} unknown-outcome ops on it).",
        ]
        if prefix:
            lines.append(
                f"The longest linearizable prefix found places {n_ok} of {len(self.ok_ops)} "
                f"completed ops (and {n_unknown} unknown-outcome ops); the register then holds "
                f"{held!r}. Its last ops, in linearization order:"
            )
            if len(prefix) > _PREFIX_SHOWN:
                lines.append(f"  ... {len(prefix) - _PREFIX_SHOWN} earlier ops")
            lines.extend(f"  {_describe(op)}" for op in prefix[-_PREFIX_SHOWN:])
        else:
            lines.append("Not even the first op can be placed; the register starts as None.")
        blocker = self.best_blocker
        if blocker is not None:
            lines.append(
                f"No op can be placed next. {_describe(blocker)} completed at "
                f"{_fmt_time(blocker.complete)}, so it must take effect before any op invoked "
                "after that, but none of the ops that may go next fits:"
            )
        else:
            lines.append("No op can be placed next; the ops that may go next:")
        for op, code, a, b in self.best_candidates:
            if _apply(code, a, b, self.best_state) >= 0:
                why = "it can be placed, but then the remaining ops cannot all be placed"
            elif code == _R_READ:
                why = f"it read {show[a]!r}, but the register holds {held!r}"
            elif code == _R_CAS_FAILED:
                why = f"it failed, but the register holds the expected {held!r}"
            else:
                why = f"it needs {show[a]!r}, but the register holds {held!r}"
            lines.append(f"  {_describe(op)}: {why}")
        if self.best_hidden:
            lines.append(f"  ... and {self.best_hidden} more unknown-outcome ops")
        return "\n".join(lines)
