#!/usr/bin/env bash
# `make prometheus-tools`: makes sure promtool (for `make test-alerts`) and the
# Prometheus server (for the e2e test that scrapes the plugin) are installed,
# from Debian's `prometheus` package, which brings both. Prints where they are
# as PROMTOOL=... and PROMETHEUS_BIN=... lines.
#
# Nothing is installed when both are found (on PATH, or PROMTOOL /
# PROMETHEUS_BIN set). Otherwise, as root (a fresh CI machine) it runs
# apt-get; as another user, `sudo -n apt-get` when sudo needs no password;
# else it stops and says what to install. The package's systemd service is
# not needed (the tests start their own server on a free port) and, in a
# container without systemd, is not started at all.
set -euo pipefail

find_tools() {
  promtool="${PROMTOOL:-$(command -v promtool || true)}"
  prometheus="${PROMETHEUS_BIN:-$(command -v prometheus || true)}"
  [ -n "$promtool" ] && [ -x "$promtool" ] && [ -n "$prometheus" ] && [ -x "$prometheus" ]
}

if ! find_tools; then
  apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      apt=(sudo -n env DEBIAN_FRONTEND=noninteractive apt-get)
    else
      echo "prometheus-tools: promtool and prometheus are not installed, and installing them needs root:" >&2
      echo "  apt-get install prometheus   (Debian/Ubuntu; or set PROMTOOL and PROMETHEUS_BIN)" >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null; then
    echo "prometheus-tools: no apt-get here: install Prometheus 2.x (promtool and prometheus) and set PROMTOOL and PROMETHEUS_BIN" >&2
    exit 1
  fi
  echo "prometheus-tools: installing Debian's prometheus package (promtool and the server)" >&2
  "${apt[@]}" update -qq >&2
  "${apt[@]}" install -y -qq --no-install-recommends prometheus >&2
  hash -r
  if ! find_tools; then
    echo "prometheus-tools: the prometheus package did not provide promtool and prometheus" >&2
    exit 1
  fi
fi
echo "PROMTOOL=$promtool"
echo "PROMETHEUS_BIN=$prometheus"
