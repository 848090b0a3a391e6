# Everything a developer or CI needs, on a machine with only Go, git and make:
# tools (staticcheck) are built from the Go module proxy into the git-ignored
# .cache/, once per clone; Vault itself into the per-user cache
# (~/.cache/vault-plugin-secrets-instagram/vault, VAULT_CACHE_DIR), once per
# machine.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build
# The e2e tests and the Vault build are heavy on a small machine; run targets
# one after the other even under `make -j`.
.NOTPARALLEL:
MAKEFLAGS += --no-print-directory

CACHE := $(CURDIR)/.cache
BIN := $(CACHE)/bin
export PLUGIN_DIR ?= $(CACHE)/plugins
export VAULT_VERSION ?= 1.21.3

# staticcheck 2026.2.2; its go.mod needs Go 1.26, which this module's
# toolchain is. The version is in the file name so a bump reinstalls it.
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK := $(BIN)/staticcheck-$(STATICCHECK_VERSION)

# -race needs cgo and a C compiler; a machine with only Go has neither, so the
# unit tests run without it there rather than not at all (and say so).
RACE = $(shell [ "$$(go env CGO_ENABLED)" = 1 ] && command -v "$$(go env CC | cut -d' ' -f1)" >/dev/null 2>&1 && echo -race)

# goimports sorts imports in three groups: the standard library, other
# modules, and this module's own packages (-local).
GOIMPORTS_VERSION ?= v0.52.0
GOIMPORTS := $(BIN)/goimports-$(GOIMPORTS_VERSION)
MODULE := github.com/igvault/vault-plugin-secrets-instagram

GOVULNCHECK_VERSION ?= v1.9.0
GOTESTFLAGS ?=
E2E_TIMEOUT ?= 20m
HA_TIMEOUT ?= 20m
# e.g. BENCHFLAGS="-rounds 5" or "-scale 100000"; `go run ./bench -h` lists them.
BENCHFLAGS ?=

.PHONY: build dev vault test chromium test-unit test-alerts prometheus-tools test-e2e test-ha bench fuzz vulncheck lint fmt-check vet staticcheck clean clean-all release

## build: the plugin binary into $(PLUGIN_DIR); prints its version and sha256
build:
	@scripts/build-plugin.sh

## vault: Vault $(VAULT_VERSION) from source into the per-user cache (once per machine)
vault:
	@scripts/build-vault.sh

## dev: a dev Vault with the plugin mounted at instagram/ and a fake Meta
dev:
	@scripts/dev.sh

## release: VERSION=v1.2.3: static binaries for linux/darwin x amd64/arm64,
## archives and SHA256SUMS into dist/VERSION/ (not part of test)
release:
	@scripts/release.sh "$(VERSION)"

## test: every test, as CI runs it: lint, govulncheck, unit tests (with -race
## where cgo works), the alert rules (promtool), e2e on a dev server (a real
## Prometheus scraping the plugin included), then the HA cluster (its go test
## summary last)
test: lint vulncheck test-unit test-alerts test-e2e test-ha

test-unit:
	@if [ -z "$(RACE)" ]; then echo "test-unit: no cgo/C compiler here, running without -race" >&2; fi
	go test $(RACE) -count=1 $(GOTESTFLAGS) ./...

## test-alerts: promtool test rules on docs/prometheus/alerts_test.yml (each
## shipped alert rule firing and not firing), and amtool on the example
## Alertmanager configuration (valid; critical alerts page, warnings go to
## tickets); part of test
test-alerts:
	@eval "$$(scripts/install-prometheus.sh)"; \
	"$$PROMTOOL" check rules docs/prometheus/alerts.yml; \
	"$$PROMTOOL" test rules docs/prometheus/alerts_test.yml; \
	"$$AMTOOL" check-config docs/alertmanager/alertmanager.yml; \
	for route in severity=critical:instagram-page severity=warning:instagram-tickets; do \
	  "$$AMTOOL" config routes test --config.file=docs/alertmanager/alertmanager.yml \
	    --verify.receivers="$${route#*:}" alertname=InstagramExample "$${route%%:*}" 2>/dev/null; \
	done

## prometheus-tools: promtool, the Prometheus server, Alertmanager and amtool
## (Debian's prometheus and prometheus-alertmanager packages, apt-get as
## root) when they are missing; test-alerts and test-e2e call it
prometheus-tools:
	@scripts/install-prometheus.sh

