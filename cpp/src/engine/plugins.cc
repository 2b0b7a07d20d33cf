// engine/plugins.cc — dragonboat/plugins.h: the in-memory LogDB and the
// in-process transport, as public factories over the engine's own
// implementations (logdb/logdb.h, transport/inproc_transport.h).
#include "dragonboat/plugins.h"

#include "dragonboat/config.h"
#include "logdb/logdb.h"
#include "transport/inproc_transport.h"

namespace dragonboat::plugins {

raftio::LogDBFactory memory_logdb() {
  return [](const raftio::LogDBArgs& args, std::unique_ptr<raftio::ILogDB>* out) {
    *out = logdb::new_mem_logdb(args.shards);
    return Status::OK();
  };
}

struct InProcessNetwork::Impl {
  transport::InProcNetwork network;
};

InProcessNetwork::InProcessNetwork() : impl_(std::make_shared<Impl>()) {}
InProcessNetwork::~InProcessNetwork() = default;

raftio::TransportFactory InProcessNetwork::transport_factory() {
  std::shared_ptr<Impl> impl = impl_;
  return [impl](const raftio::TransportArgs& args, std::unique_ptr<raftio::ITransport>* out) {
    // An InProcTransport points at its network: each one made here also
    // holds the network, which so outlives it.
    struct Transport : transport::InProcTransport {
      Transport(std::shared_ptr<Impl> keep, const raftio::TransportArgs& a)
          : transport::InProcTransport(a.config->raft_address, &keep->network, a.resolver, a.handler, 1 << 16,
                                       a.snapshot_dir),
            keep_(std::move(keep)) {}
      ~Transport() override { stop(); }  // before keep_ lets the network go
      std::shared_ptr<Impl> keep_;
    };
    *out = std::make_unique<Transport>(impl, args);
    return Status::OK();
  };
}

void InProcessNetwork::partition(const std::string& a, const std::string& b) { impl_->network.partition(a, b); }

void InProcessNetwork::heal() { impl_->network.heal(); }

}  // namespace dragonboat::plugins
