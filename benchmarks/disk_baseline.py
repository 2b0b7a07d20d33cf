"""The disk's own figures, measured in the same run as a benchmark.

The same three numbers, measured the same way, as nodehost_bench's
"baseline:" line: the mean time of a 64 B write + fdatasync (overwriting one
block, and appending), and the bandwidth of 128 MiB appended in 1 MiB writes,
each fdatasync'd (about what one large LogDB save does). A benchmark's figure
means little without them: this VM's fdatasync varies 4x from hour to hour.
"""

from __future__ import annotations

import ctypes
import os
import tempfile
import time


def fdatasync_us(directory: str, append: bool = False, n: int = 200) -> float:
    """Mean microseconds of one 64 B pwrite + fdatasync in `directory`."""
    path = os.path.join(directory, "dragonboat-bench-fsync")
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    buf = bytes(64)
    try:
        t0 = time.perf_counter()
        for i in range(n):
            os.pwrite(fd, buf, i * len(buf) if append else 0)
            os.fdatasync(fd)
        return (time.perf_counter() - t0) / n * 1e6
    finally:
        os.close(fd)
        os.unlink(path)


def sequential_mb_per_s(directory: str, mib: int = 128) -> float:
    """MB/s of `mib` 1 MiB writes to one file, each followed by fdatasync."""
    path = os.path.join(directory, "dragonboat-bench-seq")
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    buf = os.urandom(1 << 20)  # incompressible, in case the device compresses
    try:
        t0 = time.perf_counter()
        for _ in range(mib):
            os.write(fd, buf)
            os.fdatasync(fd)
        return mib * len(buf) / (time.perf_counter() - t0) / 1e6
    finally:
        os.close(fd)
        os.unlink(path)


def allocator() -> str:
    """The malloc this process runs with: glibc, or one preloaded (LD_PRELOAD)."""
    libc = ctypes.CDLL(None)
    known = (("mallctl", "jemalloc"), ("tc_malloc", "tcmalloc"), ("mi_malloc", "mimalloc"))
    for symbol, name in known:
        if hasattr(libc, symbol):
            return name
    return "glibc"


def baseline_line(directory: str | None = None, with_malloc: bool = True) -> str:
    """nodehost_bench's "baseline:" line, for `directory` (the temp dir);
    with_malloc=False leaves out this process's allocator (when the measured
    processes are others, which print their own)."""
    d = directory or tempfile.gettempdir()
    line = (f"baseline: fdatasync of 64 B on {d}: {fdatasync_us(d):.0f} us (overwrite), "
            f"{fdatasync_us(d, append=True):.0f} us (append); sequential writes, 1 MiB per "
            f"fdatasync: {sequential_mb_per_s(d):.0f} MB/s")
    return line + (f"; malloc: {allocator()}" if with_malloc else "")
