// bindings/sim.cc — exposes the deterministic Raft simulation (the
// project's main job until the engine lands, and a self-check for users).
#include <pybind11/pybind11.h>

#include "sim/simulator.h"

namespace py = pybind11;

void register_sim(py::module_& m) {
  m.def(
      "simulate",
      [](uint64_t seed, uint64_t steps) {
        dragonboat::sim::SimResult r;
        {
          // Pure C++ work on local data: safe to run without the GIL.
          py::gil_scoped_release release;
          dragonboat::sim::SimOptions o;
          o.seed = seed;
          o.steps = steps;
          r = dragonboat::sim::run_simulation(o);
        }
        py::dict d;
        d["seed"] = seed;
        d["steps"] = r.stats.steps;
        d["writes_acked"] = r.stats.writes_acked;
        d["reads_confirmed"] = r.stats.reads_confirmed;
        d["leader_elections"] = r.stats.leader_elections;
        d["config_changes"] = r.stats.config_changes;
        d["snapshots_installed"] = r.stats.snapshots_installed;
        d["crashes"] = r.stats.crashes;
        d["messages"] = r.stats.messages;
        d["dropped_messages"] = r.stats.dropped_messages;
        d["settings"] = r.settings;
        py::list v;
        for (const auto& s : r.violations) v.append(s);
        d["violations"] = v;
        d["replay"] = dragonboat::sim::replay_command(seed, steps);
        return d;
      },
      py::arg("seed"), py::arg("steps") = 2000,
      "Run one seed of the deterministic Raft simulation; returns its statistics and violations.");
}
