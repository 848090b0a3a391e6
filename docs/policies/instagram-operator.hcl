# instagram-operator: the people who run the engine. They register, inspect,
# refresh and remove accounts, hand out authorization links and watch the
# engine's health. They cannot read a token: there is no rule for
# instagram/token/. Nor can they change the Meta app's configuration: a
# config write chooses where every token is sent (the *_base_url fields),
# so it is as good as reading every token, and belongs to instagram-admin.
#
# They may read config: it answers the settings (never the app secret,
# only app_secret_set), which an operator needs to make sense of what the
# engine does: the redirect URIs auth-url accepts, the scopes, the refresh
# window, and where calls to Meta go.
#
#   vault policy write instagram-operator docs/policies/instagram-operator.hcl

# The Meta app's settings, read-only (no secret is ever answered).
path "instagram/config" {
  capabilities = ["read"]
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

# The most urgent accounts' status and expiry, by name (operators may list
# and read the accounts anyway).
path "instagram/metrics/accounts" {
  capabilities = ["read"]
}
