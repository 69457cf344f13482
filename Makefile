# kmsless: build, test, invoke, bench.
GO       ?= go
PKGS     ?= ./...
# Tests share the machine's Redis and PostgreSQL (found or started by
# scripts/services.sh) and start private servers where they must break one.
# What a test finds (those servers, a Docker daemon, binfmt_misc) is the
# machine's state, which go test's cache cannot see: -count=1 runs every test
# each time rather than replay a result from before the machine changed.
# -vet=all: go test runs every check go vet has, not its usual few, on each
# package as it builds it, so the suite vets once; a separate go vet and go
# test each worked through every dependency for their facts.
TESTFLAGS ?= -race -count=1 -vet=all -timeout 14m

.PHONY: test test-other-arch vet gofmt bench fuzz build image invoke fmt clean

test: gofmt
	@eval "$$(scripts/services.sh)" && $(GO) test $(TESTFLAGS) $(PKGS)

# The tests that build for the architecture this machine is not (Lambda's
# arm64 on an amd64 machine, and the other image), run through qemu-user:
# about three minutes of CPU more on an empty build cache, so make test
# leaves them out; -count=1 as for make test.
test-other-arch: SHELL := /bin/bash
test-other-arch:
	@eval "$$(scripts/services.sh)" && set -o pipefail && KMS_TEST_OTHER_ARCH=1 $(GO) test -count=1 -run 'Graviton|OtherArchitecture' -v ./functions/ | grep -E '^(---|ok|FAIL)|_test\.go:'

# Every fuzz target in turn, FUZZTIME each (30s unless set), with the
# minimizing of each new input bounded by FUZZMINIMIZE (scripts/fuzz.sh).
fuzz:
	@eval "$$(scripts/services.sh)" && GO=$(GO) scripts/fuzz.sh

gofmt:
	@test -z "$$(gofmt -l $$(git ls-files -co --exclude-standard -- '*.go'))" || { gofmt -l $$(git ls-files -co --exclude-standard -- '*.go'); echo "gofmt: files above need formatting"; exit 1; }

# The checks make test runs, without the tests; -race as the tests build.
vet: gofmt
	$(GO) vet -race $(PKGS)

fmt:
	gofmt -w $$(git ls-files -co --exclude-standard -- '*.go')

# Figures, each beside a floor measured in the same run (see README, "Figures").
# Each benchmark's output is filtered to its figures, and to a failure's lines
# (FAILURES), under pipefail, so that a benchmark that fails fails make bench.
BENCH = $(GO) test -run '^$$' -benchmem
FAILURES = ^--- FAIL|^FAIL|_test\.go:[0-9]+:
bench: SHELL := /bin/bash
bench:
	@eval "$$(scripts/services.sh)" && set -e -o pipefail && \
	echo "== core: GenerateDataKeyWithoutPlaintext in process vs rand+seal (x-floor, ns-over-floor)" && \
	$(BENCH) -bench . -benchtime 2s ./core/ | grep -E '^Benchmark|$(FAILURES)' && \
	echo "== sign: verifying one request" && \
	$(BENCH) -bench . ./infra/sign/ | grep -E '^Benchmark|$(FAILURES)' && \
	echo "== api server's own work per signed request, without network or client, vs the floor handler (x-floor, µs-over-floor)" && \
	$(BENCH) -bench ServeHTTP -benchtime 20000x ./bench/ | grep -E '^Benchmark|$(FAILURES)' && \
	echo "== HTTP: signed requests over 16 connections, each ratio against a floor fed the same requests; HTTPS against HTTP" && \
	$(GO) run ./bench/cmd/loadgen -rounds 3 && \
	echo "== HTTPS: the handshake of a new connection, client and server in one process" && \
	$(BENCH) -bench TLSHandshake ./infra/platform/ | grep -E '^Benchmark|$(FAILURES)' && \
	echo "== awsjson: SigV4 GenerateDataKeyWithoutPlaintext over HTTP, interleaved with local-kms (x-local-kms) and a bare rand+seal handler (x-bare)" && \
	$(BENCH) -bench VsLocalKMS -benchtime 1x ./infra/awsjson/ | grep -E '^Benchmark|$(FAILURES)' && \
	echo "== instance API: a client-key-signed GenerateDataKey, without network, vs one RSA-2048 verification (x-rsa-verify)" && \
	$(BENCH) -bench . -benchtime 3s ./infra/instance/ | grep -E '^Benchmark|$(FAILURES)' && \
	echo "== audit: throughput with the audit trail on vs off (x-audit-off), verification speed (records/s) and bytes per record" && \
	$(BENCH) -bench AuditOverheadHTTP -benchtime 1x ./infra/rpc/ | grep -E '^Benchmark|$(FAILURES)' && \
	$(BENCH) -bench Verify -benchtime 5x ./infra/audit/ | grep -E '^Benchmark|$(FAILURES)' && \
	echo "== redis: over HTTP with Redis vs a bare Redis round trip (floor-ratio)" && \
	$(BENCH) -bench . -benchtime 20000x ./infra/redis/ | grep -E '^Benchmark|$(FAILURES)' && \
	echo "== stores: reads and writes per second; the action with a warm cache on each" && \
	$(BENCH) -bench . -benchtime 1s ./infra/store/bolt/ ./infra/store/postgres/ | grep -E '^Benchmark|^ok|$(FAILURES)' && \
	echo "== provisioning: partitions per second vs GenerateDataKeyWithoutPlaintext" && \
	$(BENCH) -bench ProvisionPartitions -benchtime 5000x ./infra/provision/ | grep -E '^Benchmark|$(FAILURES)' && \
	echo "== root key: instance init with a cloud KMS source (KMS on loopback) vs env (x-env)" && \
	$(BENCH) -bench LoadRootKey -benchtime 500x ./infra/config/ | grep -E '^Benchmark|$(FAILURES)' && \
	echo "== root rotation: versions re-wrapped per second, bbolt and PostgreSQL" && \
	$(BENCH) -bench RotateRoot -benchtime 5x ./cmd/kmsless/ | grep -E '^Benchmark|$(FAILURES)' && \
	echo "== copy-store: 1,000 keys with two versions and an alias each, from bbolt into PostgreSQL and into bbolt, a record a write and in one transaction (-tx, as copy-store copies), and from a PostgreSQL snapshot into bbolt, as a backup of a serving store (records/s)" && \
	$(BENCH) -bench Copy -benchtime 3x ./infra/store/storecopy/ | grep -E '^Benchmark|$(FAILURES)' && \
	echo "== functions: a warm api invocation (100 a op) under aws-lambda-rie and the FC emulator, 16 at once on one FC instance, binary size and cold start, each vs hello-world" && \
	$(BENCH) -bench 'Invocation|ColdStart' -benchtime 10x ./functions/ | grep -E '^Benchmark|MB|$(FAILURES)'

# Lambda (arm64) and Function Compute (amd64) binaries, zipped, under dist/.
build:
	scripts/build.sh all

# The api server's container image (Dockerfile), tagged $(IMAGE), for this
# machine's architecture unless ARCH names another (amd64, arm64).
IMAGE ?= kmsless
ARCH  ?= $(shell $(GO) env GOARCH)
image:
	$(GO) run ./scripts/build -platform image -tag $(IMAGE) -arch $(ARCH)

# make invoke FN=<function> EVENT=events/<aws|fc>/<file>.json [PLATFORM=fc]
invoke:
	@scripts/invoke.sh "$(FN)" "$(EVENT)" "$(PLATFORM)"

clean:
	rm -rf dist bin
