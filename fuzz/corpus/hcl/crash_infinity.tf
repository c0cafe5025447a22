locals {
  a = 1e300 * 1e300
  b = jsondecode("[1e400]")
}
output "c" {
  value = [pow(10, 400)]
}
