#include "support/tcp_switch.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace berth::testing {

namespace {

sockaddr_in loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  return addr;
}

// Copies what arrives on either socket to the other until one side ends.
void pump(int a, int b) {
  char buf[64 * 1024];
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) return;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) return;
      for (ssize_t sent = 0; sent < n;) {
        auto w = ::write(fds[1 - i].fd, buf + sent, std::size_t(n - sent));
        if (w <= 0) return;
        sent += w;
      }
    }
  }
}

}  // namespace

TcpSwitch::TcpSwitch(int target_port) : target_(target_port) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = loopback(0);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_, 64) != 0)
    throw std::runtime_error("TcpSwitch: cannot listen");
  socklen_t len = sizeof addr;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpSwitch::~TcpSwitch() {
  stopping_ = true;
  ::shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  ::close(listener_);
  drop_all();
  for (auto& t : threads_) t.join();
}

void TcpSwitch::drop_all() {
  std::lock_guard lock(mutex_);
  for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
}

void TcpSwitch::accept_loop() {
  while (!stopping_) {
    int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (stopping_) return;
      continue;
    }
    std::lock_guard lock(mutex_);
    threads_.emplace_back([this, client] { relay(client); });
  }
}

void TcpSwitch::relay(int client) {
  int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = loopback(target_);
  if (::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    {
      std::lock_guard lock(mutex_);
      open_.push_back(client);
      open_.push_back(upstream);
    }
    pump(client, upstream);
    std::lock_guard lock(mutex_);
    std::erase(open_, client);
    std::erase(open_, upstream);
  }
  ::close(upstream);
  ::close(client);
}

int port_of(const std::string& url) {
  return std::stoi(url.substr(url.rfind(':') + 1));
}

}  // namespace berth::testing