# The e2e tests run a real Vault with the freshly built plugin; the harness
# reads where both are from the environment, and where the Prometheus server
# that scrapes the plugin in e2e/prometheus_test.go is (PROMETHEUS_BIN), and
# the Alertmanager that e2e/alertmanager_test.go sends its alerts to
# (ALERTMANAGER_BIN). The
# browser test drives Chromium, installed first where it is missing and can be.
test-e2e: chromium
	@vault_bin="$$(scripts/build-vault.sh)"; \
	eval "$$(scripts/build-plugin.sh)"; \
	eval "$$(scripts/install-prometheus.sh)"; \
	echo "test-e2e: $$vault_bin, plugin $$PLUGIN_VERSION, $$PROMETHEUS_BIN, $$ALERTMANAGER_BIN" >&2; \
	VAULT_BIN="$$vault_bin" PLUGIN_DIR="$$PLUGIN_DIR" PLUGIN_VERSION="$$PLUGIN_VERSION" PLUGIN_SHA256="$$PLUGIN_SHA256" \
	PROMETHEUS_BIN="$$PROMETHEUS_BIN" ALERTMANAGER_BIN="$$ALERTMANAGER_BIN" \
	go test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) $(GOTESTFLAGS) ./e2e/...

## chromium: the browser the e2e browser test drives: the Debian package
## chromium, installed with apt-get when missing and run as root; elsewhere
## it says what to do (the test then fails, saying so). CHROMIUM=/path skips it.
chromium:
	@if [ -n "$${CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1; then \
	  exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "chromium: installing the Debian package (apt-get install -y chromium)" >&2; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2; \
	else \
	  echo "chromium: not installed, and not installable here (needs root and apt-get): install Chromium or set CHROMIUM=/path/to/chrome; the browser test will fail without it" >&2; \
	fi

## test-ha: the engine on a three-node Vault Raft cluster through the loss of
## its active node, and on a lone server killed and restarted mid-refresh
## (about 8-10 minutes; the last part of test)
test-ha:
	@vault_bin="$$(scripts/build-vault.sh)"; \
	eval "$$(scripts/build-plugin.sh)"; \
	echo "test-ha: $$vault_bin, plugin $$PLUGIN_VERSION" >&2; \
	VAULT_BIN="$$vault_bin" PLUGIN_DIR="$$PLUGIN_DIR" PLUGIN_VERSION="$$PLUGIN_VERSION" PLUGIN_SHA256="$$PLUGIN_SHA256" \
	go test -tags ha -count=1 -timeout $(HA_TIMEOUT) $(GOTESTFLAGS) ./e2e/ha/...

## bench: a metrics scrape at 100,000 accounts in process (issue 14: under
## 50 ms and 64 KiB), then read throughput and latency against a null plugin
## and KV-v2 in a real Vault, a Prometheus scrape through Vault, plugin RSS
## and schedule rebuild time (a few minutes; not part of test; see
## BENCHMARKS.md). Builds into .cache/bench, results to stdout.
bench:
	go test -run '^$$' -bench 'MetricsScrape/accounts=100000/per-account=false' -benchtime 100x -benchmem .
	go run ./bench $(BENCHFLAGS)

## vulncheck: govulncheck $(GOVULNCHECK_VERSION) against Go's vulnerability
## database (VULNDB, default vuln.go.dev); says NOT CHECKED where that cannot
## be reached, and fails there too with VULNCHECK_REQUIRED=1
vulncheck:
	@GOVULNCHECK_VERSION=$(GOVULNCHECK_VERSION) scripts/vulncheck.sh

## fuzz: every fuzz target for FUZZTIME each (default 30s); `make test`
## runs their seed corpora already
fuzz:
	@scripts/fuzz.sh

## lint: gofmt, go vet and staticcheck, e2e and HA files included
lint: fmt-check vet staticcheck

fmt-check: $(GOIMPORTS)
	@files="$$(find . \( -path ./.cache -o -path ./.git \) -prune -o -name '*.go' -print | xargs -r gofmt -l)"; \
	if [ -n "$$files" ]; then echo "gofmt -w needed on:"; echo "$$files"; exit 1; fi
	@files="$$(find . \( -path ./.cache -o -path ./.git \) -prune -o -name '*.go' -print | xargs -r $(GOIMPORTS) -local $(MODULE) -l)"; \
	if [ -n "$$files" ]; then echo "goimports -local $(MODULE) -w needed on:"; echo "$$files"; exit 1; fi

$(GOIMPORTS):
	@mkdir -p $(BIN)
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	GOBIN="$$tmp" go install golang.org/x/tools/cmd/goimports@$(GOIMPORTS_VERSION); \
	mv "$$tmp/goimports" $@

# -tags e2e,ha only adds the e2e and HA test files, so this is `go vet ./...` and more.
vet:
	go vet -tags e2e,ha ./...

staticcheck: $(STATICCHECK)
	$(STATICCHECK) -tags e2e,ha ./...

$(STATICCHECK):
	@mkdir -p $(BIN)
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	GOBIN="$$tmp" go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); \
	mv "$$tmp/staticcheck" $@

## clean: the plugin build and dev logs (keeps the slow Vault build and tools)
clean:
	rm -rf $(CACHE)/plugins $(CACHE)/dev $(CACHE)/bench $(BIN)/fakemeta

## clean-all: all of .cache (the Vault build in the per-user cache stays:
## rm -rf ~/.cache/vault-plugin-secrets-instagram to drop it)
clean-all:
	rm -rf $(CACHE)
