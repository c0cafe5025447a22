locals {
  names   = ["a", "b", "c"]
  upper   = [for n in local.names : upper(n) if n != "b"]
  byname  = { for i, n in local.names : n => i }
  joined  = join(",", local.upper)
  fmt     = format("%s-%04d", "x", 7)
  cond    = length(local.names) > 2 ? "many" : "few"
  math    = (1 + 2) * 3 / 4 % 5 - -1
  splat   = [{ v = 1 }, { v = 2 }][*].v
  tried   = try(tonumber("x"), 0)
  json    = jsonencode({ a = [1, 2, true, null] })
  decoded = jsondecode("{\"k\": [1, 2]}").k[1]
  re      = regexall("[a-z]+", "abc def")
  merged  = merge({ a = 1 }, { b = 2 })
  tpl     = templatefile("${path.module}/greeting.tftpl", { name = "you", list = [1, 2] })
}

output "all" {
  value = [local.joined, local.fmt, local.cond, local.math, local.decoded]
}
