// The agent that workspaces download from /bin/berth-linux-amd64: `agent` and `agentapi` only,
// linked statically so that it runs in any Linux image.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "agent_commands.hpp"
#include "common/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Berth workspace agent"};
  app.require_subcommand(1);
  int exit_code = 0;
  berth::agent::AgentOptions agent_options;
  agent_options.version = "v" BERTH_PROJECT_VERSION;
  berth::add_agent_command(app, agent_options, exit_code);
  berth::agentapi::AgentapiOptions agentapi_options;
  berth::add_agentapi_command(app, agentapi_options, exit_code);
  berth::add_stat_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a usage error exits 1, as Coder's CLI does.
    return app.exit(e) == 0 ? 0 : 1;
  } catch (const berth::Error& e) {
    std::fprintf(stderr, "berth: %s%s%s\n", e.message().c_str(), e.detail().empty() ? "" : " ",
                 e.detail().c_str());
    return 1;
  }
  return exit_code;
}
