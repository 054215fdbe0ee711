# The two commands the README starts with.
.PHONY: demo test test-short test-deps build bench vet

GO ?= go

demo:
	./scripts/test-deps.sh mariadb
	$(GO) run ./cmd/acode demo

# GOTESTFLAGS adds flags, e.g. make test GOTESTFLAGS=-race.
test: test-deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m $(GOTESTFLAGS) ./...

# The quick tier: every package, with -short, which skips the tests that
# start MariaDB, PostgreSQL, versitygw, toxiproxy or Chromium (and the two
# heap measurements that write millions of rows). Of the test dependencies
# it needs only DuckDB's Node package, the Parquet tests' reader.
test-short:
	./scripts/test-deps.sh duckdb
	$(GO) test -short -count=1 $(GOTESTFLAGS) ./...

test-deps:
	./scripts/test-deps.sh

build:
	$(GO) build -o bin/acode ./cmd/acode

bench:
	./bench/run.sh
