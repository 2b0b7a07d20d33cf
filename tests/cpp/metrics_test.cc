// The Prometheus text exposition of a HealthMetrics snapshot: the exact
// lines a scraper parses (HELP/TYPE per family, labels, integer formatting,
// escaping), so the structured snapshot and the text cannot drift apart.
#include <gtest/gtest.h>

#include <sstream>

#include "dragonboat/metrics.h"

namespace dragonboat {
namespace {

TEST(PrometheusText, FamiliesSamplesAndLabels) {
  HealthMetrics m;
  MetricFamily term{"dragonboat_raft_term", MetricType::kGauge, "Current term.", {}};
  term.samples.push_back(MetricSample{"", {{"cluster_id", "7"}, {"node_id", "2"}}, 3});
  MetricFamily sync{"db_sync_seconds", MetricType::kHistogram, "Sync latency.", {}};
  sync.samples.push_back(MetricSample{"_bucket", {{"le", "0.001"}}, 5});
  sync.samples.push_back(MetricSample{"_bucket", {{"le", "+Inf"}}, 6});
  sync.samples.push_back(MetricSample{"_sum", {}, 0.0125});
  sync.samples.push_back(MetricSample{"_count", {}, 6});
  MetricFamily saves{"db_saves_total", MetricType::kCounter, "Saves.", {}};
  saves.samples.push_back(MetricSample{"", {}, 12345678901234.0});
  m.families = {term, sync, saves};
  std::ostringstream out;
  write_prometheus_text(m, out);
  EXPECT_EQ(out.str(),
            "# HELP dragonboat_raft_term Current term.\n"
            "# TYPE dragonboat_raft_term gauge\n"
            "dragonboat_raft_term{cluster_id=\"7\",node_id=\"2\"} 3\n"
            "# HELP db_sync_seconds Sync latency.\n"
            "# TYPE db_sync_seconds histogram\n"
            "db_sync_seconds_bucket{le=\"0.001\"} 5\n"
            "db_sync_seconds_bucket{le=\"+Inf\"} 6\n"
            "db_sync_seconds_sum 0.0125\n"
            "db_sync_seconds_count 6\n"
            "# HELP db_saves_total Saves.\n"
            "# TYPE db_saves_total counter\n"
            "db_saves_total 12345678901234\n");
}

TEST(HealthMetrics, TotalSumsAFamilyOverItsLabels) {
  HealthMetrics m;
  MetricFamily sent{"bytes_sent_total", MetricType::kCounter, "Bytes.", {}};
  sent.samples.push_back(MetricSample{"", {{"to", "a"}}, 100});
  sent.samples.push_back(MetricSample{"", {{"to", "b"}}, 23.5});
  MetricFamily other{"other", MetricType::kGauge, "Other.", {}};
  other.samples.push_back(MetricSample{"", {}, 7});
  m.families = {sent, other};
  EXPECT_EQ(m.total("bytes_sent_total"), 123.5);
  EXPECT_EQ(m.total("other"), 7);
  EXPECT_EQ(m.total("missing"), 0);
}

TEST(PrometheusText, LabelValuesAreEscaped) {
  HealthMetrics m;
  MetricFamily f{"x", MetricType::kGauge, "h", {}};
  f.samples.push_back(MetricSample{"", {{"path", "a\"b\\c\nd"}}, 1});
  m.families = {f};
  std::ostringstream out;
  write_prometheus_text(m, out);
  EXPECT_EQ(out.str(), "# HELP x h\n# TYPE x gauge\nx{path=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(PrometheusText, TypeNames) {
  EXPECT_STREQ(metric_type_name(MetricType::kCounter), "counter");
  EXPECT_STREQ(metric_type_name(MetricType::kGauge), "gauge");
  EXPECT_STREQ(metric_type_name(MetricType::kHistogram), "histogram");
}

}  // namespace
}  // namespace dragonboat
