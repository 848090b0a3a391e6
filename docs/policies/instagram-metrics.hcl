# instagram-metrics: what Prometheus scrapes with. It reads the engine's
# metrics and nothing else: no token, no account, no config, no status.
# instagram/metrics answers aggregates only and names no account, whatever
# the parameters; the per-account series are on instagram/metrics/accounts,
# which this policy does not grant (see instagram-metrics-accounts.hcl).
#
#   vault policy write instagram-metrics docs/policies/instagram-metrics.hcl
#   vault token create -policy=instagram-metrics -no-default-policy -ttl=720h \
#     -display-name=prometheus -field=token > /etc/prometheus/vault-instagram-token
#
# Without the default policy the token cannot renew itself: replace the file
# before the TTL runs out (Prometheus rereads it at every scrape), or let
# Vault Agent's auto-auth write it as its token sink. See docs/monitoring.md.

path "instagram/metrics" {
  capabilities = ["read"]
}
