# The two commands the README starts with.
.PHONY: demo test test-deps build bench vet

GO ?= go

demo:
	./scripts/test-deps.sh mariadb
	$(GO) run ./cmd/acode demo

test: test-deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

test-deps:
	./scripts/test-deps.sh

build:
	$(GO) build -o bin/acode ./cmd/acode

bench:
	./bench/run.sh
