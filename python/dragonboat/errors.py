"""The exceptions the dragonboat package raises: one class per engine error.

Every class mirrors one ``Err*`` value of the reference API (``ErrSystemBusy``
-> :class:`SystemBusyError`) and carries the engine's stable ``code`` name.
Temporary conditions, worth retrying later, derive from
:class:`TemporaryError` (the reference's ``IsTempError``); builtin bases are
added where one fits, so ``except TimeoutError`` and ``except ValueError``
work as a Python user expects.

``maybe_applied`` says what a failed proposal (or membership change, or
session registration) left behind: False guarantees the command never entered
the Raft log and never will, so trying again cannot apply it twice; True means
it may have been applied, or may still be (a timeout, a node that stopped
while the request waited). :func:`dragonboat.retry` retries only the former
unless told the call is safe to repeat. docs/python.md has the table.
"""

from __future__ import annotations

import builtins


class DragonboatError(Exception):
    """Base of every dragonboat error."""

    #: The engine's name of the error, e.g. ``"system_busy"``.
    code: str = "unknown"
    #: Whether retrying later may succeed.
    temporary: bool = False
    #: Whether the command of the failed request may have been applied, or
    #: may still be applied later. False only where the engine guarantees it
    #: was not and will not be: the call refused it before queuing it, or it
    #: was dropped before entering any Raft log. True for a timeout, a node
    #: that stopped while the request waited, and any error of unknown origin
    #: (this base class): nothing is guaranteed there. A retry after a True
    #: error applies the command twice unless it goes through a registered
    #: client session (applied at most once) or the command is idempotent.
    maybe_applied: bool = True


class TemporaryError(DragonboatError):
    """A temporary condition: retry later (the reference's IsTempError).

    Raised as such (not as a subclass) it says nothing about whether a
    proposal was applied: ``maybe_applied`` stays True.
    """

    temporary = True
    maybe_applied = True


# ---- temporary -----------------------------------------------------------


class ClusterClosedError(TemporaryError):
    """The replica was stopped. Temporary, as in the reference: the group may be
    served by this replica once restarted, or by another host's. A request
    that was waiting when it stopped (the outcome "terminated") may have been
    applied; raised by the call itself (e.g. ``propose`` on a stopped
    replica) nothing was queued."""

    code = "cluster_closed"
    maybe_applied = True


class SystemBusyError(TemporaryError):
    """Too many requests or a stalled disk: back off and retry (refused: not applied)."""

    code = "system_busy"
    maybe_applied = False


class ClusterNotReadyError(TemporaryError):
    """No leader is known yet, or the request was dropped: retry.

    A dropped proposal never entered any Raft log (a candidate, a follower
    knowing no leader, a leader transfer, a membership change while another
    one proposed through another replica is pending): it is not applied, and
    retrying it is safe.
    """

    code = "cluster_not_ready"
    maybe_applied = False


class TimeoutError(TemporaryError, builtins.TimeoutError):  # noqa: A001 - mirrors ErrTimeout
    """The deadline passed. The command may still be applied (it may be in the
    log and commit later): retry only through a registered client session
    (applied at most once) or with an idempotent command."""

    code = "timeout"
    maybe_applied = True


class PendingConfigChangeExistError(TemporaryError):
    """Another membership change is in progress."""

    code = "pending_config_change_exist"
    maybe_applied = False


class PendingSnapshotRequestExistError(TemporaryError):
    """A snapshot request is already in progress."""

    code = "pending_snapshot_request_exist"
    maybe_applied = False


class PendingLeaderTransferExistError(TemporaryError):
    """A leader transfer is in progress."""

    code = "pending_leader_transfer_exist"
    maybe_applied = False


class DroppedError(TemporaryError):
    """The request was dropped before entering any Raft log: not applied
    (requests report a drop as the outcome "dropped", ``sync_`` calls as
    :class:`ClusterNotReadyError`)."""

    code = "dropped"
    maybe_applied = False


class ClusterNotInitializedError(TemporaryError):
    """The group is still starting."""

    code = "cluster_not_initialized"
    maybe_applied = False


# ---- fix the request or give up ----------------------------------------------


class NodeRemovedError(DragonboatError):
    """This node was removed from its group."""

    code = "node_removed"
    maybe_applied = False


class ClusterNotFoundError(DragonboatError, LookupError):
    """No such group runs on this NodeHost."""

    code = "cluster_not_found"
    maybe_applied = False


class ClusterAlreadyExistError(DragonboatError):
    """The group is already running on this NodeHost."""

    code = "cluster_already_exist"
    maybe_applied = False


class ClusterNotStoppedError(DragonboatError):
    """The node still runs on this NodeHost."""

    code = "cluster_not_stopped"
    maybe_applied = False


