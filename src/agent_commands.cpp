#include "agent_commands.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "agent/stat.hpp"

namespace berth {

void add_agentapi_command(CLI::App& app, agentapi::AgentapiOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "agentapi", "Run a terminal program (an AI coding CLI) and serve coder/agentapi's HTTP API.");
  cmd->add_option("--port,-p", options.port, "Port on 127.0.0.1 (0 picks a free one)")
      ->envname("AGENTAPI_PORT")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--initial-prompt,-I", options.initial_prompt,
                  "Typed into the program once its screen is first stable")
      ->envname("AGENTAPI_INITIAL_PROMPT");
  cmd->add_option("--status-slug", options.status_slug,
                  "App slug to report working/idle under (needs CODER_AGENT_URL and "
                  "CODER_AGENT_TOKEN)")
      ->envname("CODER_MCP_APP_STATUS_SLUG");
  cmd->add_option("--stable-after-ms", options.stable_after_ms,
                  "The screen is stable once unchanged for this long")
      ->capture_default_str()
      ->check(CLI::Range(10, 600000));
  cmd->add_option("--term-width,-W", options.term_width, "Terminal columns")
      ->capture_default_str()
      ->check(CLI::Range(10, 1000));
  cmd->add_option("--term-height,-H", options.term_height, "Terminal rows")
      ->capture_default_str()
      ->check(CLI::Range(10, 10000));
  cmd->add_option("--log-level", options.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  cmd->add_option("command", options.command, "The program to run, after --")->required();
  cmd->callback([&options, &exit_code] { exit_code = agentapi::run_agentapi(options); });
}

void add_agent_command(CLI::App& app, agent::AgentOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand("agent", "Run the workspace agent (inside a workspace).");
  // CLI11 keeps one envname per option; BERTH_AGENT_URL is read in the callback.
  cmd->add_option("--url", options.url, "The Berth server's URL")->envname("CODER_AGENT_URL");
  cmd->add_option("--log-level", options.log_level, "trace, debug, info, warn, error or off")
      ->envname("BERTH_LOG_LEVEL")
      ->capture_default_str();
  cmd->add_option("--pty-timeout", options.pty_timeout,
                  "How long a terminal nobody is attached to lives on (e.g. 5m, 30s)")
      ->envname("BERTH_AGENT_PTY_TIMEOUT")
      ->capture_default_str();
  cmd->callback([&options, &exit_code] {
    // The token only from the environment: a command line is visible to every process.
    for (const char* name : {"CODER_AGENT_TOKEN", "BERTH_AGENT_TOKEN"})
      if (const char* token = std::getenv(name); token && *token && options.token.empty())
        options.token = token;
    if (options.url.empty())
      if (const char* url = std::getenv("BERTH_AGENT_URL")) options.url = url;
    exit_code = agent::run_agent(options);
  });
}

void add_stat_command(CLI::App& app) {
  auto* stat = app.add_subcommand("stat", "Show CPU, memory and disk use (Coder's `coder stat`)");
  stat->require_subcommand(1);
  struct Options {
    bool host = false;
    std::string prefix = "Gi";
    std::string path = "/";
    std::string output = "text";
  };
  auto options = std::make_shared<Options>();
  auto print = [options](const agent::StatResult& r) {
    if (options->output == "json") {
      auto total = r.total ? fmt::format("{}", *r.total) : std::string("null");
      std::printf("{\"total\":%s,\"unit\":\"%s\",\"used\":%s}\n", total.c_str(), r.unit.c_str(),
                  fmt::format("{}", r.used).c_str());
    } else {
      std::printf("%s\n", r.to_string().c_str());
    }
  };
  auto common = [&](CLI::App* cmd) {
    cmd->add_option("-o,--output", options->output, "text or json")
        ->check(CLI::IsMember({"text", "json"}));
  };
  auto* cpu = stat->add_subcommand("cpu", "CPU in use, in cores (the container's, or --host)");
  cpu->add_flag("--host", options->host, "The whole host, not the container");
  common(cpu);
  cpu->callback([options, print] { print(agent::cpu_usage(options->host)); });
  auto* mem = stat->add_subcommand("mem", "Memory in use (the container's, or --host)");
  mem->add_flag("--host", options->host, "The whole host, not the container");
  mem->add_option("--prefix", options->prefix, "Ki, Mi, Gi or Ti")->capture_default_str();
  common(mem);
  mem->callback([options, print] { print(agent::memory_usage(options->host, options->prefix)); });
  auto* disk = stat->add_subcommand("disk", "Space used on the file system holding --path");
  disk->add_option("--path", options->path, "A path on the file system")->capture_default_str();
  disk->add_option("--prefix", options->prefix, "Ki, Mi, Gi or Ti")->capture_default_str();
  common(disk);
  disk->callback([options, print] { print(agent::disk_usage(options->path, options->prefix)); });
}

}  // namespace berth
