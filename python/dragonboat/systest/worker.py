"""One NodeHost of the system test in its own OS process.

``python -m dragonboat.systest.worker SETTINGS_JSON`` starts a NodeHost with
the settings (``dir``, ``address``, ``rtt``, ``cpp_save_delay_ms``,
``log_level``, ``busy_poll_us``), prints ``{"ready": true}`` and then serves JSON requests, one
per line on stdin: ``{"id": N, "op": NAME, ...}``. Each request runs in a
thread of its own, so several may be outstanding and answers (one JSON line
on stdout each, with the same ``id``) come in any order: ``{"id": N, "ok":
true, ...}`` or ``{"id": N, "ok": false, "error": CLASS, "temporary": BOOL,
"msg": TEXT}``. ``quit`` (or the end of stdin) stops the NodeHost and exits.

Client sessions live here (a session object cannot cross processes): the
controller names them by the handle ``get_session`` returns.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from dragonboat import Config, NodeHost, NodeHostConfig, SnapshotOption
from dragonboat.checker import Checker, ConcurrentChecker, OnDiskChecker
from dragonboat.errors import DragonboatError, is_temp_error
from dragonboat.nodehost import Session
from dragonboat.statemachine import SnapshotReader

KINDS = ("regular", "concurrent", "ondisk", "plugin")
"""The state machine kinds ``start`` accepts (``plugin``: the C++ checker plugin)."""

INJECTED_BUGS = ("double-apply", "stale-result")
"""Bugs a worker can fake (setting ``inject``) to prove the test sees them:
``double-apply``: a regular Python checker applies its newest command again
after recovering from a snapshot (what a snapshot holding state newer than its
index does on restart); ``stale-result``: the first proposal completed after a
replica restarted reports an older entry's result."""


class _DoubleApplyChecker(Checker):
    """A deliberately broken checker (``inject="double-apply"``)."""

    def recover_from_snapshot(self, reader: SnapshotReader) -> None:
        super().recover_from_snapshot(reader)
        newest = list(self.applied)[-1:]
        for cmd in newest:
            self.update(cmd)


def replica_config(req: dict[str, Any]) -> Config:
    """The replica configuration of a ``start`` request (``cluster``, ``node``, ``config``)."""
    c = req.get("config", {})
    return Config(node_id=int(req["node"]), cluster_id=int(req["cluster"]),
                  election_rtt=int(c.get("election_rtt", 10)),
                  heartbeat_rtt=int(c.get("heartbeat_rtt", 1)),
                  check_quorum=bool(c.get("check_quorum", False)),
                  snapshot_entries=int(c.get("snapshot_entries", 0)),
                  compaction_overhead=int(c.get("compaction_overhead", 0)),
                  is_observer=bool(c.get("is_observer", False)),
                  is_witness=bool(c.get("is_witness", False)))


