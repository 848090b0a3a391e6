# instagram-admin: whoever configures the Meta app. Holding this policy is
# EQUIVALENT TO READING EVERY TOKEN the engine keeps, although it has no rule
# for instagram/token/:
#
#   - the *_base_url fields decide where every refresh, /me check,
#     debug_token and code exchange goes, each carrying an account's token
#     (and, on exchanges, the app secret): an admin can point them at a
#     host of their own (https, or a warning-free loopback) and collect the
#     tokens as they are refreshed;
#   - app_secret is the Meta app's own credential: with it (and a new
#     secret written here) the app is theirs.
#
# Give it to as few people as you would give every token to, and audit its
# use (Vault's audit log records every config write; the plugin logs at
# info each base URL written that points away from Meta's hosts). The
# people who run the engine day to day need instagram-operator only.
#
#   vault policy write instagram-admin docs/policies/instagram-admin.hcl

# The Meta app: app_id, app_secret (write-only), login, redirect URIs,
# scopes, refresh settings and the base URL of each of Meta's hosts.
path "instagram/config" {
  capabilities = ["create", "read", "update", "delete"]
}
