variable "given" {}

resource "coder_script" "hello" {
  agent_id = "x"
  script   = <<-EOT
    #!/bin/sh
    echo "${var.given}"
    %{ for i in range(3) ~}
    echo ${i}
    %{ endfor ~}
    %{ if var.given == "fuzz" }yes%{ else }no%{ endif }
  EOT
  lifecycle {
    ignore_changes = [script]
  }
}
