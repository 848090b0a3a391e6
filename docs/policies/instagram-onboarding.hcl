# instagram-onboarding: staff who only hand out authorization links. They
# create a link for a named account; the account owner opens it, approves,
# and Instagram's redirect to instagram/callback registers the account. They
# cannot list, read, refresh or delete accounts, read tokens, or see the
# configuration.
#
# Mind that a link for a name already registered replaces that account with
# whichever Instagram account approves the link: holders of this policy can
# repoint an existing name. Give it to people you trust with account names.
#
#   vault policy write instagram-onboarding docs/policies/instagram-onboarding.hcl
#   vault write instagram/auth-url account=shop

path "instagram/auth-url" {
  capabilities = ["update"]
}
