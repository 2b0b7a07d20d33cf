"""Network namespaces for the linearizability test's nodes, and faults between them.

Each node runs in a network namespace of its own with one interface, ``eth0``
(``10.213.0.<n+1>/24``), whose peer is a port of a bridge that lives in one
more namespace. Every address exists only inside namespaces this module
creates, so the test's traffic never leaves them (the clients talk to the
nodes over pipes). Faults are iptables rules inside the nodes' namespaces:
partitions drop packets from and to the nodes on the other side, packet loss
drops a random share of every node's incoming packets (this kernel has no
``tc netem``). Everything needs root.

Namespace names start with ``dbl<pid>-`` (the creating process), so
:func:`cleanup_stale` can remove what a killed run left behind.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence

PREFIX = "dbl"
"""The start of every namespace name the test creates."""

SUBNET = "10.213.0"
"""The nodes' /24 (inside the test's namespaces only)."""


class NetError(RuntimeError):
    """A namespace, link or iptables command failed."""


def _run(args: Sequence[str], stdin: str | None = None) -> None:
    p = subprocess.run(list(args), input=stdin, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise NetError(f"{' '.join(args)}: {p.stderr.strip() or p.stdout.strip()}")


def unavailable() -> str | None:
    """Why namespaces cannot be used here (not root, no ``ip`` or ``iptables``), or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "iptables-restore"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian: iproute2, iptables)"
    return None


def cleanup_stale() -> list[str]:
    """Deletes the test's namespaces whose creating process is gone; returns their names."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    removed = []
    for line in out.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(rf"{PREFIX}(\d+)-\w+", name)
        if m is None:
            continue
        try:
            os.kill(int(m.group(1)), 0)
            continue  # its run is still going
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
        removed.append(name)
    return removed


class Network:
    """``nodes`` namespaces joined by a bridge; see the module docstring."""

    def __init__(self, nodes: int) -> None:
        if not 1 <= nodes <= 200:
            raise ValueError(f"nodes must be in [1, 200], not {nodes}")
        self.nodes = nodes
        tag = f"{PREFIX}{os.getpid()}"
        self.bridge_ns = f"{tag}-br"
        self.node_ns = [f"{tag}-n{i}" for i in range(nodes)]
        self._created: list[str] = []

    def ip(self, node: int) -> str:
        """Node ``node``'s address."""
        return f"{SUBNET}.{node + 1}"

    def prefix(self, node: int) -> list[str]:
        """The command prefix that runs a program in node ``node``'s namespace."""
        return ["ip", "netns", "exec", self.node_ns[node]]

    def setup(self) -> None:
        """Creates the namespaces, the bridge and the links (undone if any step fails)."""
        try:
            for ns in (self.bridge_ns, *self.node_ns):
                _run(["ip", "netns", "add", ns])
                self._created.append(ns)
                _run(["ip", "-n", ns, "link", "set", "lo", "up"])
            _run(["ip", "-n", self.bridge_ns, "link", "add", "br0", "type", "bridge"])
            _run(["ip", "-n", self.bridge_ns, "link", "set", "br0", "up"])
            for i, ns in enumerate(self.node_ns):
                port = f"p{i}"
                _run(["ip", "link", "add", "eth0", "netns", ns, "type", "veth",
                      "peer", "name", port, "netns", self.bridge_ns])
                _run(["ip", "-n", self.bridge_ns, "link", "set", port, "master", "br0"])
                _run(["ip", "-n", self.bridge_ns, "link", "set", port, "up"])
                _run(["ip", "-n", ns, "addr", "add", f"{self.ip(i)}/24", "dev", "eth0"])
                _run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            self.heal()
        except NetError:
            self.teardown()
            raise

    def teardown(self) -> None:
        """Deletes every namespace this network created (their links go with them)."""
        for ns in reversed(self._created):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        self._created.clear()

    # ---- faults ------------------------------------------------------------------------

    def _rules(self, node: int, rules: Iterable[str]) -> None:
        table = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]",
                 ":OUTPUT ACCEPT [0:0]", *rules, "COMMIT", ""]
        _run(["ip", "netns", "exec", self.node_ns[node], "iptables-restore"], "\n".join(table))

    def heal(self) -> None:
        """Removes every fault: all nodes reach each other again."""
        for i in range(self.nodes):
            self._rules(i, [])

    def partition(self, groups: Sequence[Iterable[int]]) -> None:
        """Each node reaches only the nodes it shares a group with (groups may overlap:
        a node in two groups is a bridge between them). Replaces earlier faults."""
        sets = [set(g) for g in groups]
        for i in range(self.nodes):
            mine = [g for g in sets if i in g]
            cut = [j for j in range(self.nodes) if j != i and not any(j in g for g in mine)]
            rules = [f"-A INPUT -s {self.ip(j)} -j DROP" for j in cut]
            rules += [f"-A OUTPUT -d {self.ip(j)} -j DROP" for j in cut]
            self._rules(i, rules)

    def lose(self, probability: float) -> None:
        """Every node drops that share of the packets it receives. Replaces earlier faults."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must be in [0, 1], not {probability}")
        for i in range(self.nodes):
            self._rules(i, [f"-A INPUT -m statistic --mode random --probability {probability:.3f}"
                            " -j DROP"])
