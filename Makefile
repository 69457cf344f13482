# kmsless: build, test, invoke, bench.
GO       ?= go
PKGS     ?= ./...
# Tests share the machine's Redis and PostgreSQL (found or started by
# scripts/services.sh) and start private servers where they must break one.
TESTFLAGS ?= -race -timeout 14m

.PHONY: test vet bench build invoke fmt clean

test: vet
	@eval "$$(scripts/services.sh)" && $(GO) test $(TESTFLAGS) $(PKGS)

vet:
	@test -z "$$(gofmt -l $$(git ls-files -co --exclude-standard -- '*.go'))" || { gofmt -l $$(git ls-files -co --exclude-standard -- '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files -co --exclude-standard -- '*.go')

bench:
	@eval "$$(scripts/services.sh)" && $(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./core/... ./infra/...

clean:
	rm -rf dist bin
