# instagram-app: what one application gets. It reads the current token of
# one account and nothing else: not the other accounts' tokens, not the
# accounts' metadata, not the app's configuration.
#
# One policy per application; change "demo" (the account `make dev`
# registers) to the account it publishes as.
#
#   vault policy write instagram-demo-app docs/policies/instagram-app.hcl
#   vault token create -policy=instagram-demo-app
#
# Vault Agent (auto_auth method "token_file", for example) also needs the
# "default" policy, which lets a token look itself up.

path "instagram/token/demo" {
  capabilities = ["read"]
}
