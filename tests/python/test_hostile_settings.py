"""Hostile input to the public Python API, property-based (Hypothesis): settings.

Every field of the settings dataclasses (NodeHostConfig, Config,
SnapshotOption) gets values of the wrong type and out of range, bad addresses
and bad directories; start_cluster gets bad members, state machine factories
and plugins. The contract checked (hostile_util.py): no crash, no hang, and
every failure is either a :mod:`dragonboat.errors` class (a DragonboatError) or
a TypeError/ValueError whose message names the offending argument or field;
valid (if odd) settings still work.

One NodeHost runs for the module (the ``env`` fixture: cluster MAIN for the
positive cases, cluster SPARE as the target of the argument checks). The
method calls are in test_hostile_methods.py, what a state machine hands back
in test_hostile_state_machine.py.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port, retry
from hostile_util import (
    ANY_OBJECT,
    ANY_U64,
    BAD_ADDRESS,
    BAD_STR,
    ENGINE,
    FAST,
    HOSTILE_ADDRESS,
    HOSTILE_U64,
    MAIN,
    NOT_BOOL,
    NOT_STR,
    SPARE,
    U64_MAX,
    BadOnDisk,
    Env,
    Store,
    T,
    assert_clean_failure,
    call_cleanly,
)
from hypothesis import event, given
from hypothesis import strategies as st

from dragonboat import Config, NodeHost, NodeHostConfig, Result, SnapshotOption, errors
from dragonboat.errors import DragonboatError

pytestmark = pytest.mark.usefixtures("no_hang")  # conftest.py


# ---- snapshots --------------------------------------------------------------------------------

SNAPSHOT_FIELDS = {f.name: str(f.type) for f in dataclasses.fields(SnapshotOption)}


def _hostile_field(kind: str) -> st.SearchStrategy[Any]:
    """Hostile values of a settings field annotated ``kind``."""
    if kind == "int":
        return HOSTILE_U64
    if kind == "bool":
        return NOT_BOOL
    if kind == "str":
        return st.one_of(NOT_STR, BAD_STR)
    if kind == "CompressionType":  # an enum: anything else, its integer values included
        return st.one_of(HOSTILE_U64, NOT_BOOL, NOT_STR)
    raise AssertionError(kind)


@pytest.mark.parametrize("field", sorted(SNAPSHOT_FIELDS))
@FAST
@given(data=st.data())
def test_hostile_snapshot_option_fields(env: Env, field: str, data: st.DataObject) -> None:
    value = data.draw(_hostile_field(SNAPSHOT_FIELDS[field]), label=field)
    option = SnapshotOption(**{field: value})
    assert_clean_failure(option.validate, field, strict=True)
    assert_clean_failure(lambda: env.nh.request_snapshot(SPARE, option, T), field, strict=True)


def test_snapshot_options_that_the_engine_refuses_and_valid_ones(env: Env) -> None:
    nh = env.nh
    for option in (SnapshotOption(exported=True),  # no export_path
                   SnapshotOption(exported=True, export_path=str(env.tmp / "missing")),
                   SnapshotOption(exported=True, export_path="/proc/nope")):
        e = assert_clean_failure(functools.partial(nh.sync_request_snapshot, MAIN, option, T),
                                 "export_path")
        assert isinstance(e, DragonboatError)
    retry(lambda: nh.sync_propose(nh.get_noop_session(MAIN), b"snap", T))
    assert nh.sync_request_snapshot(MAIN, None, T) > 0
    out = env.tmp / "exported"
    out.mkdir()
    option = SnapshotOption(exported=True, export_path=str(out),
                            override_compaction_overhead=True, compaction_overhead=U64_MAX)
    assert retry(lambda: nh.sync_request_snapshot(MAIN, option, T)) > 0
    assert any(out.iterdir())


# ---- settings dataclasses: every field ---------------------------------------------------------

CONFIG_FIELDS = {f.name: str(f.type) for f in dataclasses.fields(Config)}
HOST_FIELDS = {f.name: str(f.type) for f in dataclasses.fields(NodeHostConfig)
               if f.type in ("int", "bool", "str")}


@pytest.mark.parametrize("field", sorted(CONFIG_FIELDS))
@FAST
@given(data=st.data())
def test_hostile_config_fields(env: Env, field: str, data: st.DataObject) -> None:
    value = data.draw(_hostile_field(CONFIG_FIELDS[field]), label=field)
    config = Config(node_id=1, cluster_id=998, election_rtt=10)
    setattr(config, field, value)
    assert_clean_failure(config.validate, field, strict=True)
    for start in _starts(env):
        assert_clean_failure(functools.partial(start, {1: env.address}, False,
                                               lambda c, n: Store(), config), field, strict=True)


def _starts(env: Env) -> tuple[Callable[..., None], ...]:
    """The three start_*cluster methods of the module host."""
    return (env.nh.start_cluster, env.nh.start_concurrent_cluster, env.nh.start_on_disk_cluster)


SMALL_OR_ANY_U64 = st.one_of(st.integers(0, 30), ANY_U64)


# Any values (mostly refused), and valid ones with extreme sizes (they start).
ANY_CONFIG = st.builds(
    Config, node_id=SMALL_OR_ANY_U64, cluster_id=ANY_U64, check_quorum=st.booleans(),
    election_rtt=SMALL_OR_ANY_U64, heartbeat_rtt=SMALL_OR_ANY_U64,
    snapshot_entries=SMALL_OR_ANY_U64, compaction_overhead=ANY_U64,
    ordered_config_change=st.booleans(), max_in_mem_log_size=SMALL_OR_ANY_U64,
    disable_auto_compactions=st.booleans(), is_observer=st.booleans(),
    is_witness=st.booleans(), quiesce=st.booleans())
EXTREME_CONFIG = st.builds(
    Config, node_id=st.one_of(st.integers(1, 30), st.integers(1, U64_MAX), st.just(U64_MAX)),
    cluster_id=ANY_U64, check_quorum=st.booleans(),
    election_rtt=st.one_of(st.integers(3, 50), st.just(U64_MAX)), heartbeat_rtt=st.just(1),
    snapshot_entries=st.one_of(st.integers(1, 3), ANY_U64), compaction_overhead=ANY_U64,
    ordered_config_change=st.booleans(),
    max_in_mem_log_size=st.one_of(st.just(0), st.integers(1024, U64_MAX)),
    disable_auto_compactions=st.booleans(), is_observer=st.booleans(), quiesce=st.booleans())


@ENGINE
@given(config=st.one_of(ANY_CONFIG, EXTREME_CONFIG))
def test_any_well_typed_config_starts_or_is_refused(env: Env, config: Config) -> None:
    config.cluster_id = next(env.cluster_ids)  # never a running group
    nh = env.nh

    def start() -> None:
        nh.start_cluster({config.node_id: env.address}, False, lambda c, n: Store(), config)

    if config.node_id == 0:  # not a node ID: refused among the initial members first
        assert_clean_failure(start, "initial_members", strict=True)
        return
    out = call_cleanly(start, "config")
    event(f"start: {type(out).__name__}")
    if isinstance(out, BaseException):
        assert isinstance(out, (errors.InvalidClusterSettingsError,
                                errors.InvalidAddressError)), out
        return
    try:
        call_cleanly(lambda: nh.sync_propose(nh.get_noop_session(config.cluster_id), b"x", 0.05),
                     "config")
        call_cleanly(lambda: nh.get_leader_id(config.cluster_id), "config")
    finally:
        nh.stop_cluster(config.cluster_id)


def _host_config(tmp: Path, **fields: Any) -> NodeHostConfig:
    c = NodeHostConfig(node_host_dir=str(tmp / "never"), raft_address="127.0.0.1:1",
                       rtt_millisecond=5)
    for k, v in fields.items():
        setattr(c, k, v)
    return c


@pytest.mark.parametrize("field", sorted(HOST_FIELDS))
@FAST
@given(data=st.data())
def test_hostile_node_host_config_fields(env: Env, field: str, data: st.DataObject) -> None:
    value = data.draw(_hostile_field(HOST_FIELDS[field]), label=field)
    config = _host_config(env.tmp, **{field: value})
    assert_clean_failure(config.validate, field, strict=True)
    assert_clean_failure(lambda: NodeHost(config), field, strict=True)


@FAST
@given(address=HOSTILE_ADDRESS, listen=st.one_of(NOT_STR, BAD_ADDRESS.filter(
    lambda a: a and not a.endswith(":0"))))
def test_bad_addresses_are_refused(env: Env, address: Any, listen: Any) -> None:
    assert_clean_failure(lambda: NodeHost(_host_config(env.tmp, raft_address=address)),
                         "raft_address", strict=True)
    assert_clean_failure(lambda: NodeHost(_host_config(env.tmp, listen_address=listen)),
                         "listen_address", strict=True)
    assert_clean_failure(lambda: env.nh.request_add_observer(SPARE, 9, address, 0, T), "address",
                         strict=True)
    assert_clean_failure(
        lambda: env.nh.start_cluster({1: env.address, 2: address}, False, lambda c, n: Store(),
                                     Config(node_id=1, cluster_id=997, election_rtt=10)),
        "initial_members", strict=True)


@pytest.mark.parametrize(("field", "value"), [
    ("node_host_dir", ""), ("rtt_millisecond", 0), ("rtt_millisecond", 86_400_001),
    ("rtt_millisecond", U64_MAX), ("apply_workers", 0), ("apply_workers", 65),
    ("apply_workers", U64_MAX), ("logdb_shards", 65), ("max_proposal_payload_size", 0),
    ("mutual_tls", True), ("busy_poll_microseconds", 10_001),
    ("busy_poll_microseconds", 2_500),  # half of _host_config's 5 ms tick
])
def test_out_of_range_node_host_config_values(env: Env, field: str, value: Any) -> None:
    config = _host_config(env.tmp, **{field: value})
    assert_clean_failure(lambda: NodeHost(config), field, strict=True)


@pytest.mark.parametrize("config", [None, {}, "config", Config(), object()])
def test_node_host_needs_a_node_host_config(config: Any) -> None:
    assert_clean_failure(lambda: NodeHost(config), "config", strict=True)


def _start_and_stop(config: NodeHostConfig) -> None:
    NodeHost(config).stop()


def test_hosts_with_odd_but_valid_settings_start_and_stop(env: Env) -> None:
    """Unusual valid values reach the engine (huge queue and rate bounds, a
    day-long tick, the most workers and shards); hosts that cannot start (an
    address not ours, a file as the directory, missing TLS files) fail
    cleanly."""
    huge: dict[str, Any] = {name: U64_MAX for name in (
        "max_send_queue_size", "max_receive_queue_size", "max_snapshot_send_bytes_per_second",
        "max_snapshot_recv_bytes_per_second", "max_proposal_payload_size", "deployment_id")}
    address = f"127.0.0.1:{free_port()}"
    with NodeHost(NodeHostConfig(node_host_dir=str(env.tmp / "odd"), raft_address=address,
                                 rtt_millisecond=86_400_000, apply_workers=64, logdb_shards=64,
                                 raft_event_listener=5, system_event_listener="x",
                                 **huge)) as nh:
        nh.start_cluster({1: address}, False, lambda c, n: Store(),
                         Config(node_id=1, cluster_id=1, election_rtt=U64_MAX,
                                heartbeat_rtt=U64_MAX // 2))
        # One tick is a day: every timeout is below it.
        assert isinstance(assert_clean_failure(lambda: nh.read_index(1, 60.0), "timeout"),
                          errors.TimeoutTooSmallError)
        assert nh.get_leader_id(1) == (0, False)
    (env.tmp / "a-file").write_text("")
    for config in (
            NodeHostConfig(node_host_dir=str(env.tmp / "d1"),
                           raft_address=f"192.0.2.1:{free_port()}"),  # not ours
            NodeHostConfig(node_host_dir=str(env.tmp / "d3"),
                           raft_address=f"localhost:{free_port()}"),  # listens on numeric only
            NodeHostConfig(node_host_dir=str(env.tmp / "a-file"),
                           raft_address=f"127.0.0.1:{free_port()}"),
            NodeHostConfig(node_host_dir="/proc/no/such/dir",
                           raft_address=f"127.0.0.1:{free_port()}"),
            NodeHostConfig(node_host_dir=str(env.tmp / "d2"),
                           raft_address=f"127.0.0.1:{free_port()}", mutual_tls=True,
                           ca_file="/nope", cert_file="/nope", key_file="/nope")):
        e = assert_clean_failure(functools.partial(_start_and_stop, config), "config")
        assert isinstance(e, DragonboatError), e


# ---- start_cluster: members, factories, plugins --------------------------------------------------


def test_start_cluster_arguments_the_engine_checks(env: Env) -> None:
    nh, cid = env.nh, next(env.cluster_ids)
    config = Config(node_id=1, cluster_id=cid, election_rtt=10)

    def store(c: int, n: int) -> Store:
        return Store()

    cases: list[tuple[dict[int, str], bool]] = [
        ({}, False),  # a new node without members
        ({1: env.address}, True),  # joining with members
        ({2: env.address}, False),  # node_id not among them
        ({1: "127.0.0.1:1"}, False)]  # not this host's address
    for members, join in cases:
        e = assert_clean_failure(functools.partial(nh.start_cluster, members, join, store, config),
                                 "initial_members")
        assert isinstance(e, DragonboatError), e
    nh.start_cluster({1: env.address}, False, store, config)
    try:
        e = assert_clean_failure(lambda: nh.start_cluster({1: env.address}, False, store, config),
                                 "config")
        assert isinstance(e, errors.ClusterAlreadyExistError)
        # Started as regular: the same node as another kind is refused.
        e = assert_clean_failure(lambda: nh.start_on_disk_cluster(
            {1: env.address}, False, lambda c, n: BadOnDisk(0), config), "config")
        assert isinstance(e, DragonboatError)
    finally:
        nh.stop_cluster(cid)
    regular: Any = store  # restarted as another kind than it was started with
    e = assert_clean_failure(lambda: nh.start_concurrent_cluster({}, False, regular, config),
                             "config")
    assert isinstance(e, errors.InvalidClusterSettingsError)


@pytest.mark.parametrize("made", [None, 5, "sm", object(), lambda: None, Result()])
def test_a_factory_returning_no_state_machine_is_refused(env: Env, made: Any) -> None:
    for start in _starts(env):
        config = Config(node_id=1, cluster_id=next(env.cluster_ids), election_rtt=10)
        assert_clean_failure(
            functools.partial(start, {1: env.address}, False, lambda c, n: made, config),
            "create_state_machine", strict=True)


def test_a_raising_factory_propagates_its_error(env: Env) -> None:
    def factory(c: int, n: int) -> Store:
        raise KeyError("the application's own error")

    with pytest.raises(KeyError):
        env.nh.start_cluster({1: env.address}, False, factory,
                             Config(node_id=1, cluster_id=next(env.cluster_ids), election_rtt=10))


@pytest.mark.parametrize("plugin", ["/no/such/plugin.so", "", "relative.so", "/dev/null",
                                    Path("/no/such.so"), "a\x00b", 5, b"/x.so", object()])
def test_bad_plugins_are_refused(env: Env, plugin: Any) -> None:
    config = Config(node_id=1, cluster_id=next(env.cluster_ids), election_rtt=10)
    assert_clean_failure(lambda: env.nh.start_cluster({1: env.address}, False, None, config,
                                                      plugin=plugin), "plugin")
    assert_clean_failure(lambda: env.nh.start_cluster({1: env.address}, False,
                                                      lambda c, n: Store(), config,
                                                      plugin="/x.so"),
                         "create_state_machine", strict=True)
    assert_clean_failure(lambda: env.nh.start_cluster({1: env.address}, False, None, config),
                         "create_state_machine", strict=True)


BUILD = Path(os.environ.get("DRAGONBOAT_BUILD_DIR",
                           Path(__file__).resolve().parents[2] / "build" / "dev"))
PLUGIN = BUILD / "examples" / "plugin" / "libdragonboat_kv_plugin.so"


@pytest.fixture(scope="module")
def plugin_cluster(env: Env) -> int:
    """A group on the module host run by the C++ KV plugin."""
    if not PLUGIN.exists():
        pytest.skip(f"{PLUGIN} is missing: build the C++ tree first")
    cid = next(env.cluster_ids)
    env.nh.start_cluster({1: env.address}, False, None,
                         Config(node_id=1, cluster_id=cid, election_rtt=10), plugin=str(PLUGIN))
    retry(lambda: env.nh.sync_propose(env.nh.get_noop_session(cid), b"k=v", T))
    return cid


@FAST
@given(query=st.one_of(ANY_OBJECT, BAD_STR, st.binary(), st.text()))
def test_plugin_lookups_take_bytes_or_text_only(env: Env, plugin_cluster: int,
                                                query: Any) -> None:
    out = call_cleanly(lambda: env.nh.stale_read(plugin_cluster, query), "query")
    if isinstance(query, str):
        try:
            query.encode()
        except UnicodeEncodeError:
            assert isinstance(out, ValueError), out  # a lone surrogate
            return
    if isinstance(query, (bytes, str)):
        assert isinstance(out, bytes), out  # the plugin's answer (empty: no such key)
    else:
        assert isinstance(out, TypeError), out
