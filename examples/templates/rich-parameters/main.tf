# Rich parameters of every type, with options and validation, as Coder templates use them.
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

variable "default_region" {
  type        = string
  description = "Region preselected for new workspaces"
  default     = "eu"
}

data "coder_workspace" "me" {}

data "coder_parameter" "region" {
  name         = "region"
  display_name = "Region"
  description  = "Where the workspace runs"
  type         = "string"
  default      = var.default_region
  mutable      = false
  order        = 1
  option {
    name  = "Europe"
    value = "eu"
  }
  option {
    name  = "United States"
    value = "us"
  }
}

data "coder_parameter" "cpus" {
  name    = "cpus"
  type    = "number"
  default = 2
  mutable = true
  order   = 2
  validation {
    min       = 1
    max       = 8
    monotonic = "increasing"
  }
}

data "coder_parameter" "dotfiles" {
  name     = "dotfiles_url"
  type     = "string"
  default  = ""
  mutable  = true
  order    = 3
  validation {
    regex = "^(https://.*)?$"
    error = "Use an https:// URL"
  }
}

data "coder_parameter" "gpu" {
  name    = "gpu"
  type    = "bool"
  default = false
  order   = 4
}

data "coder_parameter" "tools" {
  name      = "tools"
  type      = "list(string)"
  default   = jsonencode(["git", "make"])
  mutable   = true
  form_type = "multi-select"
  order     = 5
}

data "coder_parameter" "token" {
  name      = "session_note"
  type      = "string"
  default   = "none"
  ephemeral = true
  mutable   = true
  order     = 6
}

data "coder_workspace_preset" "small" {
  name = "Small"
  parameters = {
    region = "eu"
    cpus   = "2"
  }
}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  env = {
    REGION = data.coder_parameter.region.value
    CPUS   = tostring(data.coder_parameter.cpus.value)
    TOOLS  = join(",", jsondecode(data.coder_parameter.tools.value))
  }
}

resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", coder_agent.main.init_script]
  env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
}
