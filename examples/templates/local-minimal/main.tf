# A workspace that runs on the Berth server's own machine: one agent, a startup script and
# one web app. Push it with:  berth templates push local-minimal -d examples/templates/local-minimal
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

data "coder_provisioner" "me" {}
data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

resource "coder_agent" "main" {
  arch = data.coder_provisioner.me.arch
  os   = "linux"
  dir  = "/tmp"

  startup_script = <<-EOT
    echo "Hello from ${data.coder_workspace.me.name}, owned by ${data.coder_workspace_owner.me.name}"
    mkdir -p "$HOME/www" && echo "<h1>It works</h1>" > "$HOME/www/index.html"
    nohup python3 -m http.server 8000 --directory "$HOME/www" >/dev/null 2>&1 &
  EOT

  env = {
    GIT_AUTHOR_NAME = data.coder_workspace_owner.me.full_name
  }

  metadata {
    display_name = "Load"
    key          = "load"
    script       = "cat /proc/loadavg"
    interval     = 10
    timeout      = 1
  }
}

resource "coder_app" "web" {
  agent_id     = coder_agent.main.id
  slug         = "web"
  display_name = "Web"
  url          = "http://localhost:8000"
  share        = "owner"

  healthcheck {
    url       = "http://localhost:8000"
    interval  = 5
    threshold = 6
  }
}

# The workspace itself: a process tree on this machine that runs the agent.
resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", coder_agent.main.init_script]
  env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
}

resource "coder_metadata" "workspace" {
  count       = data.coder_workspace.me.start_count
  resource_id = berth_process.workspace[0].id
  item {
    key   = "kind"
    value = "local process"
  }
}
