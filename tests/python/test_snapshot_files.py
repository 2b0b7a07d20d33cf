"""External snapshot files from Python (the reference's
ISnapshotFileCollection / SnapshotFile): ``save_snapshot(..., files)``
attaches files, ``recover_from_snapshot(reader, files)`` gets them back after
a restart, in order with their metadata; bad files fail the save; methods
without the parameter keep working."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from conftest import Hosts, retry

import dragonboat
from dragonboat import SnapshotFile, SnapshotFileCollection, SnapshotOption, errors
from dragonboat.checker import Checker, CheckerState, ConcurrentChecker
from dragonboat.statemachine import SnapshotReader, SnapshotWriter


class FileChecker(Checker):
    """A checker whose snapshot keeps the state in an external file (ID 7)
    plus an empty one (ID 2); the stream holds only a marker."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.saves = 0
        self.recovered: list[SnapshotFile] = []

    def save_snapshot(self, writer: SnapshotWriter,  # type: ignore[override]
                      files: SnapshotFileCollection) -> None:
        self.saves += 1
        path = self.directory / f"state-{self.saves}"
        with self._lock:
            path.write_bytes(self._state.encode())
        (self.directory / "empty").write_bytes(b"")
        files.add_file(7, str(path), b"checker-state")
        files.add_file(2, str(self.directory / "empty"))
        writer.write(b"files:2")

    def recover_from_snapshot(self, reader: SnapshotReader,  # type: ignore[override]
                              files: list[SnapshotFile]) -> None:
        assert reader.read() == b"files:2"
        assert [(f.file_id, f.metadata) for f in files] == [(7, b"checker-state"), (2, b"")]
        state = CheckerState.decode(Path(files[0].filepath).read_bytes())
        assert os.path.getsize(files[1].filepath) == 0
        with self._lock:
            self._state = state
        self.recovered = files


def test_files_come_back_after_a_restart(tmp_path: Path) -> None:
    h = Hosts(tmp_path, 1)
    config = dragonboat.Config(node_id=1, cluster_id=1, election_rtt=10)
    try:
        nh = h.start(0)
        sm = FileChecker(tmp_path / "sm-1")
        nh.start_cluster({1: h.addresses[0]}, False, lambda c, n: sm, config)
        session = nh.get_noop_session(1)
        want = CheckerState()
        first = nh

        def propose(cmd: bytes) -> None:
            retry(lambda: first.sync_propose(session, cmd, 5.0))
            want.apply(cmd)

        for i in range(50):
            propose(f"cmd-{i}".encode())
        assert nh.sync_request_snapshot(1, SnapshotOption(), 5.0) > 0
        nh.stop()
        for f in (tmp_path / "sm-1").iterdir():
            f.unlink()  # the snapshot holds its own copies
        nh = h.start(0)
        back = FileChecker(tmp_path / "sm-2")
        nh.start_cluster({}, False, lambda c, n: back, config)
        restarted = nh
        assert retry(lambda: restarted.sync_read(1, b"state", 5.0),
                     idempotent=True) == want.lookup(b"state")
        assert [f.file_id for f in back.recovered] == [7, 2]
        assert not any(os.path.exists(f.filepath) for f in back.recovered), \
            "the scratch copies exist only during the recovery"
    finally:
        h.stop()


class BadFiles(ConcurrentChecker):
    """Adds a file that is not there; its failure is the save's."""

    def __init__(self, tmp: Path) -> None:
        super().__init__()
        self.tmp = tmp
        self.error: BaseException | None = None

    def save_snapshot(self, context: Any, writer: SnapshotWriter,  # type: ignore[override]
                      files: SnapshotFileCollection) -> None:
        try:
            files.add_file(1, str(self.tmp / "missing"))
        except errors.DragonboatError as e:
            self.error = e
            raise errors.SnapshotAbortedError("no file") from e


def test_a_missing_file_is_refused_by_name(tmp_path: Path) -> None:
    h = Hosts(tmp_path, 1)
    try:
        nh = h.start(0)
        sm = BadFiles(tmp_path)
        nh.start_concurrent_cluster({1: h.addresses[0]}, False, lambda c, n: sm,
                                    dragonboat.Config(node_id=1, cluster_id=1, election_rtt=10))
        retry(lambda: nh.sync_propose(nh.get_noop_session(1), b"x", 5.0))
        try:
            nh.sync_request_snapshot(1, SnapshotOption(), 5.0)
            raise AssertionError("the save was aborted")
        except errors.CanceledError:
            pass
        assert isinstance(sm.error, errors.InvalidOperationError), sm.error
        assert "missing" in str(sm.error)
    finally:
        h.stop()
