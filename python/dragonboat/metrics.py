"""NodeHost health metrics for prometheus_client (an optional dependency).

:class:`NodeHostCollector` is a prometheus_client custom collector: registered
with a registry, every scrape of that registry (``start_http_server``,
``make_wsgi_app``, ``generate_latest``, ``push_to_gateway``) reads the health
metrics of its NodeHosts afresh and serves them beside the application's own
metrics::

    import prometheus_client
    import dragonboat.metrics

    nh = dragonboat.NodeHost(config)
    dragonboat.metrics.register(nh)          # into prometheus_client.REGISTRY
    prometheus_client.start_http_server(9100)

The families are the engine's (docs/operations.md, "Metrics"), with their
types and help text: counters (``dragonboat_proposals_total``, ...), gauges
(``dragonboat_raft_applied_index``, ...) and the ``dragonboat_logdb_sync_seconds``
histogram; per-replica series carry ``cluster_id`` and ``node_id`` labels.
Every series of a NodeHost also carries that NodeHost's labels, by default
``nodehost="<its raft address>"``, so that several NodeHosts in one process
(one collector, one family per metric) stay apart.

``dragonboat_nodehost_up`` (a gauge, one series per NodeHost) is 1 when the
NodeHost's metrics were read in this scrape and 0 when they could not be (the
NodeHost is stopped): a stopped NodeHost never fails the scrape, it reports
``up 0`` and no other series. A NodeHost that was garbage-collected is left
out altogether: the collector holds its NodeHosts weakly and never keeps one
(and its engine threads) alive.

Requires ``prometheus_client`` (``pip install prometheus-client``, or the
``dragonboat[metrics]`` extra); ``import dragonboat`` itself does not.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

try:
    from prometheus_client.metrics_core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
        Metric,
        UnknownMetricFamily,
    )
    from prometheus_client.registry import REGISTRY, CollectorRegistry
except ImportError as e:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "dragonboat.metrics needs prometheus_client: pip install prometheus-client "
        "(or pip install 'dragonboat[metrics]')",
        name=e.name,
    ) from e

from dragonboat import _check
from dragonboat.errors import DragonboatError
from dragonboat.nodehost import NodeHost

__all__ = ["UP", "NodeHostCollector", "register", "unregister"]

UP = "dragonboat_nodehost_up"
"""The name of the gauge that is 1 per NodeHost whose metrics were read, 0 per stopped one."""

_UP_HELP = "1 when the NodeHost's health metrics were read in this scrape, 0 when it is stopped."

# Label names the engine's own series use: a NodeHost label may not take them.
_ENGINE_LABELS = frozenset({"cluster_id", "node_id", "le", "quantile"})
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")


@dataclass(frozen=True)
class _Host:
    ref: weakref.ReferenceType[NodeHost]
    labels: tuple[tuple[str, str], ...]


def _host_labels(nodehost: NodeHost,
                 labels: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    if labels is None:
        # Read now: a stopped NodeHost no longer reports its address.
        return (("nodehost", nodehost.raft_address()),)
    if not isinstance(labels, Mapping):
        raise TypeError(f"labels must be a mapping of str to str, not {_check.kind(labels)}")
    out = []
    for name, value in labels.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"labels must map str to str, not {_check.kind(name)} to "
                            f"{_check.kind(value)}")
        if not _LABEL_NAME.match(name) or name.startswith("__"):
            raise ValueError(f"labels: {name!r} is not a valid Prometheus label name")
        if name in _ENGINE_LABELS:
            raise ValueError(f"labels: {name!r} is a label of the engine's own series")
        out.append((name, value))
    return tuple(sorted(out))


def _family(name: str, kind: str, help_text: str) -> Metric:
    if kind == "counter":
        return CounterMetricFamily(name, help_text)  # drops a trailing _total from the name
    if kind == "gauge":
        return GaugeMetricFamily(name, help_text)
    if kind == "histogram":
        return HistogramMetricFamily(name, help_text)
    return UnknownMetricFamily(name, help_text)


class NodeHostCollector:
    """A prometheus_client collector of the health metrics of one or more NodeHosts.

    ``NodeHostCollector(nh)`` collects ``nh``'s metrics; :meth:`add` adds
    more NodeHosts, :meth:`remove` drops one. Register it with a registry
    (``registry.register(collector)``, or use :func:`register`, which keeps
    one collector per registry). ``labels`` are added to every series of the
    NodeHost: by default ``{"nodehost": nh.raft_address()}``; ``{}`` for none
    (fine with a single NodeHost per process, where Prometheus's ``instance``
    label already tells them apart).

    Use one collector per registry and add every NodeHost to it: two
    collectors would each report every family (an invalid exposition), so the
    registry refuses the second one (``ValueError``: duplicated timeseries).
    Scrapes may run on several threads at once: the collector is thread-safe.
    """

    def __init__(self, nodehost: NodeHost | None = None, *,
                 labels: Mapping[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self._hosts: dict[int, _Host] = {}
        if nodehost is not None:
            self.add(nodehost, labels=labels)
        elif labels is not None:
            raise ValueError("labels without a nodehost: pass them to add()")

    def add(self, nodehost: NodeHost, *, labels: Mapping[str, str] | None = None) -> None:
        """Collects ``nodehost``'s metrics too, every series labelled with ``labels``
        (default ``{"nodehost": nodehost.raft_address()}``; the NodeHost must be
        running then). Adding a NodeHost again replaces its labels. ValueError
        when another NodeHost of this collector has the same labels (their
        series would clash)."""
        if not isinstance(nodehost, NodeHost):
            raise TypeError(f"nodehost must be a dragonboat.NodeHost, not {_check.kind(nodehost)}")
        host_labels = _host_labels(nodehost, labels)
        with self._lock:
            self._prune()
            for key, other in self._hosts.items():
                if key != id(nodehost) and other.labels == host_labels:
                    raise ValueError(f"another NodeHost of this collector has the labels "
                                     f"{dict(host_labels)}: give each NodeHost distinct labels")
            self._hosts[id(nodehost)] = _Host(weakref.ref(nodehost), host_labels)

    def remove(self, nodehost: NodeHost) -> bool:
        """Stops collecting ``nodehost``'s metrics; whether it was collected."""
        with self._lock:
            entry = self._hosts.get(id(nodehost))
            if entry is None or entry.ref() is not nodehost:
                return False
            del self._hosts[id(nodehost)]
            return True

    def nodehosts(self) -> list[NodeHost]:
        """The NodeHosts collected (those not garbage-collected yet), in the order added."""
        with self._lock:
            entries = list(self._hosts.values())
        return [nh for nh in (e.ref() for e in entries) if nh is not None]

    def _prune(self) -> None:
        """Forgets the garbage-collected NodeHosts (REQUIRES: self._lock held)."""
        for key in [k for k, e in self._hosts.items() if e.ref() is None]:
            del self._hosts[key]

    def collect(self) -> Iterator[Metric]:
        """The metric families of every NodeHost, read now (prometheus_client calls
        this on each scrape): ``dragonboat_nodehost_up`` first, then the engine's
        families, each holding the series of every running NodeHost."""
        with self._lock:
            self._prune()
            entries = list(self._hosts.values())
        up = GaugeMetricFamily(UP, _UP_HELP)
        families: dict[str, Metric] = {}
        for entry in entries:
            nh = entry.ref()
            if nh is None:
                continue
            host_labels = dict(entry.labels)
            try:
                read = nh._core.health_metric_families()
            except DragonboatError:  # stopped (SystemStoppedError): no series but up 0
                up.add_sample(UP, host_labels, 0.0)
                continue
            up.add_sample(UP, host_labels, 1.0)
            for name, kind, help_text, samples in read:
                family = families.get(name)
                if family is None:
                    family = families[name] = _family(name, kind, help_text)
                for suffix, labels, value in samples:
                    sample_name = name + suffix
                    if family.type == "counter" and not suffix:
                        sample_name = family.name + "_total"
                    family.add_sample(sample_name, {**host_labels, **labels}, float(value))
        yield up
        yield from families.values()

    def describe(self) -> list[Metric]:
        """The families (without samples) this collector serves, for the registry's
        check for clashing names at registration: ``dragonboat_nodehost_up``, and
        the engine's families when one of the NodeHosts is running."""
        described: list[Metric] = [GaugeMetricFamily(UP, _UP_HELP)]
        for nh in self.nodehosts():
            try:
                read = nh._core.health_metric_families()
            except DragonboatError:
                continue
            described.extend(_family(name, kind, help_text) for name, kind, help_text, _ in read)
            break
        return described


