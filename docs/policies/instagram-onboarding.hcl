# instagram-onboarding: staff who only hand out authorization links. They
# create a link for a named account; the account owner opens it, approves,
# and Instagram's redirect to instagram/callback registers the account. They
# cannot list, read, refresh or delete accounts, read tokens, or see the
# configuration.
#
# They cannot repoint a registered name at another Instagram account:
# auth-url refuses a registered name unless replace=true, which this policy
# denies (re-authorizing an existing account is an operator's job), and a
# re-authorization link hands an account to another user only with
# allow_user_change=true, which it denies too.
#
# Nor do they choose what the link grants or where it returns: scopes (the
# permissions applications later get), config_id (a Facebook Login for
# Business configuration, which may give a system-user token, the
# business's rather than a person's) and redirect_uri are denied, so every
# link asks for config's scopes, shows config's facebook_config_id and
# returns to config's redirect_uri. The admin can also limit the
# configurations any link may show with config's allowed_config_ids.
#
#   vault policy write instagram-onboarding docs/policies/instagram-onboarding.hcl
#   vault write instagram/auth-url account=shop

path "instagram/auth-url" {
  capabilities      = ["update"]
  denied_parameters = {
    "replace"           = []
    "allow_user_change" = []
    "scopes"            = []
    "config_id"         = []
    "redirect_uri"      = []
  }
}
