"""The controller's side of a worker process (see :mod:`dragonboat.systest.worker`):
spawn it, send requests with IDs, match the answers, kill or stop it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import IO, Any


class NotSent(Exception):
    """The request was not sent: the worker is not running (it was never queued)."""


class WorkerLost(Exception):
    """The request was sent but no answer came (the worker died or hung): outcome unknown."""


class WorkerError(Exception):
    """The worker answered with an error."""

    def __init__(self, error: str, temporary: bool, msg: str) -> None:
        super().__init__(f"{error}: {msg}")
        self.error = error
        self.temporary = temporary


class WorkerProcess:
    """One worker process: ``call`` sends a request and waits for its answer;
    any number of threads may call at once."""

    def __init__(self, index: int, settings: dict[str, Any], log_path: str,
                 on_exit: Callable[[WorkerProcess], None] | None = None, *,
                 module: str = "dragonboat.systest.worker",
                 prefix: list[str] | None = None) -> None:
        """Spawns ``python -m module SETTINGS_JSON`` (after the command ``prefix``,
        e.g. ``ip netns exec NS``, which must exec the program in its own place so
        that signals sent to :attr:`pid` reach the worker)."""
        self.index = index
        self.on_exit = on_exit
        self.settings = settings
        self.log_path = log_path
        self._pending: dict[int, Future[dict[str, Any]]] = {}
        self._next_id = 1
        self._lock = threading.Lock()
        self._ready: Future[dict[str, Any]] = Future()
        self._dead = False
        self.expected_exit = False
        self._log: IO[bytes] = open(log_path, "ab")  # closed in wait()
        self.proc = subprocess.Popen(
            [*(prefix or []), sys.executable, "-m", module, json.dumps(settings)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
            bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name=f"systest-worker-{index}-reader")
        self._reader.start()

    def wait_ready(self, timeout: float) -> None:
        """Waits until the NodeHost runs; RuntimeError if it does not start in time."""
        try:
            self._ready.result(timeout)
        except (FutureTimeout, WorkerLost) as e:
            self.kill()
            raise RuntimeError(f"worker {self.index} did not start (see {self.log_path})") from e

    @property
    def pid(self) -> int:
        """The process ID."""
        return self.proc.pid

    def alive(self) -> bool:
        """Whether the process runs and answers."""
        return not self._dead and self.proc.poll() is None

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue  # not ours (a stray print)
            if msg.get("ready"):
                self._ready.set_result(msg)
                continue
            with self._lock:
                fut = self._pending.pop(msg.get("id", -1), None)
            if fut is not None and not fut.done():
                fut.set_result(msg)
        with self._lock:
            self._dead = True
            pending, self._pending = self._pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(WorkerLost(f"worker {self.index} exited"))
        if not self._ready.done():
            self._ready.set_exception(WorkerLost(f"worker {self.index} exited"))
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass  # it closed stdout but runs on: kill() or quit() deal with it
        if self.on_exit is not None:
            self.on_exit(self)

    def status(self) -> str:
        """How the process ended, e.g. ``exit status 0`` or ``killed by SIGTERM``."""
        code = self.proc.poll()
        if code is None:
            return "running"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit status {code}"

    def call(self, op: str, wait: float, **args: Any) -> dict[str, Any]:
        """Sends ``op`` and waits up to ``wait`` seconds for the answer.

        Raises :class:`NotSent`, :class:`WorkerLost` (sent, unanswered) or
        :class:`WorkerError` (the worker's error).
        """
        fut: Future[dict[str, Any]] = Future()
        with self._lock:
            if self._dead:
                raise NotSent(f"worker {self.index} is not running")
            rid = self._next_id
            self._next_id += 1
            self._pending[rid] = fut
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps({"id": rid, "op": op, **args}) + "\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError) as e:
                self._pending.pop(rid, None)
                raise NotSent(f"worker {self.index}: {e}") from e
        try:
            msg = fut.result(wait)
        except FutureTimeout as e:
            with self._lock:
                self._pending.pop(rid, None)
            raise WorkerLost(f"worker {self.index}: no answer to {op} in {wait:.1f} s") from e
        if not msg.get("ok"):
            raise WorkerError(str(msg.get("error")), bool(msg.get("temporary")),
                              str(msg.get("msg")))
        return msg

    def kill(self) -> None:
        """SIGKILL, and wait for the process."""
        self.expected_exit = True
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.wait()

    def quit(self, timeout: float = 30.0) -> None:
        """Stops the NodeHost cleanly (kill -9 when that takes longer than ``timeout``)."""
        self.expected_exit = True
        if self.proc.poll() is None:
            try:
                self.call("quit", timeout)
            except (NotSent, WorkerLost, WorkerError):
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.wait()

    def wait(self) -> None:
        """Reaps the process and closes its pipes and log."""
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._reader.join(10)  # it sees the end of stdout before its pipe is closed
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f is not None:
                    f.close()
            except (OSError, ValueError):
                pass
        self._log.close()

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the worker's stderr log."""
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""
