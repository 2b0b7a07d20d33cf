"""Histories: :class:`Op` (one operation as a client saw it), :class:`Verdict`
(what :func:`dragonboat.linearizability.check` found) and their JSON-lines
files. See :mod:`dragonboat.linearizability` for the semantics."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

READ = "read"
"""The ``kind`` of a read: ``output`` is the value read (``None`` if absent)."""

WRITE = "write"
"""The ``kind`` of a write: ``value`` is the value written."""

CAS = "cas"
"""The ``kind`` of a compare-and-set: ``value`` is ``(expected, new)``."""

OK = "ok"
"""The ``outcome`` of an operation whose result the client received."""

FAIL = "fail"
"""The ``outcome`` of an operation known not to have taken effect."""

UNKNOWN = "unknown"
"""The ``outcome`` of an operation that may or may not have taken effect."""

_KINDS = frozenset((READ, WRITE, CAS))
_OUTCOMES = frozenset((OK, FAIL, UNKNOWN))


@dataclass
class Op:
    """One operation on one key, as a client observed it.

    Attributes:
        client: The id of the client (process) that ran the operation.
        kind: ``"read"``, ``"write"`` or ``"cas"``.
        key: The key (register) the operation is on.
        value: For a write, the value written; for a cas, ``(expected, new)``
            (a tuple or a two-element list); ``None`` for a read.
        output: For a read, the value read (``None`` if the key was absent);
            for a cas, ``True``/``False`` for success/failure when known
            (``None`` if the client did not learn it); ``None`` for a write.
        invoke: The time the client sent the operation.
        complete: The time the client received the result; ``math.inf`` when
            the outcome is unknown.
        outcome: ``"ok"``, ``"fail"`` or ``"unknown"`` (see the module
            documentation for what each means to the checker).
    """

    __slots__ = ("client", "kind", "key", "value", "output", "invoke", "complete", "outcome")

    client: int
    kind: str
    key: str
    value: Any
    output: Any
    invoke: float
    complete: float
    outcome: str

    def to_json(self) -> dict[str, Any]:
        """Returns a JSON-compatible dict; an infinite ``complete`` becomes ``None``."""
        value = self.value
        if self.kind == CAS and isinstance(value, tuple):
            value = list(value)
        return {
            "client": self.client,
            "kind": self.kind,
            "key": self.key,
            "value": value,
            "output": self.output,
            "invoke": self.invoke,
            "complete": None if math.isinf(self.complete) else self.complete,
            "outcome": self.outcome,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Op:
        """Builds an :class:`Op` from a dict made by :meth:`to_json`.

        A ``complete`` of ``None`` (or missing) becomes ``math.inf``; a cas
        ``value`` list becomes a tuple. ``value`` and ``output`` default to
        ``None`` and ``outcome`` to ``"ok"`` when missing.
        """
        kind = str(d["kind"])
        value = d.get("value")
        if kind == CAS and isinstance(value, list):
            value = tuple(value)
        complete = d.get("complete")
        return cls(
            client=int(d["client"]),
            kind=kind,
            key=str(d["key"]),
            value=value,
            output=d.get("output"),
            invoke=float(d["invoke"]),
            complete=math.inf if complete is None else float(complete),
            outcome=str(d.get("outcome", OK)),
        )


@dataclass
class Verdict:
    """The result of :func:`check`.

    Attributes:
        ok: ``True`` if the history is linearizable, ``False`` if it is not,
            ``None`` if the time budget ran out before a decision.
        keys: The number of distinct keys in the history.
        ops: The number of operations that took part in the check (``"fail"``
            operations and unknown reads are dropped and not counted).
        failed_key: The key found not linearizable (``None`` unless ``ok`` is
            ``False``).
        explanation: A human-readable account of the result; for a failure it
            shows the longest linearizable prefix found for ``failed_key`` and
            the operations that could not be placed after it.
        elapsed: Seconds the check took.
    """

    ok: bool | None
    keys: int
    ops: int
    failed_key: str | None
    explanation: str
    elapsed: float


def dump_history(ops: Iterable[Op], path: str | os.PathLike[str]) -> None:
    """Writes ``ops`` to ``path`` as JSON lines, one :meth:`Op.to_json` object a line."""
    with open(path, "w", encoding="utf-8") as f:
        for op in ops:
            f.write(json.dumps(op.to_json(), allow_nan=False))
            f.write("\n")


def load_history(path: str | os.PathLike[str]) -> list[Op]:
    """Reads a history written by :func:`dump_history` (blank lines are skipped)."""
    ops: list[Op] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                ops.append(Op.from_json(json.loads(line)))
    return ops


def validate(op: Op) -> None:
    """Raises ``ValueError`` if ``op`` is malformed."""
    if op.kind not in _KINDS:
        raise ValueError(f"unknown op kind {op.kind!r}: {op!r}")
    if op.outcome not in _OUTCOMES:
        raise ValueError(f"unknown op outcome {op.outcome!r}: {op!r}")
    if math.isnan(op.invoke) or math.isinf(op.invoke):
        raise ValueError(f"op invoke time must be finite: {op!r}")
    if op.outcome != UNKNOWN:
        if math.isnan(op.complete) or math.isinf(op.complete):
            raise ValueError(f"a completed op needs a finite complete time: {op!r}")
        if op.complete < op.invoke:
            raise ValueError(f"op completes before it is invoked: {op!r}")
    if op.kind == CAS:
        cas_args(op)
        if op.outcome == OK and op.output not in (True, False, None):
            raise ValueError(f"a cas output must be True, False or None: {op!r}")


def cas_args(op: Op) -> tuple[Any, Any]:
    """Returns ``(expected, new)`` of a cas op, or raises ``ValueError``."""
    value = op.value
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"a cas value must be a pair (expected, new): {op!r}")
    return value[0], value[1]
