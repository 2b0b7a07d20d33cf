"""The replicated register store the linearizability test drives.

Each key is a register holding a string. Commands are JSON objects: ``{"id": ID,
"op": "put", "k": KEY, "v": VALUE}`` or ``{"id": ID, "op": "cas", "k": KEY,
"e": EXPECTED, "v": VALUE}`` (``e`` may be null: "the key is absent"). ``ID`` is
unique per operation the client invokes, so the store can tell how many times
each operation was applied.

Like the checker state machines (:mod:`dragonboat.checker`) the store is
deliberately not idempotent: it keeps ``count`` (commands applied) and a hash
chain over ``count`` and the command bytes, so replicas that applied a command
twice, skipped one or applied them in another order end with different
``(count, hash)``.

Lookups: ``b"get:" + key`` -> the value, or ``b""`` when the key is absent (the
test never writes empty values); ``b"state"`` -> ``b"<count> <hash> <keys>"``;
``b"applied"`` -> JSON ``{id: times}`` of every command applied.
"""

from __future__ import annotations

import json
from typing import Any

from dragonboat.checker import FNV_OFFSET, fnv1a64
from dragonboat.statemachine import Result, SnapshotReader, SnapshotWriter, StateMachine

CAS_FAILED = 0
"""``Result.value`` of a compare-and-set whose expected value did not match."""

APPLIED = 1
"""``Result.value`` of a put, and of a compare-and-set that matched."""


class KVStore(StateMachine):
    """Registers with a count and a hash chain (see the module docstring)."""

    def __init__(self) -> None:
        self.kv: dict[str, str] = {}
        self.count = 0
        self.hash = FNV_OFFSET
        self.applied: dict[str, int] = {}

    def update(self, cmd: bytes) -> Result:
        """Applies one put or compare-and-set; a malformed command changes only the chain."""
        self.count += 1
        self.hash = fnv1a64(self.count.to_bytes(8, "little") + cmd, self.hash)
        try:
            c = json.loads(cmd)
            op, key, value, oid = c["op"], str(c["k"]), str(c["v"]), str(c["id"])
        except (ValueError, KeyError, TypeError):
            return Result(CAS_FAILED)
        self.applied[oid] = self.applied.get(oid, 0) + 1
        if op == "put" or (op == "cas" and self.kv.get(key) == c.get("e")):
            self.kv[key] = value
            return Result(APPLIED)
        return Result(CAS_FAILED)

    def lookup(self, query: Any) -> bytes:
        """Answers ``get:KEY``, ``state`` and ``applied`` (see the module docstring)."""
        q = query.decode() if isinstance(query, (bytes, bytearray)) else str(query)
        if q.startswith("get:"):
            return self.kv.get(q[4:], "").encode()
        if q == "state":
            return f"{self.count} {self.hash} {len(self.kv)}".encode()
        if q == "applied":
            return json.dumps(self.applied).encode()
        return b""

    def get_hash(self) -> int:
        """The hash chain (equal on replicas that applied the same commands)."""
        return self.hash

    def save_snapshot(self, writer: SnapshotWriter) -> None:
        """Writes the whole state as one JSON document."""
        writer.write(json.dumps({"count": self.count, "hash": self.hash, "kv": self.kv,
                                 "applied": self.applied}).encode())

    def recover_from_snapshot(self, reader: SnapshotReader) -> None:
        """Replaces the state with the snapshot's."""
        chunks = []
        while True:
            chunk = reader.read(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        s = json.loads(b"".join(chunks))
        self.count, self.hash = int(s["count"]), int(s["hash"])
        self.kv = {str(k): str(v) for k, v in s["kv"].items()}
        self.applied = {str(k): int(v) for k, v in s["applied"].items()}
