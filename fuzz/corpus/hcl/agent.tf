terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

data "coder_workspace" "me" {}

variable "image" {
  type    = string
  default = "debian"
}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  env = {
    GREETING = "hi ${data.coder_workspace.me.name}"
  }
  metadata {
    key          = "cpu"
    display_name = "CPU"
    script       = "top -bn1"
    interval     = 10
  }
}

resource "local_process" "dev" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", coder_agent.main.init_script]
}
