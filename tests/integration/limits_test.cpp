// Request limits and shutdown of the real binary.
#include <gtest/gtest.h>

#include "integration/fixtures.hpp"
#include "integration/server_process.hpp"
#include "support/temp_dir.hpp"

namespace berth::testing {
namespace {

TEST(ServerLimits, RefusesBodiesOverTheConfiguredLimitWith413) {
  TempDir dir;
  ServerProcess server(dir.path().string(), {"--max-body-bytes", "2048"});
  sdk::Client client(server.url());
  auto big = client.request("POST", "/api/v2/users/first", std::string(4096, 'x'),
                            {{"Content-Type", "application/json"}});
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(message_of(big), "Request body is too large.");
  sdk::Client again(server.url());
  EXPECT_EQ(again.request("GET", "/healthz").status, 200);
  EXPECT_EQ(again.request("GET", "/api/v2/users/first").status, 404);  // nothing half-written
}

TEST(ServerLimits, ShutsDownCleanlyOnSigterm) {
  TempDir dir;
  ServerProcess server(dir.path().string());
  sdk::Client client(server.url());
  EXPECT_EQ(client.request("GET", "/healthz").status, 200);
  EXPECT_EQ(server.stop(), 0);
  auto log = server.log();
  EXPECT_NE(log.find("shutting down"), std::string::npos) << log;
  EXPECT_NE(log.find("GET /healthz 200"), std::string::npos) << log;  // the access log
}

}  // namespace
}  // namespace berth::testing
