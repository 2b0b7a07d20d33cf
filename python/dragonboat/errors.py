"""The exceptions the dragonboat package raises: one class per engine error.

Every class mirrors one ``Err*`` value of the reference API (``ErrSystemBusy``
-> :class:`SystemBusyError`) and carries the engine's stable ``code`` name.
Temporary conditions, worth retrying later, derive from
:class:`TemporaryError` (the reference's ``IsTempError``); builtin bases are
added where one fits, so ``except TimeoutError`` and ``except ValueError``
work as a Python user expects.
"""

from __future__ import annotations

import builtins


class DragonboatError(Exception):
    """Base of every dragonboat error."""

    #: The engine's name of the error, e.g. ``"system_busy"``.
    code: str = "unknown"
    #: Whether retrying later may succeed.
    temporary: bool = False


class TemporaryError(DragonboatError):
    """A temporary condition: retry later (the reference's IsTempError)."""

    temporary = True


# ---- temporary -----------------------------------------------------------


class SystemBusyError(TemporaryError):
    """Too many requests or a stalled disk: back off and retry."""

    code = "system_busy"


class ClusterNotReadyError(TemporaryError):
    """No leader is known yet (or the request was dropped): retry."""

    code = "cluster_not_ready"


class TimeoutError(TemporaryError, builtins.TimeoutError):  # noqa: A001 - mirrors ErrTimeout
    """The deadline passed; with a client session a retry is applied at most once."""

    code = "timeout"


class PendingConfigChangeExistError(TemporaryError):
    """Another membership change is in progress."""

    code = "pending_config_change_exist"


class PendingSnapshotRequestExistError(TemporaryError):
    """A snapshot request is already in progress."""

    code = "pending_snapshot_request_exist"


class PendingLeaderTransferExistError(TemporaryError):
    """A leader transfer is in progress."""

    code = "pending_leader_transfer_exist"


class DroppedError(TemporaryError):
    """The request was dropped (e.g. the leader changed)."""

    code = "dropped"


class ClusterNotInitializedError(TemporaryError):
    """The group is still starting."""

    code = "cluster_not_initialized"


# ---- fix the request or give up ----------------------------------------------


class NodeRemovedError(DragonboatError):
    """This node was removed from its group."""

    code = "node_removed"


class ClusterNotFoundError(DragonboatError, LookupError):
    """No such group runs on this NodeHost."""

    code = "cluster_not_found"


class ClusterAlreadyExistError(DragonboatError):
    """The group is already running on this NodeHost."""

    code = "cluster_already_exist"


class ClusterNotStoppedError(DragonboatError):
    """The node still runs on this NodeHost."""

    code = "cluster_not_stopped"


class InvalidClusterSettingsError(DragonboatError, ValueError):
    """A configuration value is invalid (the message names the field)."""

    code = "invalid_cluster_settings"


class ClusterNotBootstrappedError(DragonboatError):
    """The node has no data: give initial members or join."""

    code = "cluster_not_bootstrapped"


class DeadlineNotSetError(DragonboatError, ValueError):
    """No deadline was given."""

    code = "deadline_not_set"


class InvalidDeadlineError(DragonboatError, ValueError):
    """The deadline is not positive."""

    code = "invalid_deadline"


class DirNotExistError(DragonboatError, FileNotFoundError):
    """A directory does not exist or cannot be created."""

    code = "dir_not_exist"


class InvalidOperationError(DragonboatError):
    """The operation is not valid here (e.g. a proposal on a witness)."""

    code = "invalid_operation"


class InvalidAddressError(DragonboatError, ValueError):
    """An address is not host:port."""

    code = "invalid_address"


class InvalidSessionError(DragonboatError):
    """The client session cannot be used for this request."""

    code = "invalid_session"


class TimeoutTooSmallError(DragonboatError, ValueError):
    """The timeout is shorter than one tick (rtt_millisecond)."""

    code = "timeout_too_small"


class PayloadTooBigError(DragonboatError, ValueError):
    """The proposal exceeds max_proposal_payload_size."""

    code = "payload_too_big"


class ClusterClosedError(DragonboatError):
    """The replica was stopped."""

    code = "cluster_closed"


class BadKeyError(DragonboatError):
    """An internal key was malformed."""

    code = "bad_key"


class SystemStoppedError(DragonboatError):
    """The NodeHost is stopped."""

    code = "system_stopped"


class CanceledError(DragonboatError):
    """The request was canceled or aborted."""

    code = "canceled"


class RejectedError(DragonboatError):
    """The group refused the request (e.g. a stale config change index)."""

    code = "rejected"


class InvalidTargetError(DragonboatError, ValueError):
    """The target node cannot be used for this operation."""

    code = "invalid_target"


class NoSnapshotError(DragonboatError):
    """There is no snapshot."""

    code = "no_snapshot"


class CompactedError(DragonboatError):
    """The requested log entries were compacted away."""

    code = "compacted"


class UnavailableError(DragonboatError):
    """The requested log entries are not available."""

    code = "unavailable"


class CorruptedError(DragonboatError):
    """Stored data failed verification."""

    code = "corrupted"


class NotOwnerError(DragonboatError):
    """The NodeHost directory belongs to another raft address."""

    code = "not_owner"


class DeploymentIDChangedError(DragonboatError):
    """The NodeHost directory belongs to another deployment."""

    code = "deployment_id_changed"


class HardSettingsChangedError(DragonboatError):
    """A setting fixed at the directory's creation differs."""

    code = "hard_settings_changed"


class IncompatibleDataError(DragonboatError):
    """The directory was written by an incompatible format version."""

    code = "incompatible_data"


class LockDirectoryError(DragonboatError):
    """The directory is in use by another process."""

    code = "lock_directory"


class FatalError(DragonboatError):
    """A storage failure: the node stopped."""

    code = "fatal"


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
