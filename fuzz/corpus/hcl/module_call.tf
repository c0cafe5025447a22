module "sub" {
  source = "./sub"
  count  = 2
  n      = count.index + 1
}

resource "coder_app" "web" {
  for_each = toset(["one", "two"])
  slug     = each.key
  url      = "http://localhost:${module.sub[0].twice}"
  depends_on = [module.sub]
}

data "coder_parameter" "region" {
  name    = "region"
  default = "eu"
  validation {
    regex = "^[a-z]+$"
    error = "lower case"
  }
}
