#!/usr/bin/env bash
# `make prometheus-tools`: makes sure promtool (for `make test-alerts`), the
# Prometheus server (for the e2e tests that scrape the plugin), Alertmanager
# and amtool (the e2e test that follows the alerts to a receiver, and
# `make test-alerts`, which checks the example Alertmanager configuration)
# are installed, from Debian's `prometheus` and `prometheus-alertmanager`
# packages. Prints where they are as PROMTOOL=..., PROMETHEUS_BIN=...,
# ALERTMANAGER_BIN=... and AMTOOL=... lines, for the Makefile to eval.
#
# Nothing is installed when all are found (on PATH, or PROMTOOL,
# PROMETHEUS_BIN, ALERTMANAGER_BIN and AMTOOL set; Debian names the
# Alertmanager binary prometheus-alertmanager, upstream alertmanager).
# Otherwise, as root (a fresh CI machine) it runs apt-get; as another user,
# `sudo -n apt-get` when sudo needs no password; else it stops and says what
# to install. The packages' systemd services are not needed (the tests start
# their own servers on free ports) and, in a container without systemd, are
# not started at all.
set -euo pipefail

find_tools() {
  promtool="${PROMTOOL:-$(command -v promtool || true)}"
  prometheus="${PROMETHEUS_BIN:-$(command -v prometheus || true)}"
  alertmanager="${ALERTMANAGER_BIN:-$(command -v prometheus-alertmanager || command -v alertmanager || true)}"
  amtool="${AMTOOL:-$(command -v amtool || true)}"
  missing=()
  for tool in promtool prometheus alertmanager amtool; do
    if [ -z "${!tool}" ] || [ ! -x "${!tool}" ]; then
      missing+=("$tool")
    fi
  done
  [ "${#missing[@]}" -eq 0 ]
}

if ! find_tools; then
  # Only the packages of what is missing: a machine with Prometheus from
  # elsewhere keeps it.
  packages=()
  case " ${missing[*]} " in *" promtool "* | *" prometheus "*) packages+=(prometheus) ;; esac
  case " ${missing[*]} " in *" alertmanager "* | *" amtool "*) packages+=(prometheus-alertmanager) ;; esac
  apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      apt=(sudo -n env DEBIAN_FRONTEND=noninteractive apt-get)
    else
      echo "prometheus-tools: ${missing[*]} not installed, and installing them needs root:" >&2
      echo "  apt-get install ${packages[*]}   (Debian/Ubuntu; or set PROMTOOL, PROMETHEUS_BIN, ALERTMANAGER_BIN and AMTOOL)" >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null; then
    echo "prometheus-tools: ${missing[*]} not installed and no apt-get here: install Prometheus 2.x (promtool, prometheus) and Alertmanager 0.25 or later (alertmanager, amtool) and set PROMTOOL, PROMETHEUS_BIN, ALERTMANAGER_BIN and AMTOOL" >&2
    exit 1
  fi
  echo "prometheus-tools: installing Debian's ${packages[*]} (for ${missing[*]})" >&2
  "${apt[@]}" update -qq >&2
  "${apt[@]}" install -y -qq --no-install-recommends "${packages[@]}" >&2
  hash -r
  if ! find_tools; then
    echo "prometheus-tools: the packages ${packages[*]} did not provide ${missing[*]}" >&2
    exit 1
  fi
fi
echo "PROMTOOL=$promtool"
echo "PROMETHEUS_BIN=$prometheus"
echo "ALERTMANAGER_BIN=$alertmanager"
echo "AMTOOL=$amtool"
