"""Pluggable storage and transport from Python (dragonboat.plugins): three
NodeHosts on the in-memory LogDB and one in-process network run a group with
a hash-chain checker, a partition cuts a follower off and healing brings it
back, and the factory fields refuse anything else by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import retry

import dragonboat
from dragonboat import Config, NodeHost, NodeHostConfig, plugins
from dragonboat.checker import Checker, CheckerState


def test_three_hosts_in_one_process_without_disk_log_or_sockets(tmp_path: Path) -> None:
    net = plugins.InProcessNetwork()
    # Addresses nobody listens on: only the in-process network can reach them.
    addresses = [f"node-{i}.invalid:{i + 1}" for i in range(3)]
    hosts = [NodeHost(NodeHostConfig(node_host_dir=str(tmp_path / f"nh{i}"),
                                     raft_address=addresses[i], rtt_millisecond=10,
                                     logdb_factory=plugins.memory_logdb(),
                                     transport_factory=net.transport_factory()))
             for i in range(3)]
    try:
        members = {i + 1: addresses[i] for i in range(3)}
        for i, nh in enumerate(hosts):
            nh.start_cluster(members, False, lambda c, n: Checker(),
                             Config(node_id=i + 1, cluster_id=1, election_rtt=10,
                                    check_quorum=True))
        leader = hosts[0]
        want = CheckerState()

        def write(cmd: bytes) -> None:
            retry(lambda: leader.sync_propose(leader.get_noop_session(1), cmd, 5.0))
            want.apply(cmd)

        for i in range(20):
            write(f"a-{i}".encode())
        # Host 2 is cut off; the other two still commit.
        net.partition(addresses[2], addresses[0])
        net.partition(addresses[2], addresses[1])
        for i in range(20):
            write(f"b-{i}".encode())
        net.heal()

        def state(nh: NodeHost) -> bytes:
            return bytes(retry(lambda: nh.sync_read(1, b"state", 5.0), idempotent=True))

        for nh in hosts:
            assert state(nh) == want.lookup(b"state")
    finally:
        for nh in hosts:
            nh.stop()


def test_the_factory_fields_take_factories_only(tmp_path: Path) -> None:
    base = NodeHostConfig(node_host_dir=str(tmp_path), raft_address="127.0.0.1:1")
    for field in ("logdb_factory", "transport_factory"):
        with pytest.raises(TypeError, match=field):
            NodeHost(NodeHostConfig(**{**base.__dict__, field: "memory"}))
    assert "memory" in repr(plugins.memory_logdb())
    assert isinstance(dragonboat.plugins.InProcessNetwork().transport_factory(),
                      plugins.TransportFactory)
