# instagram-proxy-publisher: a publishing tool that creates and publishes
# posts for one account through the engine, and never holds its token.
#
# Publishing on Instagram is two POSTs: a media container
# (<ig-user-id>/media with image_url and caption), then its publication
# (<ig-user-id>/media_publish with creation_id). Through the engine each is
# an "update" of the matching proxy path. Reading the media list and a
# container's status (a GET of <container id>?fields=status_code) is
# "read". Change "demo" to the account and <ig-user-id> to its Instagram
# professional account id (user_id in `vault read instagram/accounts/demo`).
#
#   vault policy write instagram-demo-publisher docs/policies/instagram-proxy-publisher.hcl
#   vault write instagram/proxy/demo/<ig-user-id>/media image_url=https://... caption="Hello"
#   vault write instagram/proxy/demo/<ig-user-id>/media_publish creation_id=<id from the first call>

path "instagram/proxy/demo/<ig-user-id>/media" {
  capabilities = ["read", "update"]
}

path "instagram/proxy/demo/<ig-user-id>/media_publish" {
  capabilities = ["update"]
}

# A container's status while Meta processes a video: one path segment,
# any container id, read only.
path "instagram/proxy/demo/+" {
  capabilities = ["read"]
}
