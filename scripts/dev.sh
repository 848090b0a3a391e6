#!/usr/bin/env bash
# `make dev`: a local Vault with the plugin registered, mounted at instagram/
# and configured, in the foreground until Ctrl-C.
#
# Without APP_ID/APP_SECRET it also runs the fake Meta (graph/graphtest),
# points the engine's base URLs at it, so the whole flow works offline, and
# mounts a Threads engine (login=threads) at threads/ beside instagram/.
# With APP_ID and APP_SECRET set, it talks to the real Meta hosts instead.
#
# Environment:
#   VAULT_PORT       Vault's listener on 127.0.0.1 (default 8200; its cluster
#                    listener takes the next port)
#   FAKE_META_PORT   the fake Meta's listener on 127.0.0.1 (default 8999)
#   APP_ID, APP_SECRET   a real Meta app (then no fake)
#   REDIRECT_URI     default http://127.0.0.1:$VAULT_PORT/v1/instagram/callback
#   PLUGIN_DIR       default .cache/plugins
#   VAULT_CACHE_DIR  where a built Vault is kept (default ~/.cache/vault-plugin-secrets-instagram/vault, shared by every clone)
# Logs go to .cache/dev/$VAULT_PORT/. While it runs, .cache/dev/env (a link to
# .cache/dev/$VAULT_PORT/env, the latest make dev's) holds the shell
# variables to reach it: VAULT_ADDR, VAULT_TOKEN, PATH, REDIRECT_URI and,
# with the fake, FAKE_META and THREADS_REDIRECT_URI. See docs/make-dev.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

name="vault-plugin-secrets-instagram"
host="127.0.0.1"
vault_port="${VAULT_PORT:-8200}"
fake_port="${FAKE_META_PORT:-8999}"
redirect_uri="${REDIRECT_URI:-http://$host:$vault_port/v1/instagram/callback}"
# One log directory per Vault port, so two `make dev` on one machine (with
# distinct VAULT_PORT and FAKE_META_PORT) keep their logs apart: the fake's
# log is also where this script reads the base URLs to configure.
dev_dir="$root/.cache/dev/$vault_port"
mkdir -p "$dev_dir"

use_fake=1
if [ -n "${APP_ID:-}" ] || [ -n "${APP_SECRET:-}" ]; then
  if [ -z "${APP_ID:-}" ] || [ -z "${APP_SECRET:-}" ]; then
    echo "dev: set both APP_ID and APP_SECRET for a real Meta app, or neither for the fake" >&2
    exit 1
  fi
  use_fake=0
fi