class Worker:
    """Serves the controller's requests on one NodeHost."""

    def __init__(self, nh: NodeHost, directory: str, inject: str | None = None) -> None:
        self.nh = nh
        self.directory = directory
        self.inject = inject
        self._restarted: set[int] = set()  # groups restarted here (inject="stale-result")
        self._sessions: dict[int, Session] = {}
        self._next_session = 1
        self._lock = threading.Lock()
        self._out = threading.Lock()

    # ---- plumbing ----------------------------------------------------------------------

    def reply(self, msg: dict[str, Any]) -> None:
        """Writes one answer line (whole lines, whichever thread answers)."""
        line = json.dumps(msg) + "\n"
        with self._out:
            try:
                sys.stdout.write(line)
                sys.stdout.flush()
            except (BrokenPipeError, ValueError):
                pass  # the controller went away; the main loop sees stdin end

    def serve(self, req: dict[str, Any]) -> None:
        """Runs one request and answers it."""
        rid = req.get("id")
        try:
            handler: Callable[[dict[str, Any]], dict[str, Any]] = getattr(self, "op_" + req["op"])
            out = handler(req)
            out.update(id=rid, ok=True)
        except Exception as e:  # every failure goes back to the controller
            out = {"id": rid, "ok": False, "error": type(e).__name__,
                   "temporary": is_temp_error(e), "msg": str(e)}
        self.reply(out)

    def _session(self, handle: int, cluster: int) -> Session:
        if handle == 0:
            return self.nh.get_noop_session(cluster)
        with self._lock:
            s = self._sessions.get(handle)
        if s is None:
            raise KeyError(f"no session {handle}")
        return s

    # ---- groups ------------------------------------------------------------------------

    def op_start(self, req: dict[str, Any]) -> dict[str, Any]:
        """Starts a replica: ``cluster``, ``node``, ``members`` ({node: address}; {} to
        restart or join), ``join``, ``kind``, ``save_delay``, ``plugin``, ``config``."""
        members = {int(k): v for k, v in req.get("members", {}).items()}
        join = bool(req.get("join", False))
        cfg = replica_config(req)
        kind = req["kind"]
        delay = float(req.get("save_delay", 0.0))
        if kind == "regular":
            cls = _DoubleApplyChecker if self.inject == "double-apply" else Checker
            self.nh.start_cluster(members, join, lambda c, n: cls(delay), cfg)
        elif kind == "concurrent":
            self.nh.start_concurrent_cluster(members, join, lambda c, n: ConcurrentChecker(delay),
                                             cfg)
        elif kind == "ondisk":
            def make(c: int, n: int) -> OnDiskChecker:
                return OnDiskChecker(os.path.join(self.directory, "ondisk", f"{c}-{n}"), delay)

            self.nh.start_on_disk_cluster(members, join, make, cfg)
        elif kind == "plugin":
            self.nh.start_cluster(members, join, None, cfg, plugin=req["plugin"])
        else:
            raise ValueError(f"unknown kind {kind!r}")
        if not members and not join:
            with self._lock:
                self._restarted.add(cfg.cluster_id)
        return {}

    def op_stop_cluster(self, req: dict[str, Any]) -> dict[str, Any]:
        """Stops the local replica of ``cluster``."""
        self.nh.stop_cluster(int(req["cluster"]))
        return {}

    def op_remove_data(self, req: dict[str, Any]) -> dict[str, Any]:
        """Removes the data of a stopped, deleted node."""
        self.nh.remove_data(int(req["cluster"]), int(req["node"]))
        return {}

    def op_info(self, req: dict[str, Any]) -> dict[str, Any]:
        """The replicas running here."""
        info = self.nh.get_node_host_info(skip_log_info=True)
        return {"replicas": [{"cluster": c.cluster_id, "node": c.node_id,
                              "observer": c.is_observer, "witness": c.is_witness,
                              "leader": c.is_leader} for c in info.cluster_info]}

    def op_states(self, req: dict[str, Any]) -> dict[str, Any]:
        """``b"state"`` of every running non-witness replica (stale reads)."""
        out = []
        for c in self.nh.get_node_host_info(skip_log_info=True).cluster_info:
            if c.is_witness:
                continue
            try:
                answer = self.nh.stale_read(c.cluster_id, b"state")
            except DragonboatError:
                continue  # stopping, or not ready yet
            out.append({"cluster": c.cluster_id, "node": c.node_id,
                        "state": bytes(answer).decode()})
        return {"states": out}

    # ---- requests ----------------------------------------------------------------------

    def op_propose(self, req: dict[str, Any]) -> dict[str, Any]:
        """Proposes ``cmd`` through session ``session`` (0: the no-op session).

        ``outcome`` is ``ok`` (with ``value``), ``failed`` (never applied, now
        or later: refused by the call, or the request was dropped or rejected,
        as docs/python.md promises) or ``unknown`` (a timeout, a stop while it
        waited...), with ``code``. A session's ``proposal_completed`` is called
        after success.
        """
        cluster = int(req["cluster"])
        handle = int(req.get("session", 0))
        timeout = float(req["timeout"])
        try:
            s = self._session(handle, cluster)
            rs = self.nh.propose(s, req["cmd"].encode(), timeout)
        except (DragonboatError, KeyError) as e:
            return {"outcome": "failed", "code": type(e).__name__}
        r = rs.wait(timeout + 5.0)
        if r is None:
            return {"outcome": "unknown", "code": "no-completion"}
        if r.dropped() or r.rejected():
            return {"outcome": "failed", "code": r.code}
        if not r.completed():
            return {"outcome": "unknown", "code": r.code}
        value = r.get_result().value
        if handle:
            s.proposal_completed()
        if self.inject == "stale-result" and value > 2:
            with self._lock:
                stale = cluster in self._restarted
                self._restarted.discard(cluster)
            if stale:
                value -= 2
        return {"outcome": "ok", "value": value}

    def op_get_session(self, req: dict[str, Any]) -> dict[str, Any]:
        """Registers a client session; returns its ``handle``."""
        s = self.nh.sync_get_session(int(req["cluster"]), float(req["timeout"]))
        with self._lock:
            handle = self._next_session
            self._next_session += 1
            self._sessions[handle] = s
        return {"handle": handle}

    def op_close_session(self, req: dict[str, Any]) -> dict[str, Any]:
        """Unregisters and forgets session ``handle`` (forgotten even when that fails)."""
        with self._lock:
            s = self._sessions.pop(int(req["handle"]), None)
        if s is not None:
            self.nh.sync_close_session(s, float(req["timeout"]))
        return {}

    def op_read(self, req: dict[str, Any]) -> dict[str, Any]:
        """A linearizable read of ``query``."""
        answer = self.nh.sync_read(int(req["cluster"]), req["query"].encode(),
                                   float(req["timeout"]))
        return {"answer": bytes(answer).decode()}

    def op_stale_read(self, req: dict[str, Any]) -> dict[str, Any]:
        """Local reads of every query in ``queries``."""
        cluster = int(req["cluster"])
        answers = [bytes(self.nh.stale_read(cluster, q.encode())).decode()
                   for q in req["queries"]]
        return {"answers": answers}

    # ---- operations --------------------------------------------------------------------

    def op_membership(self, req: dict[str, Any]) -> dict[str, Any]:
        """The membership, linearizably."""
        m = self.nh.sync_get_cluster_membership(int(req["cluster"]), float(req["timeout"]))
        return {"ccid": m.config_change_id, "nodes": m.nodes, "observers": m.observers,
                "witnesses": m.witnesses, "removed": sorted(m.removed)}

    def op_change(self, req: dict[str, Any]) -> dict[str, Any]:
        """A membership change: ``kind`` node / observer / witness / delete."""
        cluster, node, timeout = int(req["cluster"]), int(req["node"]), float(req["timeout"])
        address = req.get("address", "")
        kind = req["kind"]
        if kind == "node":
            self.nh.sync_request_add_node(cluster, node, address, 0, timeout)
        elif kind == "observer":
            self.nh.sync_request_add_observer(cluster, node, address, 0, timeout)
        elif kind == "witness":
            self.nh.sync_request_add_witness(cluster, node, address, 0, timeout)
        elif kind == "delete":
            self.nh.sync_request_delete_node(cluster, node, 0, timeout)
        else:
            raise ValueError(f"unknown change {kind!r}")
        return {}

    def op_leader(self, req: dict[str, Any]) -> dict[str, Any]:
        """The leader as this replica knows it."""
        leader, valid = self.nh.get_leader_id(int(req["cluster"]))
        return {"leader": leader, "valid": valid}

    def op_transfer(self, req: dict[str, Any]) -> dict[str, Any]:
        """Asks for leadership to move to ``target``."""
        self.nh.request_leader_transfer(int(req["cluster"]), int(req["target"]))
        return {}

    def op_snapshot(self, req: dict[str, Any]) -> dict[str, Any]:
        """Requests a snapshot (``exported`` to ``export_path``); returns its ``index``."""
        opt = SnapshotOption(exported=bool(req.get("exported", False)),
                             export_path=req.get("export_path", ""),
                             override_compaction_overhead="overhead" in req,
                             compaction_overhead=int(req.get("overhead", 0)))
        index = self.nh.sync_request_snapshot(int(req["cluster"]), opt, float(req["timeout"]))
        return {"index": index}


