"""One node of the linearizability test: a NodeHost serving the register store.

``python -m dragonboat.lintest.server SETTINGS_JSON`` is a system-test worker
(:mod:`dragonboat.systest.worker`: JSON requests on stdin, answers on stdout;
client sessions live here) that also starts the register store (``kind`` =
``"kv"``, :class:`~dragonboat.lintest.kv.KVStore`) and answers ``get``. Writes
go through the worker's ``propose`` with a store command, in a client session.

``inject = "stale-read"`` makes ``get`` a local read of whatever this replica
has applied (``stale_read``) instead of a linearizable one: a bug the test
must catch.
"""

from __future__ import annotations

import random
import sys
from typing import Any

from dragonboat import NodeHost
from dragonboat.lintest.kv import KVStore
from dragonboat.systest import worker

INJECTED_BUGS = ("stale-read",)
"""The bugs a server can fake to prove the checker sees them."""


class KVWorker(worker.Worker):
    """The system-test worker plus the register store."""

    def __init__(self, nh: NodeHost, directory: str, inject: str | None = None) -> None:
        super().__init__(nh, directory, inject)
        # Session handles start at a random number: a client still holding a
        # handle of this node's previous process must not reach another
        # client's session in this one.
        self._next_session = random.SystemRandom().randrange(1, 1 << 48)

    def op_start(self, req: dict[str, Any]) -> dict[str, Any]:
        """Starts a replica; ``kind="kv"`` is the register store, others as the worker's."""
        if req.get("kind") != "kv":
            return super().op_start(req)
        members = {int(k): v for k, v in req.get("members", {}).items()}
        self.nh.start_cluster(members, bool(req.get("join", False)),
                              lambda c, n: KVStore(), worker.replica_config(req))
        return {}

    def op_get(self, req: dict[str, Any]) -> dict[str, Any]:
        """Reads register ``key``: ``value`` is None when the key is absent."""
        cluster, query = int(req["cluster"]), "get:" + str(req["key"])
        if self.inject == "stale-read":
            answer = self.nh.stale_read(cluster, query)
        else:
            answer = self.nh.sync_read(cluster, query, float(req["timeout"]))
        text = bytes(answer).decode()
        return {"value": text if text else None}

    def op_applied(self, req: dict[str, Any]) -> dict[str, Any]:
        """How many times each command was applied, as this replica has applied them."""
        answer = self.nh.stale_read(int(req["cluster"]), "applied")
        return {"applied": bytes(answer).decode()}


if __name__ == "__main__":
    sys.exit(worker.main(sys.argv[1:], KVWorker))
