"""A C++ state machine (examples/plugin/kv_plugin.cc) driven from Python.

Build the plugin with the C++ tree (scripts/dev.sh test builds
build/dev/examples/plugin/libdragonboat_kv_plugin.so), then:
python examples/plugin_kv.py [path/to/libdragonboat_kv_plugin.so]
"""

from __future__ import annotations

import socket
import sys
import tempfile
from pathlib import Path

import dragonboat
from dragonboat import Config, NodeHost, NodeHostConfig

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "build" / "dev" / "examples" / "plugin" / "libdragonboat_kv_plugin.so"


def main() -> None:
    plugin = sys.argv[1] if len(sys.argv) > 1 else str(DEFAULT)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    with tempfile.TemporaryDirectory() as d, NodeHost(
        NodeHostConfig(node_host_dir=d, raft_address=address, rtt_millisecond=20)
    ) as nh:
        nh.start_cluster({1: address}, False, None, Config(node_id=1, cluster_id=1),
                         plugin=plugin)
        dragonboat.retry(lambda: nh.sync_propose(nh.get_noop_session(1), b"engine=c++", 2.0))
        print("engine:", nh.sync_read(1, b"engine", 2.0).decode())


if __name__ == "__main__":
    main()
