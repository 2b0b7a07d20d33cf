"""Argument checks of the public API, before anything reaches the engine.

A value of the wrong type is a ``TypeError``, a value out of range a
``ValueError`` (or the :mod:`dragonboat.errors` class the engine would raise,
all of which derive from ``ValueError`` here); every message starts with the
name of the argument or field. The checks are cheap: the common case (a
plain ``int``, ``float`` or ``bytes``) is one type test.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

from dragonboat import _core
from dragonboat.errors import InvalidAddressError, InvalidDeadlineError

#: The largest ID, index or size the engine holds (a uint64).
U64_MAX = 2**64 - 1
#: The longest timeout, in seconds (about 31.7 years): the engine's clocks
#: count nanoseconds in 64 bits, and a longer deadline would overflow them.
MAX_TIMEOUT = 1e9

# A host name, an IPv4 address or an IPv6 one (bracketed or not, with a zone).
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:%")


def kind(value: object) -> str:
    """The type name used in messages."""
    return type(value).__name__


def uint64(value: object, name: str, *, minimum: int = 0) -> int:
    """``value`` as an int in [minimum, 2**64 - 1] (bool is not an int here)."""
    if type(value) is int and minimum <= value <= U64_MAX:
        return value
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {kind(value)}")
    if not minimum <= value <= U64_MAX:
        n = int(value)
        shown = str(n) if n.bit_length() <= 256 else f"an int of {n.bit_length()} bits"
        raise ValueError(f"{name} must be in [{minimum}, 2**64 - 1], not {shown}")
    return int(value)


def boolean(value: object, name: str) -> bool:
    """``value`` if it is a bool (0, 1, "yes" are refused)."""
    if value is True or value is False:
        return value
    raise TypeError(f"{name} must be a bool, not {kind(value)}")


def string(value: object, name: str) -> str:
    """``value`` as a str the engine can hold: UTF-8 encodable, no NUL character."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {kind(value)}")
    if "\x00" in value:
        raise ValueError(f"{name} must not contain a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} must be valid Unicode text (no lone surrogates)") from None
    return value


def is_address(text: str, *, any_port: bool = False) -> bool:
    """Whether ``text`` is ``host:port`` (``[ipv6]:port``) with a port in
    [1, 65535] (port 0 too with ``any_port``: a listening address)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not (port.isascii() and port.isdigit() and len(port) <= 5):
        return False
    if not (0 if any_port else 1) <= int(port) <= 65535:
        return False
    if host.startswith("[") and host.endswith("]") and len(host) > 2:
        host = host[1:-1]
    return all(c in _HOST_CHARS for c in host)


def address(value: object, name: str) -> str:
    """``value`` as a ``host:port`` str; InvalidAddressError naming ``name`` otherwise."""
    text = string(value, name)
    if not is_address(text):
        raise InvalidAddressError(f"{name}: {text!r} is not host:port")
    return text


def _seconds(value: object, name: str, expected: str) -> float | None:
    """``value`` as a float number of seconds (an int beyond any float becomes
    an infinity of its sign); None when it is None; TypeError otherwise."""
    if type(value) is float:
        return value
    if value is None:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # an int beyond any float
            return math.inf if isinstance(value, int) and value > 0 else -math.inf
    raise TypeError(f"{name} must be {expected}, not {kind(value)}")


def timeout(value: object, name: str = "timeout") -> float:
    """A request's timeout: a positive, finite number of seconds up to MAX_TIMEOUT.

    InvalidDeadlineError (a ValueError) for 0, a negative number, NaN, an
    infinity or more than MAX_TIMEOUT.
    """
    t = value if type(value) is float else _seconds(value, name, "a number of seconds")
    if t is None:
        raise TypeError(f"{name} must be a number of seconds, not {kind(value)}")
    if not 0 < t <= MAX_TIMEOUT:  # also NaN
        raise InvalidDeadlineError(
            f"{name} must be a positive number of seconds, at most {MAX_TIMEOUT:g}, not {t!r}")
    return t


def wait_timeout(value: object, name: str = "timeout") -> float:
    """A wait's timeout for the engine: -1.0 (forever) for None, an infinity
    or more than MAX_TIMEOUT; 0.0 (poll) for a negative number."""
    t = _seconds(value, name, "None or a number of seconds")
    if t is None:
        return -1.0
    if t != t:
        raise ValueError(f"{name} must be None or a number of seconds, not NaN")
    if t > MAX_TIMEOUT:
        return -1.0
    return max(t, 0.0)


def payload(value: object, name: str) -> bytes:
    """``value`` as bytes (bytes, bytearray and memoryview are accepted)."""
    if type(value) is bytes:
        return value
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be bytes, not {kind(value)}")
    return bytes(value)


def session(value: object, name: str = "session") -> _core.Session:
    """``value`` if it is a :class:`dragonboat.Session`."""
    if not isinstance(value, _core.Session):
        raise TypeError(f"{name} must be a dragonboat.Session, not {kind(value)}")
    return value


def function(value: object, name: str) -> Callable[..., Any]:
    """``value`` if it is callable."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, not {kind(value)}")
    return value


def members(value: object, name: str = "initial_members") -> dict[int, str]:
    """A ``{node_id: "host:port"}`` mapping with IDs in [1, 2**64 - 1]."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping of node ID to address, not {kind(value)}")
    out: dict[int, str] = {}
    for node_id, addr in value.items():
        nid = uint64(node_id, f"{name} node ID", minimum=1)
        out[nid] = address(addr, f"{name}[{nid}]")
    return out
