#pragma once

#include <string>
#include <vector>

#include "http/request.hpp"

namespace berth::http {

// Which peers may say who the client is, as Coder's --proxy-trusted-headers and
// --proxy-trusted-origins: a request from a trusted origin (a reverse proxy) names its client
// in the first trusted header it carries; every other request's client is its peer.
class TrustedProxies {
 public:
  // `headers`: names such as X-Forwarded-For, Cf-Connecting-Ip; `origins`: addresses or CIDR
  // networks (192.168.1.0/24, ::1/128). Throws Error{invalid} naming a bad origin or header.
  TrustedProxies(const std::vector<std::string>& headers, const std::vector<std::string>& origins);

  bool empty() const { return headers_.empty() || networks_.empty(); }
  // Replaces the request's remote address with the client the trusted proxy names (the
  // rightmost address of the header's list that is not a trusted proxy itself), when the peer
  // is a trusted origin and the list holds addresses only; otherwise leaves it.
  void apply(Request& request) const;

 private:
  struct Network {
    std::vector<unsigned char> prefix;  // the network address's bytes (4 or 16)
    int bits = 0;
  };
  bool trusted(const std::string& peer_ip) const;

  std::vector<std::string> headers_;  // lower-cased
  std::vector<Network> networks_;
};

}  // namespace berth::http
