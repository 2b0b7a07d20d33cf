#include "common/address.h"

#include <exception>

namespace dragonboat {

bool split_address(const std::string& address, std::string* host, uint16_t* port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= address.size()) return false;
  *host = address.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  unsigned long p = 0;
  try {
    size_t used = 0;
    p = std::stoul(address.substr(colon + 1), &used);
    if (used != address.size() - colon - 1 || p > 65535) return false;
  } catch (const std::exception&) {
    return false;
  }
  *port = static_cast<uint16_t>(p);
  return true;
}

}  // namespace dragonboat
