"""The NodeHost's health metrics parse as Prometheus text with real values.

Three NodeHost processes (the C++ engine benchmark, built with the C++ tree
by `scripts/dev.sh test`) run two groups for a second; host 1 writes its
metrics, which prometheus_client's parser must accept.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("DRAGONBOAT_BUILD_DIR", ROOT / "build" / "dev"))
BENCH = BUILD / "benchmarks" / "nodehost_bench"


@pytest.fixture(scope="module")
def metrics_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    assert BENCH.exists(), f"{BENCH} is missing: build the C++ tree first (scripts/dev.sh test)"
    out = tmp_path_factory.mktemp("metrics") / "metrics.txt"
    subprocess.run(
        [str(BENCH), "--groups", "2", "--seconds", "1", "--inflight", "4", "--metrics", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out.read_text()


def test_metrics_parse_with_a_prometheus_parser(metrics_text: str) -> None:
    families = {f.name: f for f in text_string_to_metric_families(metrics_text)}
    # Counter families are reported without their _total suffix by the parser.
    for name in (
        "dragonboat_step_passes",
        "dragonboat_logdb_saves",
        "dragonboat_logdb_sync_seconds",
        "dragonboat_transport_bytes_sent",
        "dragonboat_transport_messages_received",
        "dragonboat_raft_term",
        "dragonboat_raft_is_leader",
        "dragonboat_proposals",
        "dragonboat_entries_applied",
    ):
        assert name in families, f"{name} missing from the metrics"
    assert families["dragonboat_logdb_sync_seconds"].type == "histogram"


def test_metrics_carry_the_work_done(metrics_text: str) -> None:
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(metrics_text)
        for s in f.samples
    }
    assert samples[("dragonboat_logdb_sync_seconds_count", ())] > 0
    assert samples[("dragonboat_logdb_saves_total", ())] > 0
    groups = {("cluster_id", "1"), ("cluster_id", "2")}
    terms = {
        labels: v for (name, labels), v in samples.items() if name == "dragonboat_raft_term"
    }
    assert {label for labels in terms for label in labels if label[0] == "cluster_id"} == groups
    assert all(v >= 1 for v in terms.values())
    applied = [v for (name, _), v in samples.items() if name == "dragonboat_entries_applied_total"]
    assert len(applied) == 2 and all(v > 0 for v in applied)
