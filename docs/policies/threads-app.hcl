# threads-app: what one application publishing to Threads gets. It reads
# the current Threads token of one account on the Threads mount (threads/,
# as `make dev` mounts it) and nothing else, as instagram-app.hcl does for
# an Instagram account.
#
# One policy per application; change "demo" to the account it publishes as.
#
#   vault policy write threads-demo-app docs/policies/threads-app.hcl
#   vault token create -policy=threads-demo-app
#
# An application that publishes through the engine instead of holding the
# token needs "read" and "update" on "threads/proxy/demo/*" instead (see
# docs/proxy.md).

path "threads/token/demo" {
  capabilities = ["read"]
}
