#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace berth::testing {

// A stand-in for the load balancer in front of several replicas: listens on a free loopback
// port and relays each new connection to the current target port, which a test changes (as a
// load balancer moves traffic off a replica that died). Connections already relayed stay
// where they are; drop_all() cuts them, as a dead replica's connections end.
class TcpSwitch {
 public:
  explicit TcpSwitch(int target_port);
  ~TcpSwitch();
  TcpSwitch(const TcpSwitch&) = delete;
  TcpSwitch& operator=(const TcpSwitch&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_target(int port) { target_ = port; }
  // Closes every relayed connection.
  void drop_all();

 private:
  void accept_loop();
  void relay(int client);

  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> target_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<int> open_;  // both ends of every relayed connection; guarded by mutex_
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// The port of a URL like http://127.0.0.1:1234.
int port_of(const std::string& url);

}  // namespace berth::testing
