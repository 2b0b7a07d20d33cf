"""The checker state machines (dragonboat.checker): the hash protocol shared
with the C++ plugin, its sensitivity to double applies, skips and reorders,
snapshot round trips of each kind and the on-disk kind's durable state."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dragonboat import Entry
from dragonboat.checker import (
    FNV_OFFSET,
    Checker,
    CheckerState,
    ConcurrentChecker,
    OnDiskChecker,
    fnv1a64,
    parse_state,
)


class Writer(io.BytesIO):
    """A SnapshotWriter over memory."""

    def stopped(self) -> bool:
        return False


class Reader(io.BytesIO):
    """A SnapshotReader over memory."""

    def stopped(self) -> bool:
        return False


def reference_hash(cmds: list[bytes]) -> int:
    """The protocol written out independently: per command, FNV-1a 64 over the
    new count's 8 little-endian bytes, then over the command's bytes."""
    h = 0xCBF29CE484222325
    for count, cmd in enumerate(cmds, 1):
        for b in count.to_bytes(8, "little") + cmd:
            h ^= b
            h = (h * 0x100000001B3) % 2**64
    return h


def applied(cmds: list[bytes]) -> Checker:
    sm = Checker()
    for c in cmds:
        sm.update(c)
    return sm


CMDS = [b"c0-1", b"c0-2", b"c1-1", b"", b"x" * 100]


def test_fnv1a64_known_values() -> None:
    assert fnv1a64(b"") == FNV_OFFSET == 0xCBF29CE484222325
    assert fnv1a64(b"a") == 0xAF63DC4C8601EC8C  # the published FNV-1a 64 test vector
    assert fnv1a64(b"foobar") == 0x85944171F73967E8


def test_hash_of_a_known_sequence() -> None:
    sm = applied(CMDS)
    assert sm.count == len(CMDS)
    assert sm.get_hash() == sm.hash == reference_hash(CMDS)
    # Fixed once, so that the Python and C++ checkers cannot drift together.
    assert applied([b"a", b"b"]).get_hash() == reference_hash([b"a", b"b"])
    assert sm.lookup(b"state") == f"{len(CMDS)} {reference_hash(CMDS)} {len(CMDS)}".encode()


def test_update_returns_the_count_and_lookups_answer_bytes() -> None:
    sm = Checker()
    assert [sm.update(c) for c in (b"a", b"b", b"a")] == [1, 2, 3]
    assert parse_state(sm.lookup("state")) == (3, sm.hash, 2)
    assert sm.lookup(b"applied:a") == b"2"
    assert sm.lookup("applied:b") == b"1"
    assert sm.lookup(b"applied:never") == b"0"
    assert sm.lookup(b"nonsense") == b""
    assert sm.applied == {b"a": 2, b"b": 1}


@pytest.mark.parametrize("bad", [
    CMDS[:2] + CMDS[1:],              # a double apply
    CMDS[:2] + CMDS[3:],              # a skipped command
    [CMDS[1], CMDS[0]] + CMDS[2:],    # a reorder
])
def test_double_apply_skip_and_reorder_change_the_hash(bad: list[bytes]) -> None:
    good = applied(CMDS)
    wrong = applied(bad)
    assert wrong.get_hash() != good.get_hash()
    # Even at an equal count (a skip plus a double apply) the hash tells.
    compensated = applied(CMDS[:2] + CMDS[1:2] + CMDS[3:])
    assert compensated.count == good.count
    assert compensated.get_hash() != good.get_hash()


def test_state_encoding_round_trips_and_rejects_damage() -> None:
    s = CheckerState()
    for c in CMDS + [b"\x00\xff binary"]:
        s.apply(c)
    s.index = 77
    data = s.encode()
    assert CheckerState.decode(data) == s
    for damaged in (data[:-1], data + b"\x00", data[:10]):
        with pytest.raises(ValueError):
            CheckerState.decode(damaged)


def test_regular_snapshot_round_trip() -> None:
    sm = applied(CMDS)
    w = Writer()
    sm.save_snapshot(w)
    other = Checker()
    other.recover_from_snapshot(Reader(w.getvalue()))
    assert (other.count, other.hash, other.applied) == (sm.count, sm.hash, sm.applied)
    # Both go on identically.
    assert other.update(b"next") == sm.update(b"next")
    assert other.get_hash() == sm.get_hash()


def test_regular_save_delay_is_taken_before_the_state_is_read() -> None:
    class Late(Writer):
        def __init__(self, sm: Checker) -> None:
            super().__init__()
            self.sm = sm
            self.calls = 0

        def stopped(self) -> bool:
            self.calls += 1
            if self.calls == 1:  # an update "during" the save, as a buggy engine would do
                self.sm.update(b"during")
            return False

    sm = Checker(save_delay=0.01)
    sm.update(b"before")
    w = Late(sm)
    sm.save_snapshot(w)
    restored = Checker()
    restored.recover_from_snapshot(Reader(w.getvalue()))
    assert restored.count == 2, "the saved state is read after the delay (so a bug shows)"


def entries(cmds: list[bytes], first: int = 1) -> list[Entry]:
    return [Entry(first + i, c) for i, c in enumerate(cmds)]


def test_concurrent_snapshot_is_a_real_copy() -> None:
    sm = ConcurrentChecker(save_delay=0.001)
    batch = entries(CMDS)
    sm.update(batch)
    assert [e.result for e in batch] == list(range(1, len(CMDS) + 1))
    ctx = sm.prepare_snapshot()
    sm.update(entries([b"after the prepare"], len(CMDS) + 1))  # updates go on meanwhile
    w = Writer()
    sm.save_snapshot(ctx, w)
    restored = ConcurrentChecker()
    restored.recover_from_snapshot(Reader(w.getvalue()))
    assert restored.count == len(CMDS)
    assert restored.get_hash() == reference_hash(CMDS)
    assert restored.lookup(b"applied:after the prepare") == b"0"


def test_the_kinds_agree() -> None:
    regular = applied(CMDS)
    concurrent = ConcurrentChecker()
    concurrent.update(entries(CMDS))
    assert concurrent.lookup(b"state") == regular.lookup(b"state")


def test_on_disk_open_after_sync_returns_the_index(tmp_path: Path) -> None:
    d = str(tmp_path / "sm")
    sm = OnDiskChecker(d)
    assert sm.open(lambda: False) == 0
    sm.update(entries(CMDS[:3], first=10))
    sm.sync()
    sm.update(entries(CMDS[3:], first=13))  # applied, not synced: lost by a crash
    assert sm.index == 14
    again = OnDiskChecker(d)
    assert again.open(lambda: False) == 12
    assert again.count == 3
    assert again.get_hash() == reference_hash(CMDS[:3])
    assert not list(Path(d).glob("*.tmp"))


def test_on_disk_snapshot_round_trip_persists(tmp_path: Path) -> None:
    src = OnDiskChecker(str(tmp_path / "a"), save_delay=0.001)
    src.open(lambda: False)
    src.update(entries(CMDS, first=5))
    ctx = src.prepare_snapshot()
    w = Writer()
    src.save_snapshot(ctx, w)
    dst = OnDiskChecker(str(tmp_path / "b"))
    assert dst.open(lambda: False) == 0
    dst.recover_from_snapshot(Reader(w.getvalue()))
    assert (dst.index, dst.count, dst.hash) == (src.index, src.count, src.hash)
    reopened = OnDiskChecker(str(tmp_path / "b"))
    assert reopened.open(lambda: False) == src.index  # recover_from_snapshot made it durable
    assert reopened.lookup(b"state") == src.lookup(b"state")


def test_negative_save_delay_is_refused() -> None:
    with pytest.raises(ValueError):
        Checker(save_delay=-1)
