// engine/prometheus.cc — the Prometheus text exposition (version 0.0.4) of a
// HealthMetrics snapshot (dragonboat/metrics.h).
#include <cmath>
#include <cstdio>

#include "common/enum_util.h"
#include "dragonboat/metrics.h"

namespace dragonboat {

double HealthMetrics::total(const std::string& name) const {
  double v = 0;
  for (const MetricFamily& f : families) {
    if (f.name != name) continue;
    for (const MetricSample& s : f.samples) v += s.value;
  }
  return v;
}

const char* metric_type_name(MetricType t) {
  static const char* const kNames[] = {"counter", "gauge", "histogram"};  // in MetricType's order
  return enum_name(t, kNames, MetricType::kCounter, "untyped");
}

namespace {
// Integers as integers (counters read naturally), the rest with 9 digits.
void write_number(std::ostream& out, double value) {
  char buf[64];
  if (std::floor(value) == value && std::fabs(value) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", value);
  } else {
    std::snprintf(buf, sizeof(buf), "%.9g", value);
  }
  out << buf;
}

// Label values are IDs and bucket bounds here; escaped as the format asks.
void write_label_value(std::ostream& out, const std::string& v) {
  for (char c : v) {
    if (c == '\\' || c == '"') out << '\\' << c;
    else if (c == '\n') out << "\\n";
    else out << c;
  }
}
}  // namespace

void write_prometheus_text(const HealthMetrics& m, std::ostream& out) {
  for (const MetricFamily& f : m.families) {
    out << "# HELP " << f.name << ' ' << f.help << "\n# TYPE " << f.name << ' ' << metric_type_name(f.type) << '\n';
    for (const MetricSample& s : f.samples) {
      out << f.name << s.suffix;
      if (!s.labels.empty()) {
        out << '{';
        for (size_t i = 0; i < s.labels.size(); ++i) {
          if (i) out << ',';
          out << s.labels[i].first << "=\"";
          write_label_value(out, s.labels[i].second);
          out << '"';
        }
        out << '}';
      }
      out << ' ';
      write_number(out, s.value);
      out << '\n';
    }
  }
}

}  // namespace dragonboat
