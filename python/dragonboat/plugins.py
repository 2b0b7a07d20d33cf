"""The built-in alternatives to the RocksDB LogDB and the TCP transport
(``dragonboat/plugins.h``), for ``NodeHostConfig.logdb_factory`` and
``NodeHostConfig.transport_factory``: tests, and single-process deployments
that need no disk for the Raft log or no sockets (the reference's
``plugin/chan``)::

    net = dragonboat.plugins.InProcessNetwork()
    config = NodeHostConfig(node_host_dir=..., raft_address="node-1:1",
                            logdb_factory=dragonboat.plugins.memory_logdb(),
                            transport_factory=net.transport_factory())

With the in-memory LogDB NOTHING survives the NodeHost: a restarted host
starts empty, so acknowledged writes are only as durable as the other
replicas. NodeHosts on one ``InProcessNetwork`` reach each other by their
``raft_address`` (any host:port; nothing listens); a snapshot is copied into
the receiving host's snapshot directory.
"""

from __future__ import annotations

from dragonboat._core import InProcessNetwork, LogDBFactory, TransportFactory, memory_logdb

__all__ = ["InProcessNetwork", "LogDBFactory", "TransportFactory", "memory_logdb"]
