# instagram-proxy-analytics: an analytics service that may only read one
# account's insights, through the engine, and never holds its token.
#
# It reads the account's (and its posts') insights and the media list it
# needs to find the posts; it cannot publish (no "update"), cannot read
# token/demo, and cannot reach any other account. Change "demo" to the
# account, and <ig-user-id> to its Instagram professional account id
# (user_id in `vault read instagram/accounts/demo`).
#
#   vault policy write instagram-demo-analytics docs/policies/instagram-proxy-analytics.hcl
#   vault read instagram/proxy/demo/me/insights metric=reach period=day

path "instagram/proxy/demo/me/insights" {
  capabilities = ["read"]
}

path "instagram/proxy/demo/<ig-user-id>/insights" {
  capabilities = ["read"]
}

path "instagram/proxy/demo/me/media" {
  capabilities = ["read"]
}

# A post's own insights: <media id>/insights. The "+" matches exactly one
# path segment (any media id), so this grants insights and nothing else.
path "instagram/proxy/demo/+/insights" {
  capabilities = ["read"]
}
