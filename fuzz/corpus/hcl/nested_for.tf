locals {
  x = [for a in range(10) : [for b in range(10) : "${a}${b}"]]
  y = flatten(local.x)
  z = { for s in local.y : s => substr(s, 0, 1)... }
}
