"""An on-disk state machine backed by SQLite (an embedded store in the stdlib).

The state lives in the SQLite file; the applied index is stored in the same
transaction as the data, so after a restart ``open()`` reports it and the
NodeHost replays only later entries. Run: python examples/ondisk_sqlite.py
"""

from __future__ import annotations

import functools
import json
import socket
import sqlite3
import tempfile
from collections.abc import Callable
from typing import Any

import dragonboat
from dragonboat import Config, Entry, NodeHost, NodeHostConfig, OnDiskStateMachine


class SQLiteKV(OnDiskStateMachine):
    def __init__(self, path: str) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        assert self.db is not None, "open() first"
        return self.db

    def open(self, stopped: Callable[[], bool]) -> int:
        # Quick here; a store with a long recovery would poll stopped() and
        # raise dragonboat.errors.OpenStoppedError once it is true.
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db = self.db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY, applied INTEGER)")
        row = db.execute("SELECT applied FROM meta WHERE id = 0").fetchone()
        return int(row[0]) if row else 0

    def update(self, entries: list[Entry]) -> None:
        db = self._conn()
        db.execute("BEGIN")
        for e in entries:  # one transaction per batch: data and applied index together
            key, _, value = e.cmd.decode().partition("=")
            db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (key, value))
            e.result = e.index
        db.execute("INSERT OR REPLACE INTO meta VALUES (0, ?)", (entries[-1].index,))
        db.execute("COMMIT")

    def sync(self) -> None:
        pass  # every batch is committed with synchronous=FULL

    def lookup(self, query: Any) -> Any:
        row = self._conn().execute("SELECT v FROM kv WHERE k = ?", (query,)).fetchone()
        return row[0] if row else None

    def prepare_snapshot(self) -> Any:
        db = self._conn()
        applied = db.execute("SELECT applied FROM meta WHERE id = 0").fetchone()
        return (applied[0] if applied else 0, db.execute("SELECT k, v FROM kv").fetchall())

    def save_snapshot(self, context: Any, writer: dragonboat.SnapshotWriter) -> None:
        writer.write(json.dumps({"applied": context[0], "kv": context[1]}).encode())

    def recover_from_snapshot(self, reader: dragonboat.SnapshotReader) -> None:
        state = json.loads(reader.read())
        db = self._conn()
        db.execute("BEGIN")
        db.execute("DELETE FROM kv")
        db.executemany("INSERT INTO kv VALUES (?, ?)", state["kv"])
        db.execute("INSERT OR REPLACE INTO meta VALUES (0, ?)", (state["applied"],))
        db.execute("COMMIT")

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


def run_once(directory: str, address: str, writes: list[str]) -> tuple[int, Any]:
    store = f"{directory}/kv.sqlite"
    with NodeHost(NodeHostConfig(node_host_dir=f"{directory}/nodehost", raft_address=address,
                                 rtt_millisecond=20)) as nh:
        first = not nh.has_node_info(1, 1)
        nh.start_on_disk_cluster({1: address} if first else {}, False,
                                 lambda c, n: SQLiteKV(store), Config(node_id=1, cluster_id=1))
        s = nh.get_noop_session(1)
        for w in writes:
            dragonboat.retry(functools.partial(nh.sync_propose, s, w.encode(), 5.0))
        applied = sqlite3.connect(store).execute("SELECT applied FROM meta").fetchone()[0]
        return applied, nh.sync_read(1, "city", 5.0)


def main() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    with tempfile.TemporaryDirectory() as d:
        applied, city = run_once(d, address, ["city=Lisbon", "river=Tagus"])
        print(f"first run: applied index {applied} in SQLite, city={city}")
        applied, city = run_once(d, address, ["city=Porto"])
        print(f"after restart: applied index {applied} in SQLite, city={city}")


if __name__ == "__main__":
    main()
