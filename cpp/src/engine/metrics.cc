#include "engine/metrics.h"

#include <cmath>
#include <cstdio>

namespace dragonboat::engine {

void metric_header(std::ostream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

void metric_value(std::ostream& out, const std::string& name, const std::string& labels, double value) {
  char buf[64];
  if (std::floor(value) == value && std::fabs(value) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", value);
  } else {
    std::snprintf(buf, sizeof(buf), "%.9g", value);
  }
  out << name;
  if (!labels.empty()) out << '{' << labels << '}';
  out << ' ' << buf << '\n';
}

}  // namespace dragonboat::engine
