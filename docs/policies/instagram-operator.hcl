# instagram-operator: the people who run the engine. They configure the Meta
# app, register, inspect, refresh and remove accounts, hand out authorization
# links and watch the engine's health. They never need a token: there is no
# rule for instagram/token/, so they cannot read one.
#
#   vault policy write instagram-operator docs/policies/instagram-operator.hcl

# The Meta app: app_id, app_secret (write-only), redirect URIs, refresh window.
path "instagram/config" {
  capabilities = ["create", "read", "update", "delete"]
}

# List account names (vault list instagram/accounts).
path "instagram/accounts" {
  capabilities = ["list"]
}

# Register, read (metadata and health, never the token), replace, delete
# accounts; "update" on accounts/<name>/refresh refreshes one now.
path "instagram/accounts/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Authorization links for account owners to open.
path "instagram/auth-url" {
  capabilities = ["update"]
}

# The engine's health, for dashboards and alerts.
path "instagram/status" {
  capabilities = ["read"]
}

# The same health as Prometheus metrics.
path "instagram/metrics" {
  capabilities = ["read"]
}
