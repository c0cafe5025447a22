#include "api/direct_app_http.hpp"

#include <boost/url/parse.hpp>

#include "common/error.hpp"
#include "sdk/client.hpp"

namespace berth::api {

coderd::AppHttpResponse DirectAppHttpClient::request(const Uuid&, const std::string& method,
                                                     const std::string& url,
                                                     const std::string& body) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "http")
    throw Error{ErrorCode::invalid, "Only http scheme is supported for direct agent-dial."};
  std::string base = "http://";
  base.append(parsed->host());
  if (parsed->has_port()) {
    base.push_back(':');
    base.append(parsed->port());
  }
  std::string target = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
  if (parsed->has_query()) {
    target.push_back('?');
    target.append(parsed->encoded_query());
  }
  try {
    sdk::Client client(base);
    auto r = client.request(method, target, body,
                            body.empty() ? std::vector<std::pair<std::string, std::string>>{}
                                         : std::vector<std::pair<std::string, std::string>>{
                                               {"Content-Type", "application/json"}});
    return {r.status, r.body};
  } catch (const Error& e) {
    throw Error{ErrorCode::unavailable, "Failed to reach task app endpoint.", e.detail()};
  }
}

}  // namespace berth::api
