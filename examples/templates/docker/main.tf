# A workspace as a Docker (or Podman) container, in the shape of Coder's quick-start Docker
# template: a home volume that survives stops, a container that exists only while the
# workspace runs, and the agent downloaded from the server inside the container. Berth runs it
# with its built-in provisioner: no Terraform and no provider downloads.
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
    docker = {
      source = "kreuzwerker/docker"
    }
    external = {
      source = "hashicorp/external"
    }
  }
}

variable "docker_socket" {
  default     = ""
  description = "(Optional) Docker socket URI, e.g. unix:///run/podman/podman.sock"
  type        = string
}

variable "image" {
  default     = "codercom/enterprise-base:ubuntu"
  description = "The workspace image: any Linux image with /bin/sh"
  type        = string
}

locals {
  username    = data.coder_workspace_owner.me.name
  socket_path = var.docker_socket != "" ? replace(var.docker_socket, "unix://", "") : "/var/run/docker.sock"
}

provider "docker" {
  # null keeps the provider's default (DOCKER_HOST, else /var/run/docker.sock).
  host = var.docker_socket != "" ? var.docker_socket : null
}

# Checks the engine before anything is created, so that an unreachable socket fails with a
# message that says what to fix rather than a provider error.
data "external" "docker_check" {
  program = ["sh", "-c", <<-EOT
    if [ -S "${local.socket_path}" ] && \
       curl -sf --unix-socket "${local.socket_path}" http://localhost/_ping >/dev/null 2>&1; then
      echo '{"status":"ok"}'
    else
      echo '{"status":"unreachable"}'
    fi
  EOT
  ]
}

data "coder_provisioner" "me" {}
data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

resource "coder_agent" "main" {
  arch           = data.coder_provisioner.me.arch
  os             = "linux"
  startup_script = <<-EOT
    set -e
    # Fill the home volume from the image's skeleton on first start.
    if [ ! -f ~/.init_done ]; then
      cp -rT /etc/skel ~
      touch ~/.init_done
    fi
  EOT

  env = {
    GIT_AUTHOR_NAME     = coalesce(data.coder_workspace_owner.me.full_name, data.coder_workspace_owner.me.name)
    GIT_AUTHOR_EMAIL    = data.coder_workspace_owner.me.email
    GIT_COMMITTER_NAME  = coalesce(data.coder_workspace_owner.me.full_name, data.coder_workspace_owner.me.name)
    GIT_COMMITTER_EMAIL = data.coder_workspace_owner.me.email
  }

  # `coder stat` is the agent's own command (the downloaded agent answers to `coder` too).
  metadata {
    display_name = "CPU Usage"
    key          = "0_cpu_usage"
    script       = "coder stat cpu"
    interval     = 10
    timeout      = 1
  }

  metadata {
    display_name = "RAM Usage"
    key          = "1_ram_usage"
    script       = "coder stat mem"
    interval     = 10
    timeout      = 1
  }

  metadata {
    display_name = "Home Disk"
    key          = "3_home_disk"
    script       = "coder stat disk --path $${HOME}"
    interval     = 60
    timeout      = 1
  }

  metadata {
    display_name = "CPU Usage (Host)"
    key          = "4_cpu_usage_host"
    script       = "coder stat cpu --host"
    interval     = 10
    timeout      = 1
  }

  metadata {
    display_name = "Memory Usage (Host)"
    key          = "5_mem_usage_host"
    script       = "coder stat mem --host"
    interval     = 10
    timeout      = 1
  }
}

# Registry modules are read from `berth server --terraform-module-dir`
# (<dir>/registry.coder.com/coder/code-server/coder/*.tf); see the README.
module "code-server" {
  count    = data.coder_workspace.me.start_count
  source   = "registry.coder.com/coder/code-server/coder"
  version  = "~> 1.0"
  agent_id = coder_agent.main.id
  order    = 1
}

resource "docker_volume" "home_volume" {
  name = "coder-${data.coder_workspace.me.id}-home"
  lifecycle {
    ignore_changes = all
    precondition {
      condition     = data.external.docker_check.result.status == "ok"
      error_message = "Could not reach Docker at ${local.socket_path}: is the daemon running, and may the server's user use its socket?"
    }
  }
  labels {
    label = "coder.owner"
    value = data.coder_workspace_owner.me.name
  }
  labels {
    label = "coder.owner_id"
    value = data.coder_workspace_owner.me.id
  }
  labels {
    label = "coder.workspace_id"
    value = data.coder_workspace.me.id
  }
  labels {
    label = "coder.workspace_name_at_creation"
    value = data.coder_workspace.me.name
  }
}

resource "docker_container" "workspace" {
  count    = data.coder_workspace.me.start_count
  image    = var.image
  name     = "coder-${data.coder_workspace_owner.me.name}-${lower(data.coder_workspace.me.name)}"
  hostname = data.coder_workspace.me.name
  # The container reaches a server on this host's loopback through the Docker gateway.
  entrypoint = ["sh", "-c", replace(coder_agent.main.init_script, "/localhost|127\\.0\\.0\\.1/", "host.docker.internal")]
  env        = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
  host {
    host = "host.docker.internal"
    ip   = "host-gateway"
  }
  volumes {
    container_path = "/home/coder"
    volume_name    = docker_volume.home_volume.name
    read_only      = false
  }
  labels {
    label = "coder.owner"
    value = data.coder_workspace_owner.me.name
  }
  labels {
    label = "coder.owner_id"
    value = data.coder_workspace_owner.me.id
  }
  labels {
    label = "coder.workspace_id"
    value = data.coder_workspace.me.id
  }
  labels {
    label = "coder.workspace_name"
    value = data.coder_workspace.me.name
  }
}