def main(argv: list[str], worker_class: type[Worker] = Worker) -> int:
    """Runs one worker (an instance of ``worker_class``) until ``quit`` or the end of stdin."""
    # Ctrl-C reaches the whole process group: the controller stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    settings = json.loads(argv[0])
    directory = settings["dir"]
    os.makedirs(directory, exist_ok=True)
    cpp_dir = os.path.join(directory, "cpp-checker")
    os.makedirs(cpp_dir, exist_ok=True)
    os.environ["DRAGONBOAT_CHECKER_DIR"] = cpp_dir
    os.environ["DRAGONBOAT_CHECKER_SAVE_DELAY_MS"] = str(int(settings.get("cpp_save_delay_ms", 0)))
    logging.basicConfig(stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("dragonboat").setLevel(settings.get("log_level", "ERROR"))
    nh = NodeHost(NodeHostConfig(node_host_dir=directory, raft_address=settings["address"],
                                 rtt_millisecond=int(settings.get("rtt", 10)),
                                 busy_poll_microseconds=int(settings.get("busy_poll_us", 0))))
    worker = worker_class(nh, directory, settings.get("inject"))
    worker.reply({"ready": True, "pid": os.getpid()})
    quit_id = None
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        if req.get("op") == "quit":
            quit_id = req.get("id")
            break
        threading.Thread(target=worker.serve, args=(req,), daemon=True).start()
    # Told to quit, or the controller is gone: never outlive it by more than a minute.
    watchdog = threading.Timer(60.0, os._exit, args=(3,))
    watchdog.daemon = True
    watchdog.start()
    nh.stop()
    if quit_id is not None:
        worker.reply({"id": quit_id, "ok": True})
    sys.stdout.flush()
    os._exit(0)  # request threads may still be blocked in the stopped engine


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
