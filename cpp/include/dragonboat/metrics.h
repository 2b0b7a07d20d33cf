// dragonboat/metrics.h — the health metrics of a NodeHost as numbers
// (NodeHost::get_health_metrics), in the shape of Prometheus metric families,
// and their text exposition (write_prometheus_text; NodeHost's
// write_health_metrics renders the same snapshot). Names and meanings:
// docs/operations.md, "Metrics".
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace dragonboat {

enum class MetricType { kCounter, kGauge, kHistogram };

// One value of a family: host-wide (no labels), per replica (cluster_id and
// node_id labels), or one series of a histogram (suffix "_bucket" with an
// "le" label, "_sum", "_count").
struct MetricSample {
  std::string suffix;  // appended to the family's name; empty for counters and gauges
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

struct MetricFamily {
  std::string name;  // e.g. dragonboat_raft_term
  MetricType type = MetricType::kGauge;
  std::string help;
  std::vector<MetricSample> samples;
};

// A consistent-enough snapshot: every value is read once, atomically per
// value (not across values).
struct HealthMetrics {
  std::vector<MetricFamily> families;

  // The sum of every sample of the family `name` (e.g. a counter over all
  // its labels); 0 when there is no such family.
  double total(const std::string& name) const;
};

// The Prometheus text exposition format (version 0.0.4) of `m`.
void write_prometheus_text(const HealthMetrics& m, std::ostream& out);

// "counter", "gauge" or "histogram".
const char* metric_type_name(MetricType t);

}  // namespace dragonboat
