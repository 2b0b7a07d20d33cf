"""dragonboat.retry never proposes a command again when the failure may have
applied it: fake calls raising the error classes, no NodeHost."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import dragonboat
from dragonboat import Session, _core, errors

# Temporary errors after which the command is guaranteed not applied.
NOT_APPLIED = [
    errors.ClusterNotReadyError,  # a sync_ call whose request was dropped; no leader yet
    errors.DroppedError,
    errors.SystemBusyError,
    errors.PendingConfigChangeExistError,
    errors.PendingSnapshotRequestExistError,
    errors.PendingLeaderTransferExistError,
    errors.ClusterNotInitializedError,
]


class FakeSession:
    """Stands for a dragonboat.Session."""

    def __init__(self, noop: bool = False) -> None:
        self.noop = noop
        self.series_id = 0 if noop else 5

    def is_noop(self) -> bool:
        return self.noop


def failing(*failures: Exception) -> tuple[Callable[[], str], list[int]]:
    """A call raising ``failures`` one per attempt, then returning "applied"."""
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return "applied"

    return fn, calls


@pytest.mark.parametrize("cls", NOT_APPLIED)
def test_a_failure_that_guarantees_not_applied_is_retried(cls: type[Exception]) -> None:
    fn, calls = failing(cls("dropped"), cls("dropped"))
    assert dragonboat.retry(fn, timeout=10.0, interval=0.0) == "applied"
    assert len(calls) == 3


def test_a_timed_out_noop_proposal_is_not_retried() -> None:
    fn, calls = failing(errors.ClusterNotReadyError("no leader"), errors.TimeoutError("late"))
    with pytest.raises(errors.TimeoutError):
        dragonboat.retry(fn, timeout=10.0, interval=0.0)
    assert len(calls) == 2, "the timed-out proposal may still be applied: no third call"


@pytest.mark.parametrize("error", [errors.TimeoutError("late"),
                                   errors.ClusterClosedError("terminated"),
                                   errors.TemporaryError("of unknown origin")])
def test_maybe_applied_temporary_errors_are_raised_at_once(error: Exception) -> None:
    fn, calls = failing(error)
    with pytest.raises(type(error)):
        dragonboat.retry(fn, timeout=10.0, interval=0.0)
    assert len(calls) == 1


@pytest.mark.parametrize("error", [errors.CanceledError("aborted"),
                                   errors.RejectedError("no session"),
                                   errors.PayloadTooBigError("too big")])
def test_errors_that_are_not_temporary_are_never_retried(error: Exception) -> None:
    modes: list[Callable[[Callable[[], str]], str]] = [
        lambda fn: dragonboat.retry(fn, timeout=10.0, interval=0.0),
        lambda fn: dragonboat.retry(fn, timeout=10.0, interval=0.0, idempotent=True),
        lambda fn: dragonboat.retry(fn, timeout=10.0, interval=0.0, session=FakeSession()),
    ]
    for mode in modes:
        fn, calls = failing(error)
        with pytest.raises(type(error)):
            mode(fn)
        assert len(calls) == 1


def test_with_a_registered_session_a_timeout_is_retried() -> None:
    session = FakeSession()
    fn, calls = failing(errors.TimeoutError("late"), errors.ClusterNotReadyError("dropped"),
                        errors.TimeoutError("late"))
    assert dragonboat.retry(fn, timeout=10.0, interval=0.0, session=session) == "applied"
    assert len(calls) == 4


def test_a_real_session_object_is_accepted() -> None:
    session = Session.new(1)  # registered by propose_session in real use
    assert not session.is_noop()
    fn, calls = failing(errors.TimeoutError("late"))
    assert dragonboat.retry(fn, timeout=10.0, interval=0.0, session=session) == "applied"
    assert len(calls) == 2


def test_the_noop_session_is_refused() -> None:
    fn, calls = failing(errors.TimeoutError("late"))
    with pytest.raises(ValueError, match="registered session"):
        dragonboat.retry(fn, timeout=10.0, interval=0.0, session=FakeSession(noop=True))
    assert calls == []


def test_a_session_advanced_between_attempts_is_not_retried() -> None:
    session = FakeSession()

    def fn() -> str:
        session.series_id += 1  # a new command each attempt: no longer deduplicated
        raise errors.TimeoutError("late")

    with pytest.raises(errors.TimeoutError):
        dragonboat.retry(fn, timeout=10.0, interval=0.0, session=session)
    assert session.series_id == 6


def test_idempotent_calls_retry_every_temporary_error() -> None:
    fn, calls = failing(errors.TimeoutError("read timed out"),
                        errors.TemporaryError("not caught up yet"),
                        errors.ClusterNotReadyError("dropped"))
    assert dragonboat.retry(fn, timeout=10.0, interval=0.0, idempotent=True) == "applied"
    assert len(calls) == 4


def test_the_last_error_is_raised_once_the_time_is_up() -> None:
    fn, calls = failing(*[errors.ClusterNotReadyError("no leader")] * 1000)
    with pytest.raises(errors.ClusterNotReadyError):
        dragonboat.retry(fn, timeout=0.0, interval=0.0)
    assert len(calls) == 1
    fn, calls = failing(*[errors.TimeoutError("late")] * 1000)
    with pytest.raises(errors.TimeoutError):
        dragonboat.retry(fn, timeout=0.05, interval=0.01, idempotent=True)
    assert 1 < len(calls) < 1000


def test_maybe_applied_is_true_exactly_where_the_command_may_still_apply() -> None:
    maybe = {errors.TimeoutError, errors.ClusterClosedError, errors.CanceledError,
             errors.FatalError, errors.TemporaryError, errors.DragonboatError}
    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, errors.DragonboatError)]
    # One class per engine code (and the two bases, whose code is "unknown").
    assert {c.code for c in classes} == (set(_core.error_code_names()) - {"ok"}) | {"unknown"}
    for cls in classes:
        assert isinstance(cls.maybe_applied, bool)
        assert cls.maybe_applied == (cls in maybe), cls.__name__
    for cls in NOT_APPLIED:
        assert cls.temporary and not cls.maybe_applied
    assert errors.error_class("timeout").maybe_applied
    assert not errors.error_class("cluster_not_ready").maybe_applied
    assert errors.error_class("no_such_code").maybe_applied  # unknown: nothing guaranteed
