// Asio's OpenSSL layer compiled once (the project builds Asio separately, see third_party/),
// here because only the Docker client speaks TLS.
#include <boost/asio/ssl/impl/src.hpp>
