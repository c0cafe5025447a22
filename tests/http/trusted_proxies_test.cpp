// Which client a request comes from when a reverse proxy stands in front: only a trusted
// origin's trusted header is believed, and only when it names an address.
#include "http/trusted_proxies.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace berth::http {
namespace {

Request from(std::string peer, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Request r;
  r.remote_address = std::move(peer);
  r.headers = std::move(headers);
  return r;
}

std::string client(const TrustedProxies& proxies, Request r) {
  proxies.apply(r);
  return r.remote_address;
}

TEST(TrustedProxies, BelievesTheClientATrustedOriginNames) {
  TrustedProxies proxies({"X-Forwarded-For", "Cf-Connecting-Ip"}, {"10.0.0.0/8", "::1"});
  EXPECT_EQ(client(proxies, from("10.1.2.3:5000", {{"x-forwarded-for", " 203.0.113.7, 10.9.9.9"}})),
            "203.0.113.7:0");
  EXPECT_EQ(client(proxies, from("::1:5000", {{"cf-connecting-ip", "2001:db8::5"}})),
            "2001:db8::5:0");
  // A client's own X-Forwarded-For, which the proxy appends to, is not believed: the client
  // is the rightmost entry that is not a trusted proxy.
  EXPECT_EQ(
      client(proxies, from("10.1.2.3:5000", {{"x-forwarded-for", "198.51.100.99, 203.0.113.7"}})),
      "203.0.113.7:0");
  EXPECT_EQ(client(proxies, from("10.1.2.3:5000", {{"x-forwarded-for", "10.0.0.9, 10.0.0.8"}})),
            "10.0.0.9:0");
  // The first of the trusted headers present wins.
  EXPECT_EQ(client(proxies, from("10.1.2.3:1", {{"x-forwarded-for", "198.51.100.1"},
                                                {"cf-connecting-ip", "198.51.100.2"}})),
            "198.51.100.1:0");
}

TEST(TrustedProxies, IgnoresOthersAndWhatIsNotAnAddress) {
  TrustedProxies proxies({"X-Forwarded-For"}, {"10.0.0.0/8"});
  // Not a trusted origin: anyone can send the header.
  EXPECT_EQ(client(proxies, from("192.0.2.1:5000", {{"x-forwarded-for", "203.0.113.7"}})),
            "192.0.2.1:5000");
  EXPECT_EQ(client(proxies, from("11.0.0.1:5000", {{"x-forwarded-for", "203.0.113.7"}})),
            "11.0.0.1:5000");
  // Not an address, or a header that is not trusted.
  EXPECT_EQ(client(proxies, from("10.0.0.1:5000", {{"x-forwarded-for", "nonsense"}})),
            "10.0.0.1:5000");
  EXPECT_EQ(client(proxies, from("10.0.0.1:5000", {{"true-client-ip", "203.0.113.7"}})),
            "10.0.0.1:5000");
  // An IPv4 peer written as IPv4-mapped IPv6 is the same peer.
  EXPECT_EQ(client(proxies, from("::ffff:10.0.0.1:5000", {{"x-forwarded-for", "203.0.113.7"}})),
            "203.0.113.7:0");
}

TEST(TrustedProxies, NetworksMatchOnTheirPrefixBits) {
  TrustedProxies proxies({"X-Forwarded-For"}, {"192.168.4.0/22"});
  auto believed = [&](const std::string& peer) {
    return client(proxies, from(peer + ":1", {{"x-forwarded-for", "203.0.113.7"}})) ==
           "203.0.113.7:0";
  };
  EXPECT_TRUE(believed("192.168.4.1"));
  EXPECT_TRUE(believed("192.168.7.255"));
  EXPECT_FALSE(believed("192.168.8.0"));
  EXPECT_FALSE(believed("192.168.3.255"));
}

TEST(TrustedProxies, NothingToApplyWithoutBothLists) {
  EXPECT_TRUE(TrustedProxies({"X-Forwarded-For"}, {}).empty());
  EXPECT_TRUE(TrustedProxies({}, {"10.0.0.0/8"}).empty());
  EXPECT_FALSE(TrustedProxies({"X-Forwarded-For"}, {"10.0.0.0/8"}).empty());
}

TEST(TrustedProxies, RefusesBadOriginsAndHeaderNames) {
  for (std::string bad : {"10.0.0.0/33", "10.0.0.0/x", "not-an-ip", "::1/129", "10.0.0.0/"})
    EXPECT_THROW(TrustedProxies({"X-Forwarded-For"}, {bad}), Error) << bad;
  EXPECT_THROW(TrustedProxies({"X Forwarded"}, {"10.0.0.0/8"}), Error);
}

}  // namespace
}  // namespace berth::http