# port_open succeeds when something accepts connections on host:port. Bash's
# /dev/tcp keeps this free of curl/nc, which a fresh machine may lack.
port_open() {
  (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null
}

# A dev Vault also listens on VAULT_PORT+1 (its cluster port).
ports=("$vault_port" "$((vault_port + 1))")
[ "$use_fake" = 1 ] && ports+=("$fake_port")
for p in "${ports[@]}"; do
  if port_open "$p"; then
    echo "dev: $host:$p is already in use (another make dev?); set VAULT_PORT (Vault takes it and the next port) / FAKE_META_PORT" >&2
    exit 1
  fi
done
if [ "$use_fake" = 1 ] && { [ "$fake_port" = "$vault_port" ] || [ "$fake_port" = "$((vault_port + 1))" ]; }; then
  echo "dev: FAKE_META_PORT $fake_port collides with Vault's ports $vault_port and $((vault_port + 1))" >&2
  exit 1
fi
if [ "$use_fake" = 1 ] && ! command -v curl >/dev/null 2>&1; then
  echo "dev: the fake Meta's admin API is driven with curl; install curl" >&2
  exit 1
fi

echo "==> building the plugin" >&2
plugin_env="$(PLUGIN_DIR="${PLUGIN_DIR:-$root/.cache/plugins}" scripts/build-plugin.sh)"
eval "$plugin_env" # PLUGIN_BIN, PLUGIN_DIR, PLUGIN_VERSION, PLUGIN_SHA256 (%q-quoted)
echo "==> building Vault (cached after the first time)" >&2
vault_bin="$(scripts/build-vault.sh)"

vault_pid=""
fake_pid=""
env_file="$dev_dir/env"
env_link="$root/.cache/dev/env"
# cleanup stops exactly the two processes this script started, by PID.
# shellcheck disable=SC2317 # reached through the trap
cleanup() {
  trap - EXIT INT TERM
  local pid
  for pid in "$vault_pid" "$fake_pid"; do
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  done
  for pid in "$vault_pid" "$fake_pid"; do
    if [ -n "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
  done
  # A stale env file would point the next shell at a dead server.
  rm -f "$env_file"
  if [ "$(readlink "$env_link" 2>/dev/null)" = "$vault_port/env" ]; then rm -f "$env_link"; fi
  echo "dev: stopped; logs are in $dev_dir" >&2
}
trap cleanup EXIT
# Ctrl-C (or a TERM) is how a running dev server is meant to stop, so once it
# is up either ends the script with 0, after cleanup, and make reports no
# error. During the setup (the builds, the start) an interrupt is one, and the
# exit status says so (130, 143).
running=0
# shellcheck disable=SC2317 # reached through the traps
on_signal() {
  if [ "$running" = 1 ]; then exit 0; fi
  exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

if [ "$use_fake" = 1 ]; then
  app_id="dev-app-id"
  # A fresh secret per run: it only has to match between Vault and the fake.
  app_secret="dev-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
  fake_bin="$root/.cache/bin/fakemeta"
  echo "==> building the fake Meta" >&2
  # A built binary rather than `go run`: `go run` would put the go command
  # between us and the server, and killing its PID would orphan the server.
  go build -o "$fake_bin" ./graph/graphtest/cmd/fakemeta
  # The secret goes through stdin (-app-secret -), not argv, which ps shows.
  printf '%s\n' "$app_secret" | "$fake_bin" -addr "$host:$fake_port" -app-id "$app_id" -app-secret - \
    >"$dev_dir/fakemeta.log" 2>&1 &
  fake_pid=$!
else
  app_id="$APP_ID"
  app_secret="$APP_SECRET"
fi

echo "==> starting Vault on $host:$vault_port" >&2
# -dev-no-store-token: do not overwrite ~/.vault-token, which may belong to
# another Vault the developer uses.
"$vault_bin" server -dev -dev-root-token-id=root -dev-no-store-token \
  -dev-listen-address="$host:$vault_port" -dev-plugin-dir="$PLUGIN_DIR" \
  -log-level=debug >"$dev_dir/vault.log" 2>&1 &
vault_pid=$!

export VAULT_ADDR="http://$host:$vault_port"
export VAULT_TOKEN=root
# A developer's shell may point the CLI at another Vault's namespace or TLS.
unset VAULT_NAMESPACE VAULT_CACERT VAULT_CAPATH VAULT_CLIENT_CERT VAULT_CLIENT_KEY

# wait_for polls until a check passes, or fails with the log's tail if the
# process died or did not come up in time.
wait_for() {
  local what="$1" pid="$2" log="$3"
  shift 3
  local i
  for ((i = 0; i < 300; i++)); do
    if "$@"; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "dev: $what exited; last lines of $log:" >&2
      tail -n 40 "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "dev: $what did not come up in 30s; last lines of $log:" >&2
  tail -n 40 "$log" >&2
  exit 1
}

# shellcheck disable=SC2317 # called through wait_for
fake_up() { port_open "$fake_port" && grep -q '^facebook_graph_base_url=' "$dev_dir/fakemeta.log"; }
if [ "$use_fake" = 1 ]; then
  wait_for "fake Meta" "$fake_pid" "$dev_dir/fakemeta.log" fake_up
fi
# shellcheck disable=SC2317 # called through wait_for
vault_up() { "$vault_bin" status >/dev/null 2>&1; }
wait_for "Vault" "$vault_pid" "$dev_dir/vault.log" vault_up

echo "==> registering $name $PLUGIN_VERSION" >&2
"$vault_bin" plugin register -sha256="$PLUGIN_SHA256" -version="$PLUGIN_VERSION" secret "$name" >&2
"$vault_bin" secrets enable -path=instagram -plugin-version="$PLUGIN_VERSION" "$name" >&2
# proxy/ answers a paused app's 429 with Retry-After; Vault passes a plugin's
# response headers on only where the mount allows them.
"$vault_bin" secrets tune -allowed-response-headers=Retry-After instagram/ >&2

config_args=(app_id="$app_id" app_secret=- redirect_uri="$redirect_uri")
if [ "$use_fake" = 1 ]; then
  fake="http://$host:$fake_port"
  # The fake prints one key=value line per config field it serves (one path
  # prefix per Meta host); taking them as printed keeps this in step with it.
  while IFS= read -r line; do
    config_args+=("$line")
  done < <(grep -E '^[a-z_]+_base_url=' "$dev_dir/fakemeta.log")
fi
# The secret goes through stdin (app_secret=-) so it never shows in `ps`.
printf '%s' "$app_secret" | "$vault_bin" write instagram/config "${config_args[@]}" >&2

# With the fake, a Threads mount (login=threads) beside it, on the fake's
# Threads hosts: its "threads:" lines, the same throwaway app.
threads_redirect_uri="http://$host:$vault_port/v1/threads/callback"
if [ "$use_fake" = 1 ]; then
  "$vault_bin" secrets enable -path=threads -plugin-version="$PLUGIN_VERSION" "$name" >&2
  "$vault_bin" secrets tune -allowed-response-headers=Retry-After threads/ >&2
  threads_args=(login=threads app_id="$app_id" app_secret=- redirect_uri="$threads_redirect_uri")
  while IFS= read -r line; do
    threads_args+=("${line#threads:}")
  done < <(grep -E '^threads:[a-z_]+_base_url=' "$dev_dir/fakemeta.log")
  printf '%s' "$app_secret" | "$vault_bin" write threads/config "${threads_args[@]}" >&2
fi

if [ "$use_fake" = 1 ]; then
  curl -fsS -X POST "$fake/_fake/users" -H 'Content-Type: application/json' \
    -d '{"username":"demo"}' >/dev/null
fi

# The shell variables to reach this dev server, for `. .cache/dev/env`: the
# README and docs/make-dev.md read ports and paths from there, not from
# defaults that VAULT_PORT, FAKE_META_PORT or VAULT_CACHE_DIR may have moved.
{
  printf 'export VAULT_ADDR=%q VAULT_TOKEN=root\n' "$VAULT_ADDR"
  printf 'export PATH=%q:"$PATH"\n' "$(dirname "$vault_bin")"
  printf 'export REDIRECT_URI=%q\n' "$redirect_uri"
  [ "$use_fake" = 1 ] && printf 'export FAKE_META=%q THREADS_REDIRECT_URI=%q\n' "$fake" "$threads_redirect_uri"
  printf 'unset VAULT_NAMESPACE VAULT_CACERT VAULT_CAPATH VAULT_CLIENT_CERT VAULT_CLIENT_KEY\n'
} >"$env_file"
ln -sfn "$vault_port/env" "$env_link"

cat <<EOF

$(vault_version="$("$vault_bin" version | head -n1)"; echo "${vault_version%%,*}") is running with $name $PLUGIN_VERSION at instagram/$([ "$use_fake" = 1 ] && echo " and threads/ (login=threads)").
Logs: $dev_dir/vault.log$([ "$use_fake" = 1 ] && echo ", $dev_dir/fakemeta.log")

In another shell, from $root:

  . .cache/dev/env    # VAULT_ADDR, VAULT_TOKEN, PATH$([ "$use_fake" = 1 ] && echo ", FAKE_META, THREADS_REDIRECT_URI"), REDIRECT_URI

EOF
if [ "$use_fake" = 1 ]; then
  cat <<EOF
The fake Meta on $fake knows one Instagram user, "demo". Have it mint an
authorization code, as Instagram would after the user consents:

  code=\$(curl -fsS "\$FAKE_META/_fake/codes" \\
    -d '{"username":"demo","scopes":["instagram_business_basic"],"redirect_uri":"'"\$REDIRECT_URI"'"}' \\
    | sed -n 's/.*"code":"\([^"]*\)".*/\1/p')

EOF
else
  cat <<EOF
Using the real Meta app $app_id, with $redirect_uri as its
redirect URI (register it in the app's dashboard; REDIRECT_URI changes it).
As the account's owner, open the URL from

  vault write -field=url instagram/auth-url account=demo

and approve. If Instagram's redirect reaches this Vault, its callback
registers "demo" by itself. If not, take the code= value from the address
bar and register it yourself: code=...; vault write instagram/accounts/demo code="\$code"
Or register a token you already have: vault write instagram/accounts/demo access_token=...

EOF
fi
if [ "$use_fake" = 1 ]; then
  cat <<EOF
Register the account, then read what applications and operators see:

  vault write instagram/accounts/demo code="\${code:?no code from the fake Meta}"
EOF
else
  printf 'Then read what applications and operators see:\n\n'
fi
cat <<EOF
  vault read instagram/token/demo
  vault read instagram/accounts/demo

Watch the engine's signed webhooks (docs/notifications.md) arrive at a
local receiver that checks each signature and prints the event:

  NOTIFY_SECRET=dev-notify-secret go run ./docs/examples/receiver &   # 127.0.0.1:9000
  vault write instagram/config notify_url=http://127.0.0.1:9000/hook \
    notify_secret=dev-notify-secret notify_reauth_links=true
  vault delete instagram/accounts/demo   # an account.deleted event arrives

(Without Go, \`nc -lk 127.0.0.1 9000\` shows the raw requests; it answers
nothing, so the engine keeps retrying each one.)

Refreshes, the authorization flow, failures, the Threads mount: docs/make-dev.md.
Ctrl-C stops Vault$([ "$use_fake" = 1 ] && echo " and the fake Meta"). Everything is in memory: a restart starts clean.
EOF

running=1
# Stay in the foreground until Ctrl-C; if either process dies on its own, stop
# the other. (A poll rather than `wait -n PID...`, which needs bash 5.1.)
# The sleep runs in the background because the `wait` builtin, unlike a
# foreground command, returns as soon as a trapped signal arrives.
while kill -0 "$vault_pid" 2>/dev/null && { [ -z "$fake_pid" ] || kill -0 "$fake_pid" 2>/dev/null; }; do
  sleep 1 &
  wait $! || true
done
echo "dev: Vault or the fake Meta exited on its own; see $dev_dir" >&2
exit 1
