#include "http/trusted_proxies.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>

#include "common/error.hpp"

namespace berth::http {

namespace {

namespace ip = boost::asio::ip;

// Entries of a forwarding header looked at, at most: a header is bounded by the server's
// header limit, this by a number.
constexpr std::size_t kMaxHops = 64;

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// An address's bytes, IPv4-mapped IPv6 addresses as IPv4; empty when `text` is not an address.
std::vector<unsigned char> address_bytes(const std::string& text) {
  boost::system::error_code ec;
  auto address = ip::make_address(text, ec);
  if (ec) return {};
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    address = ip::make_address_v4(ip::v4_mapped, address.to_v6());
  if (address.is_v4()) {
    auto b = address.to_v4().to_bytes();
    return {b.begin(), b.end()};
  }
  auto b = address.to_v6().to_bytes();
  return {b.begin(), b.end()};
}

// The peer's address without its port: "1.2.3.4:5" and "::1:5" (as the server writes them).
std::string peer_ip(const std::string& remote) {
  auto colon = remote.rfind(':');
  return colon == std::string::npos ? remote : remote.substr(0, colon);
}

}  // namespace

TrustedProxies::TrustedProxies(const std::vector<std::string>& headers,
                               const std::vector<std::string>& origins) {
  for (const auto& h : headers) {
    auto name = lower(trim(h));
    if (name.empty()) continue;
    if (!std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
        }))
      throw Error{ErrorCode::invalid, "Invalid --proxy-trusted-headers entry \"" + h + "\".",
                  "A header name has letters, digits and dashes only."};
    headers_.push_back(name);
  }
  for (const auto& o : origins) {
    auto text = trim(o);
    if (text.empty()) continue;
    auto slash = text.find('/');
    Network network;
    network.prefix = address_bytes(text.substr(0, slash));
    int max_bits = int(network.prefix.size()) * 8;
    network.bits = max_bits;
    bool ok = !network.prefix.empty();
    if (ok && slash != std::string::npos) {
      try {
        std::size_t used = 0;
        network.bits = std::stoi(text.substr(slash + 1), &used);
        ok = used == text.size() - slash - 1 && network.bits >= 0 && network.bits <= max_bits;
      } catch (const std::exception&) {
        ok = false;
      }
    }
    if (!ok)
      throw Error{ErrorCode::invalid, "Invalid --proxy-trusted-origins entry \"" + o + "\".",
                  "Use an IP address or a CIDR network, e.g. 192.168.1.0/24 or ::1/128."};
    networks_.push_back(std::move(network));
  }
}

bool TrustedProxies::trusted(const std::string& ip_text) const {
  auto bytes = address_bytes(ip_text);
  for (const auto& n : networks_) {
    if (n.prefix.size() != bytes.size()) continue;
    int full = n.bits / 8;
    int rest = n.bits % 8;
    if (!std::equal(bytes.begin(), bytes.begin() + full, n.prefix.begin())) continue;
    unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
    if (rest == 0 || (bytes[full] & mask) == (n.prefix[full] & mask)) return true;
  }
  return false;
}

void TrustedProxies::apply(Request& request) const {
  if (empty() || !trusted(peer_ip(request.remote_address))) return;
  for (const auto& name : headers_) {
    auto value = request.header(name);
    if (!value) continue;
    // A proxy appends the address it saw to what the client sent, which the client may have
    // made up: the client is the rightmost entry that is not itself a trusted proxy.
    std::vector<std::string> hops;
    for (std::string_view rest = *value;;) {
      auto comma = rest.find(',');
      hops.push_back(trim(rest.substr(0, comma)));
      if (comma == std::string_view::npos || hops.size() >= kMaxHops) break;
      rest.remove_prefix(comma + 1);
    }
    std::string client;
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
      if (address_bytes(*it).empty()) return;  // not an address: the peer stands
      client = *it;
      if (!trusted(client)) break;
    }
    request.remote_address = client + ":0";  // the proxy does not say the client's port
    return;
  }
}

}  // namespace berth::http
