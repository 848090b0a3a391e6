# instagram-metrics-accounts: a Prometheus scrape job for the per-account
# series (instagram/metrics/accounts): the status and expiry of the most
# urgent accounts (at most 1000 a scrape), each LABELLED WITH THE ACCOUNT'S
# NAME. Grant it deliberately, to a scrape job (or a person) that may learn
# every account's name and health; the aggregates need only
# instagram-metrics, which names no account. No token, no config.
#
#   vault policy write instagram-metrics-accounts docs/policies/instagram-metrics-accounts.hcl
#   vault token create -policy=instagram-metrics-accounts -no-default-policy -ttl=720h \
#     -display-name=prometheus-accounts -field=token > /etc/prometheus/vault-instagram-accounts-token
#
# See docs/monitoring.md ("Per-account series").

path "instagram/metrics/accounts" {
  capabilities = ["read"]
}
