// common/address.h — "host:port" addresses as the configuration, the
// transport and the membership calls read them.
#pragma once

#include <cstdint>
#include <string>

namespace dragonboat {

// Splits "host:port" (IPv6 as "[::1]:port"; the brackets are removed) into
// its host and port. False when there is no host, or the port is not a
// number in [0, 65535] (port 0: any port, for a listening address).
bool split_address(const std::string& address, std::string* host, uint16_t* port);

}  // namespace dragonboat
