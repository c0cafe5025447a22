#include "agentapi/agent.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "common/error.hpp"

namespace berth::agentapi {

namespace {

constexpr auto kWriteTimeout = std::chrono::seconds(5);
// Enter goes after the echo shows, so TUIs do not take it as part of a paste.
constexpr auto kEchoWait = std::chrono::seconds(2);
// A send returns once the program visibly reacted to Enter, as agentapi's does.
constexpr auto kReactWait = std::chrono::seconds(15);
constexpr auto kTerminateGrace = std::chrono::seconds(5);
// Output still buffered in the terminal when the program exits is read, up to this much.
constexpr int kMaxDrainReads = 128;

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

std::string trim(const std::string& text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

Agent::Agent(AgentOptions options, const Clock& clock, StatusReporter* reporter,
             std::function<void()> on_exit)
    : options_(std::move(options)),
      clock_(clock),
      reporter_(reporter),
      on_exit_(std::move(on_exit)),
      hub_(options_.max_event_subscribers, options_.max_queued_events),
      screen_(options_.cols, options_.rows),
      conversation_(clock, options_.stable_after, options_.max_messages) {}

Agent::~Agent() {
  finish();
}

void Agent::start() {
  process_ = std::make_unique<pty::PtyProcess>(options_.argv, options_.cols, options_.rows);
  spdlog::info("started {} (pid {})", options_.argv.front(), process_->pid());
  {
    std::lock_guard lock(mutex_);
    report_status();
  }
  pump_thread_ = std::thread([this] { pump(); });
}

int Agent::finish() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (pump_thread_.joinable()) pump_thread_.join();
  if (prompt_thread_.joinable()) prompt_thread_.join();
  if (!process_) return 1;
  return process_->terminate(kTerminateGrace);
}

Status Agent::status() const {
  std::lock_guard lock(mutex_);
  return conversation_.status();
}

std::vector<Message> Agent::messages() const {
  std::lock_guard lock(mutex_);
  const auto& all = conversation_.messages();
  return {all.begin(), all.end()};
}

void Agent::pump() {
  auto last_snapshot = clock_.steady_now() - options_.snapshot_interval;
  bool terminal_open = true;
  std::string chunk;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    chunk.clear();
    if (terminal_open) {
      long n = process_->read_some(chunk, options_.snapshot_interval);
      if (n > 0) {
        std::lock_guard lock(mutex_);
        screen_.feed(chunk);
      }
      // A closed terminal polls as readable forever; from here on only the exit is awaited.
      terminal_open = n >= 0;
    } else {
      std::this_thread::sleep_for(options_.snapshot_interval);
    }
    if (auto code = process_->try_wait()) {
      spdlog::info("the program exited with code {}", *code);
      break;
    }
    if (clock_.steady_now() - last_snapshot >= options_.snapshot_interval) {
      snapshot();
      last_snapshot = clock_.steady_now();
    }
  }
  for (int i = 0; terminal_open && i < kMaxDrainReads; ++i) {
    chunk.clear();
    if (process_->read_some(chunk, std::chrono::milliseconds(0)) <= 0) break;
    std::lock_guard lock(mutex_);
    screen_.feed(chunk);
  }
  snapshot();
  {
    std::lock_guard lock(mutex_);
    exited_ = true;
  }
  changed_.notify_all();
  if (on_exit_) on_exit_();
}

void Agent::snapshot() {
  bool screen_changed = false;
  {
    std::lock_guard lock(mutex_);
    auto update = conversation_.observe(screen_.text());
    if (update.screen_changed) ++screen_version_;
    screen_changed = update.screen_changed;
    publish(update);
  }
  if (screen_changed) changed_.notify_all();
  maybe_type_initial_prompt();
}

void Agent::publish(const ConversationUpdate& update) {
  for (const auto& message : update.messages) hub_.publish(message_update_event(message));
  if (!update.status_changed) return;
  hub_.publish(status_change_event(conversation_.status()));
  report_status();
}

void Agent::report_status() {
  if (!reporter_) return;
  // Called with mutex_ held; report() never blocks.
  const auto& messages = conversation_.messages();
  const Message* last_user = nullptr;
  for (auto it = messages.rbegin(); it != messages.rend() && !last_user; ++it)
    if (it->role == Role::user) last_user = &*it;
  if (conversation_.status() == Status::stable)
    reporter_->report({"idle", "Waiting for input"});
  else
    reporter_->report({"working", last_user ? first_line(last_user->content) : "Starting"});
}

void Agent::maybe_type_initial_prompt() {
  auto prompt = trim(options_.initial_prompt);
  {
    std::lock_guard lock(mutex_);
    if (initial_prompt_started_ || prompt.empty() || conversation_.status() != Status::stable)
      return;
    initial_prompt_started_ = true;
  }
  // Its own thread: sending waits for screen changes that only this (pump) thread produces.
  prompt_thread_ = std::thread([this, prompt] {
    try {
      send_user(prompt);
    } catch (const std::exception& e) {
      spdlog::warn("could not type the initial prompt: {}", e.what());
    }
  });
}

std::uint64_t Agent::screen_version() const {
  std::lock_guard lock(mutex_);
  return screen_version_;
}

bool Agent::wait_for_change(std::uint64_t since, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout,
                           [&] { return screen_version_ > since || exited_ || stopping_; });
}

void Agent::send_user(const std::string& content) {
  std::uint64_t version = 0;
  {
    std::lock_guard lock(mutex_);
    if (exited_) throw Error{ErrorCode::unavailable, "The program has exited."};
    publish(conversation_.begin_user_message(content));
    version = screen_version_;
  }
  // However typing goes, the turn ends and agent output is tracked again.
  struct EndTurn {
    Agent& agent;
    ~EndTurn() {
      std::lock_guard lock(agent.mutex_);
      agent.publish(agent.conversation_.end_user_message());
    }
  } end_turn{*this};
  process_->write_all(content, kWriteTimeout);
  wait_for_change(version, kEchoWait);
  version = screen_version();
  process_->write_all("\r", kWriteTimeout);
  if (!wait_for_change(version, kReactWait))
    spdlog::warn("the program showed no reaction to a message within {}s", kReactWait.count());
}

void Agent::send_raw(const std::string& bytes) {
  {
    std::lock_guard lock(mutex_);
    if (exited_) throw Error{ErrorCode::unavailable, "The program has exited."};
  }
  process_->write_all(bytes, kWriteTimeout);
}

std::shared_ptr<EventSubscriber> Agent::subscribe() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> replay;
  for (const auto& message : conversation_.messages())
    replay.push_back(message_update_event(message));
  replay.push_back(status_change_event(conversation_.status()));
  return hub_.subscribe(replay);
}

}  // namespace berth::agentapi