# The collector register() put in each registry (registries held weakly).
_registered: weakref.WeakKeyDictionary[CollectorRegistry, NodeHostCollector] = (
    weakref.WeakKeyDictionary())
_registered_lock = threading.Lock()


def register(nodehost: NodeHost, registry: CollectorRegistry = REGISTRY, *,
             labels: Mapping[str, str] | None = None) -> NodeHostCollector:
    """Serves ``nodehost``'s metrics from ``registry`` (default: prometheus_client's
    global one, which ``start_http_server(port)`` serves) and returns the collector.

    One :class:`NodeHostCollector` per registry: the first call registers it,
    later ones add their NodeHost to it. ``labels`` as in
    :meth:`NodeHostCollector.add`.
    """
    if not isinstance(registry, CollectorRegistry):
        raise TypeError(f"registry must be a prometheus_client CollectorRegistry, "
                        f"not {_check.kind(registry)}")
    with _registered_lock:
        collector = _registered.get(registry)
        if collector is None:
            collector = NodeHostCollector(nodehost, labels=labels)
            registry.register(collector)
            _registered[registry] = collector
        else:
            collector.add(nodehost, labels=labels)
        return collector


def unregister(nodehost: NodeHost, registry: CollectorRegistry = REGISTRY) -> bool:
    """Stops serving ``nodehost``'s metrics from ``registry``; whether they were
    served (by :func:`register`). The collector leaves the registry with its last
    NodeHost."""
    with _registered_lock:
        collector = _registered.get(registry)
        if collector is None or not collector.remove(nodehost):
            return False
        if not collector.nodehosts():
            registry.unregister(collector)
            del _registered[registry]
        return True
