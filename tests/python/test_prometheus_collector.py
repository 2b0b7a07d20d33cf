"""dragonboat.metrics: NodeHosts' health metrics served by prometheus_client.

Real NodeHosts in this process, a fresh CollectorRegistry per test (never the
global one), served by prometheus_client's own HTTP server on a free port and
scraped over HTTP, as Prometheus would.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import prometheus_client
import pytest
from conftest import Hosts, retry
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families

import dragonboat.metrics
from dragonboat import NodeHost
from dragonboat.metrics import UP, NodeHostCollector

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


@contextlib.contextmanager
def serving(registry: CollectorRegistry) -> Iterator[str]:
    """The URL at which prometheus_client's HTTP server serves ``registry``
    (shut down, its thread joined, on exit)."""
    server, thread = prometheus_client.start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        yield f"http://127.0.0.1:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        assert not thread.is_alive()


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200
        text: str = r.read().decode()
        return text


def series(text: str) -> Series:
    """Every sample of the exposition ``text``: (name, labels) -> value."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for f in text_string_to_metric_families(text) for s in f.samples}


def value(s: Series, name: str, **labels: str) -> float:
    return s[(name, frozenset(labels.items()))]


def label_sets(s: Series, name: str) -> list[dict[str, str]]:
    return [dict(labels) for n, labels in s if n == name]


def propose(nh: NodeHost, n: int) -> None:
    """``n`` proposals through ``nh``'s replica of group 1, each applied there on return."""
    session = nh.get_noop_session(1)
    for i in range(n):
        # Retried only while surely not applied (no leader yet, dropped).
        retry(functools.partial(nh.sync_propose, session, f"k{i}=v".encode(), 5.0))


def test_scrape_serves_the_nodehosts_beside_the_users_metrics(three: Hosts) -> None:
    reg = CollectorRegistry()
    jobs = Counter("myapp_jobs", "Jobs the application did.", registry=reg)
    jobs.inc(3)
    collector = NodeHostCollector()
    for i in range(3):
        collector.add(three.host(i))
    reg.register(collector)
    nh = three.host(0)
    me = {"nodehost": three.addresses[0], "cluster_id": "1", "node_id": "1"}
    with serving(reg) as url:
        propose(nh, 5)
        text = scrape(url)
        first = series(text)
        assert value(first, "myapp_jobs_total") == 3
        for address in three.addresses:
            assert value(first, UP, nodehost=address) == 1
        assert value(first, "dragonboat_proposals_total", **me) >= 5
        assert value(first, "dragonboat_entries_applied_total", **me) >= 5
        applied = value(first, "dragonboat_raft_applied_index", **me)
        assert applied >= 5
        assert value(first, "dragonboat_raft_term", **me) >= 1
        assert sum(value(first, "dragonboat_raft_is_leader", **{**me, "nodehost": a,
                                                                 "node_id": str(i + 1)})
                   for i, a in enumerate(three.addresses)) <= 1
        # The names and types as Prometheus reads them (0.0.4 text: counters
        # keep their _total in HELP and TYPE).
        assert "# TYPE dragonboat_proposals_total counter\n" in text
        assert "# TYPE dragonboat_raft_applied_index gauge\n" in text
        assert "# TYPE dragonboat_logdb_sync_seconds histogram\n" in text
        assert value(first, "dragonboat_logdb_sync_seconds_count",
                     nodehost=three.addresses[0]) >= 1
        assert value(first, "dragonboat_logdb_sync_seconds_bucket",
                     nodehost=three.addresses[0], le="+Inf") >= 1

        # One family per metric, a distinct label set per NodeHost and replica.
        names = [f.name for f in text_string_to_metric_families(text)]
        assert len(names) == len(set(names))
        hostwide = label_sets(first, "dragonboat_logdb_saves_total")
        assert sorted(d["nodehost"] for d in hostwide) == sorted(three.addresses)
        replicas = label_sets(first, "dragonboat_raft_commit_index")
        assert len(replicas) == 3
        assert {frozenset(d.items()) for d in replicas} == {
            frozenset({"nodehost": a, "cluster_id": "1", "node_id": str(i + 1)}.items())
            for i, a in enumerate(three.addresses)}

        # Every scrape reads the engine afresh.
        propose(nh, 5)
        second = series(scrape(url))
        assert (value(second, "dragonboat_proposals_total", **me)
                >= value(first, "dragonboat_proposals_total", **me) + 5)
        assert value(second, "dragonboat_raft_applied_index", **me) >= applied + 5


