# An AI task template: the workspace runs an AI coding CLI (or any terminal program) inside
# `berth agentapi`, which the task's app points at. Push it, then create tasks with
# POST /api/v2/tasks/me {"template_version_id": ..., "input": "<prompt>"}.
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

data "coder_workspace" "me" {}
data "coder_task" "me" {}

data "coder_parameter" "agent_program" {
  name         = "agent_program"
  display_name = "AI agent"
  description  = "The terminal program that works on the task"
  type         = "string"
  default      = "sh"
  mutable      = true
  option {
    name  = "Shell (demo)"
    value = "sh"
  }
  option {
    name  = "Claude Code"
    value = "claude"
  }
  option {
    name  = "Aider"
    value = "aider"
  }
  option {
    name  = "Codex"
    value = "codex"
  }
  option {
    name  = "Goose"
    value = "goose"
  }
}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  env = {
    TASK_ID     = data.coder_task.me.id
    TASK_PROMPT = data.coder_task.me.prompt
  }
}

# `berth` is on the PATH of scripts the agent runs, so the template need not know where
# Berth is installed.
resource "coder_script" "agentapi" {
  agent_id     = coder_agent.main.id
  display_name = "AgentAPI"
  run_on_start = true
  script       = <<-EOT
    nohup berth agentapi --port 3284 --status-slug ai --initial-prompt "$TASK_PROMPT" \
      -- ${data.coder_parameter.agent_program.value} > "$HOME/agentapi.log" 2>&1 &
  EOT
}

# On stop, keep the conversation so that the task's logs can be read while it is paused.
resource "coder_script" "snapshot" {
  agent_id     = coder_agent.main.id
  display_name = "Save conversation"
  run_on_stop  = true
  script       = <<-EOT
    python3 - <<'PY' || true
    import os, urllib.request
    messages = urllib.request.urlopen("http://localhost:3284/messages", timeout=5).read()
    url = os.environ["CODER_AGENT_URL"] + "/api/v2/workspaceagents/me/tasks/" + os.environ["TASK_ID"] + "/log-snapshot?format=agentapi"
    if len(messages) <= 65536:  # the server's cap on a snapshot
        request = urllib.request.Request(url, data=messages, method="POST", headers={
            "Coder-Session-Token": os.environ["CODER_AGENT_TOKEN"], "Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10)
    PY
  EOT
}

resource "coder_app" "ai" {
  agent_id     = coder_agent.main.id
  slug         = "ai"
  display_name = "AI agent"
  url          = "http://localhost:3284/"
  healthcheck {
    url       = "http://localhost:3284/status"
    interval  = 3
    threshold = 20
  }
}

resource "coder_ai_task" "task" {
  count  = data.coder_workspace.me.start_count
  app_id = coder_app.ai.id
}

resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", coder_agent.main.init_script]
  env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
}
