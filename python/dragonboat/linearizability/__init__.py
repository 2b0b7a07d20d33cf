"""A linearizability checker for histories of key/value register operations.

A *history* is what clients observed while they ran operations against a
store: for every operation, who ran it, what it was, what it returned, and the
real-time window ``[invoke, complete]`` in which it ran. The history is
*linearizable* when every operation can be given one instant inside its window
(its linearization point) such that running the operations one at a time in
the order of those instants, against a single copy of the data, produces
exactly the results the clients saw.

Each key is a register with these semantics:

- a ``read`` returns the register's value, ``None`` if nothing was written yet;
- a ``write`` sets the value;
- a ``cas`` with ``value == (expected, new)`` succeeds iff the value equals
  ``expected``, and then sets it to ``new``; a failed ``cas`` changes nothing.

Values are compared with ``==`` after lists, tuples, dicts and sets are turned
into hashable equivalents (so a list and a tuple with equal items are equal,
which keeps a JSON round trip harmless).

Operation outcomes:

- ``"ok"``: the client got an answer. The operation took effect exactly once,
  inside its window, and ``output`` is what it returned.
- ``"fail"``: the operation is known not to have taken effect (for example the
  store rejected it before doing anything). It is ignored.
- ``"unknown"``: the client gave up (timeout, lost connection) without
  learning what happened. A write or cas may have taken effect at any time
  after ``invoke`` - even long after the client gave up - or never. Its
  ``complete`` time is ignored and treated as infinite. An unknown read
  constrains nothing and is ignored.

How the check works
-------------------
Linearizability is compositional (Herlihy & Wing, 1990): a history is
linearizable iff its restriction to each key is. :func:`check` therefore splits
the history by key and checks each key on its own.

Each key is checked with the search of Wing & Gong (1993) made practical by
Lowe's memoization (2017). The completed operations' call and return events
are kept in a doubly-linked list sorted by time. Every operation whose call
comes before the first remaining return event may be linearized next, if the
register allows it; linearizing an operation unlinks its events and descends.
When nothing can go next the order so far is a dead end, and the search
backtracks (relinking the events). The search is iterative, with an explicit
stack, so long histories do not hit Python's recursion limit. Every
configuration - (set of linearized operations, register value) - from which
the search failed is remembered and never explored again.

Unknown operations have no return event, so they never force anything; the
search succeeds as soon as every completed operation is linearized. A few
reductions keep the search small; each one skips only orders for which an
equivalent order is explored:

- An operation that leaves the register unchanged (a read, a failed cas) and
  fits the current value is linearized at once, with no alternatives tried:
  any order that places it later stays valid with it moved forward.
- An unknown operation is only placed where it makes a difference: the
  completed operation that follows a run of unknown operations must behave
  differently after the run than before it (otherwise moving it in front of
  the run, or dropping the run, is equivalent). So unknown operations are only
  tried where a candidate needs the value they leave, or a failed cas needs
  the value to change, and never right before a blind write.
- A configuration that placed a superset of the unknown operations of a failed
  configuration, with the same completed operations and register value, fails
  too: the smaller one could have placed the extra operations itself.
- The set of linearized completed operations is stored relative to the
  earliest one not yet linearized, so memo keys stay as small as the
  history's concurrency however long the history is.

The problem is NP-complete in general: histories where dozens of clients hit
one key concurrently can exhaust the time budget, in which case the verdict
is undecided rather than wrong.

Two operations whose windows merely touch (one completes at the instant the
other is invoked) are treated as concurrent.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from dragonboat.linearizability.history import (
    CAS,
    FAIL,
    OK,
    READ,
    UNKNOWN,
    WRITE,
    Op,
    Verdict,
    dump_history,
    load_history,
    validate,
)
from dragonboat.linearizability.search import NOT_LINEARIZABLE, TIMED_OUT, KeyProblem

__all__ = ["CAS", "FAIL", "OK", "READ", "UNKNOWN", "WRITE", "Op", "Verdict", "check",
           "dump_history", "load_history"]


def check(history: Iterable[Op], *, time_budget: float = 60.0) -> Verdict:
    """Checks whether ``history`` is linearizable for per-key registers.

    Args:
        history: The operations, in any order.
        time_budget: Seconds the whole check may take. When it runs out the
            verdict is undecided (``ok is None``), unless a key had already
            been found not linearizable.

    Returns:
        A :class:`Verdict`. The check stops at the first key that is not
        linearizable.

    Raises:
        ValueError: If an operation is malformed (unknown kind or outcome, a
            cas value that is not a pair, a cas output that is not a bool or
            ``None``, a completed operation with ``complete < invoke`` or an
            infinite ``complete``).
        TypeError: If a value cannot be made hashable.
    """
    start = time.monotonic()
    deadline = start + time_budget
    by_key: dict[str, list[Op]] = {}
    for op in history:
        validate(op)
        by_key.setdefault(op.key, []).append(op)

    problems = [KeyProblem(key, ops) for key, ops in by_key.items()]
    n_ops = sum(p.size for p in problems)
    dropped = sum(p.dropped for p in problems)
    dropped_note = f" ({dropped} failed ops and unknown reads ignored)" if dropped else ""

    def verdict(ok: bool | None, failed_key: str | None, explanation: str) -> Verdict:
        return Verdict(
            ok=ok,
            keys=len(problems),
            ops=n_ops,
            failed_key=failed_key,
            explanation=explanation,
            elapsed=time.monotonic() - start,
        )

    for done, problem in enumerate(problems):
        result = problem.search(deadline, explain=False)
        if result == TIMED_OUT:
            return verdict(
                None,
                None,
                f"undecided: the time budget of {time_budget:g}s ran out while checking key "
                f"{problem.key!r} ({problem.size} ops); {done} of {len(problems)} keys "
                f"were linearizable before that{dropped_note}",
            )
        if result == NOT_LINEARIZABLE:
            # Search again, recording the deepest dead end: cheap compared with the
            # failed search, and it keeps the common (successful) path lean.
            if problem.search(deadline, explain=True) == NOT_LINEARIZABLE:
                explanation = problem.explain()
            else:
                explanation = (
                    f"key {problem.key!r} is not linearizable ({problem.size} ops); the time "
                    "budget ran out while collecting details"
                )
            return verdict(False, problem.key, explanation)
    return verdict(
        True,
        None,
        f"linearizable: {n_ops} ops over {len(problems)} keys{dropped_note}",
    )