def test_families_are_the_engines(three: Hosts) -> None:
    """Each family of the engine's own text exposition comes out with the same
    name, type, help and label names (plus the NodeHost's)."""
    nh = three.host(1)
    propose(nh, 1)
    reg = CollectorRegistry()
    dragonboat.metrics.register(nh, reg)
    with serving(reg) as url:
        served = {f.name: f for f in text_string_to_metric_families(scrape(url))}
    text = io.StringIO()
    nh.write_health_metrics(text)
    engine = {f.name: f for f in text_string_to_metric_families(text.getvalue())}
    assert set(served) == set(engine) | {UP}
    for name, f in engine.items():
        assert (served[name].type, served[name].documentation) == (f.type, f.documentation)
        assert ({(s.name, frozenset(s.labels) | {"nodehost"}) for s in f.samples}
                == {(s.name, frozenset(s.labels)) for s in served[name].samples}), name


def test_a_stopped_nodehost_reports_up_0_and_never_fails_the_scrape(three: Hosts) -> None:
    reg = CollectorRegistry()
    Counter("myapp_jobs", "Jobs the application did.", registry=reg).inc()
    for i in range(3):
        dragonboat.metrics.register(three.host(i), reg)
    gone = three.addresses[2]
    with serving(reg) as url:
        propose(three.host(0), 1)
        three.host(2).stop()
        s = series(scrape(url))
        assert value(s, UP, nodehost=gone) == 0
        assert [v for (n, labels), v in s.items()
                if n != UP and ("nodehost", gone) in labels] == []
        assert value(s, UP, nodehost=three.addresses[0]) == 1
        assert value(s, "dragonboat_raft_applied_index", nodehost=three.addresses[0],
                     cluster_id="1", node_id="1") >= 1
        three.stop()
        s = series(scrape(url))
        assert {labels: v for (n, labels), v in s.items() if n == UP} == {
            frozenset({("nodehost", a)}): 0 for a in three.addresses}
        assert {n for n, _ in s if n.startswith("dragonboat_")} == {UP}
        assert value(s, "myapp_jobs_total") == 1


def test_register_keeps_one_collector_per_registry(tmp_path: Path) -> None:
    h = Hosts(tmp_path, 3)
    try:
        a, b, c = (h.start(i) for i in range(3))
        reg = CollectorRegistry()
        collector = dragonboat.metrics.register(a, reg)
        assert dragonboat.metrics.register(b, reg) is collector
        assert collector.nodehosts() == [a, b]
        # A second collector would repeat every family: the registry refuses it.
        with pytest.raises(ValueError, match="Duplicated"):
            reg.register(NodeHostCollector(c))
        with pytest.raises(ValueError, match="distinct labels"):
            collector.add(c, labels={"nodehost": h.addresses[0]})
        with pytest.raises(ValueError, match="engine"):
            collector.add(c, labels={"cluster_id": "x"})
        with pytest.raises(ValueError, match="label name"):
            collector.add(c, labels={"bad-name": "x"})
        with pytest.raises(TypeError):
            collector.add("not a NodeHost")  # type: ignore[arg-type]
        collector.add(c, labels={"nodehost": "c", "zone": "z1"})
        ups = label_sets(series(prometheus_client.generate_latest(reg).decode()), UP)
        assert ups == [{"nodehost": h.addresses[0]}, {"nodehost": h.addresses[1]},
                       {"nodehost": "c", "zone": "z1"}]
        assert collector.remove(c) and not collector.remove(c)
        assert dragonboat.metrics.unregister(a, reg)
        assert not dragonboat.metrics.unregister(a, reg)
        assert dragonboat.metrics.unregister(b, reg)  # the last one: the collector leaves
        assert prometheus_client.generate_latest(reg) == b""
        # No labels asked for: none added (one NodeHost per process).
        solo = CollectorRegistry()
        dragonboat.metrics.register(c, solo, labels={})
        assert label_sets(series(prometheus_client.generate_latest(solo).decode()), UP) == [{}]
    finally:
        h.stop()


def test_the_collector_does_not_keep_a_nodehost_alive(tmp_path: Path) -> None:
    h = Hosts(tmp_path, 1)
    collector = NodeHostCollector(h.start(0))
    h.stop()
    h.hosts[0] = None
    gc.collect()
    assert collector.nodehosts() == []
    assert [m.samples for m in collector.collect()] == [[]]  # just the empty up family


def test_prometheus_client_is_optional() -> None:
    code = """if True:
        import sys
        sys.modules["prometheus_client"] = None  # as if it were not installed
        import dragonboat
        try:
            import dragonboat.metrics
        except ImportError as e:
            print(e)
        else:
            raise SystemExit("dragonboat.metrics imported without prometheus_client")
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert "pip install prometheus-client" in out