class InvalidClusterSettingsError(DragonboatError, ValueError):
    """A configuration value is invalid (the message names the field)."""

    code = "invalid_cluster_settings"
    maybe_applied = False


class ClusterNotBootstrappedError(DragonboatError):
    """The node has no data: give initial members or join."""

    code = "cluster_not_bootstrapped"
    maybe_applied = False


class InvalidDeadlineError(DragonboatError, ValueError):
    """The deadline is not positive."""

    code = "invalid_deadline"
    maybe_applied = False


class DirNotExistError(DragonboatError, FileNotFoundError):
    """A directory does not exist or cannot be created."""

    code = "dir_not_exist"
    maybe_applied = False


class InvalidOperationError(DragonboatError):
    """The operation is not valid here (e.g. a proposal on a witness)."""

    code = "invalid_operation"
    maybe_applied = False


class InvalidAddressError(DragonboatError, ValueError):
    """An address is not host:port."""

    code = "invalid_address"
    maybe_applied = False


class InvalidSessionError(DragonboatError):
    """The client session cannot be used for this request."""

    code = "invalid_session"
    maybe_applied = False


class TimeoutTooSmallError(DragonboatError, ValueError):
    """The timeout is shorter than one tick (rtt_millisecond)."""

    code = "timeout_too_small"
    maybe_applied = False


class PayloadTooBigError(DragonboatError, ValueError):
    """The proposal exceeds max_proposal_payload_size."""

    code = "payload_too_big"
    maybe_applied = False


class SnapshotAbortedError(DragonboatError):
    """Raise it from a state machine's ``save_snapshot`` to abandon that save
    (the reference's ``ErrSnapshotAborted``): the snapshot request completes
    aborted and the replica goes on."""

    code = "snapshot_aborted"
    maybe_applied = False


class OpenStoppedError(DragonboatError):
    """Raise it from an on-disk state machine's ``open(stopped)`` once
    ``stopped()`` turns true, to give up opening (the reference's
    ``ErrOpenStopped``); ``start_cluster`` then raises it: the NodeHost
    stopped while the state machine was opening."""

    code = "open_stopped"
    maybe_applied = False


class SystemStoppedError(DragonboatError):
    """The NodeHost is stopped."""

    code = "system_stopped"
    maybe_applied = False


class CanceledError(DragonboatError):
    """The request was canceled or aborted after it was queued: it may be applied."""

    code = "canceled"
    maybe_applied = True


class RejectedError(DragonboatError):
    """The group refused the request (e.g. a stale config change index, an
    unregistered session): this request was not applied."""

    code = "rejected"
    maybe_applied = False


class InvalidTargetError(DragonboatError, ValueError):
    """The target node cannot be used for this operation."""

    code = "invalid_target"
    maybe_applied = False


class NoSnapshotError(DragonboatError):
    """There is no snapshot."""

    code = "no_snapshot"
    maybe_applied = False


class CompactedError(DragonboatError):
    """The requested log entries were compacted away."""

    code = "compacted"
    maybe_applied = False


class UnavailableError(DragonboatError):
    """The requested log entries are not available."""

    code = "unavailable"
    maybe_applied = False


class CorruptedError(DragonboatError):
    """Stored data failed verification."""

    code = "corrupted"
    maybe_applied = False


class NotOwnerError(DragonboatError):
    """The NodeHost directory belongs to another raft address."""

    code = "not_owner"
    maybe_applied = False


class DeploymentIDChangedError(DragonboatError):
    """The NodeHost directory belongs to another deployment."""

    code = "deployment_id_changed"
    maybe_applied = False


class HardSettingsChangedError(DragonboatError):
    """A setting fixed at the directory's creation differs."""

    code = "hard_settings_changed"
    maybe_applied = False


class IncompatibleDataError(DragonboatError):
    """The directory was written by an incompatible format version."""

    code = "incompatible_data"
    maybe_applied = False


class LockDirectoryError(DragonboatError):
    """The directory is in use by another process."""

    code = "lock_directory"
    maybe_applied = False


class FatalError(DragonboatError):
    """A storage failure: the node stopped; what it held may have been applied."""

    code = "fatal"
    maybe_applied = True


_BY_CODE: dict[str, type[DragonboatError]] = {
    cls.code: cls
    for cls in list(globals().values())
    if isinstance(cls, type) and issubclass(cls, DragonboatError) and cls.code != "unknown"
}


def error_class(code: str) -> type[DragonboatError]:
    """The exception class for an engine error code name."""
    return _BY_CODE.get(code, DragonboatError)


def is_temp_error(error: BaseException) -> bool:
    """Whether ``error`` is temporary: the same request may succeed later."""
    return isinstance(error, TemporaryError)


__all__ = [name for name, value in globals().items() if isinstance(value, type)] + [
    "error_class",
    "is_temp_error",
]
