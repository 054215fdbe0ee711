#!/usr/bin/env bash
# Installs what the integration tests start: MariaDB and PostgreSQL from Debian's packages,
# versitygw (the S3 test server), toxiproxy (fault injection), DuckDB's Node
# package (the independent Parquet reader), Chromium (the status page test),
# PostgreSQL (the second state engine) and moto (S3 lifecycle).
# Idempotent: each step is skipped when its tool is already there. The Go
# builds (minutes on a bare machine) run in the background while Debian's
# packages install. `test-deps.sh mariadb` installs only MariaDB (all
# `acode demo` needs); `test-deps.sh duckdb` only Node and DuckDB's package
# (all `make test-short` needs).
set -euo pipefail
only=${1:-all}

GOBIN=${GOBIN:-$(go env GOPATH)/bin}
DUCKDB_DIR=${ACODE_DUCKDB_DIR:-$HOME/.cache/acode-duckdb}
apt_updated=

apt_install() {
  if [ -z "$apt_updated" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

install_duckdb() {
  if ! command -v node >/dev/null 2>&1; then
    echo "installing nodejs and npm (Debian)"
    apt_install nodejs npm
  fi
  if [ ! -d "$DUCKDB_DIR/node_modules/@duckdb/node-api" ]; then
    echo "installing @duckdb/node-api into $DUCKDB_DIR"
    mkdir -p "$DUCKDB_DIR"
    (cd "$DUCKDB_DIR" && npm install --silent --no-audit --no-fund @duckdb/node-api@1.5.6-r.1 >/dev/null)
  fi
}
if [ "$only" = duckdb ]; then
  install_duckdb
  exit 0
fi

if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  echo "installing mariadb-server (Debian)"
  apt_install mariadb-server mariadb-client
fi
if [ "$only" = mariadb ]; then
  exit 0
fi
# PostgreSQL: the state store's second engine. Tests start their own
# clusters from Debian's binaries (/usr/lib/postgresql/<version>/bin) as the
# postgres user the package creates; no server needs to run.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  echo "installing postgresql (Debian)"
  apt_install postgresql
fi

# Go tools build in the background; their logs are shown only on failure.
gopids=()
go_install() { # name module
  local log
  log=$(mktemp)
  echo "installing $1 (in the background; several minutes the first time)"
  (go install "$2" >"$log" 2>&1 || { echo "go install $2 failed:"; cat "$log"; exit 1; }) &
  gopids+=($!)
}
if [ ! -x "$GOBIN/versitygw" ]; then
  go_install versitygw github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi
if [ ! -x "$GOBIN/toxiproxy-server" ] && [ ! -x "$GOBIN/server" ]; then
  go_install toxiproxy github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (Debian) for the status page's browser test"
  apt_install chromium
fi
install_duckdb
# moto's S3 server: the lifecycle tests' S3 (versitygw answers NotImplemented
# to bucket lifecycle calls). This machine kind ships it with its Python; no
# Debian package holds it, so elsewhere it comes from pip when PyPI answers.
if ! command -v moto_server >/dev/null 2>&1; then
  echo "installing moto[server] (pip) for the lifecycle tests"
  python3 -m pip install -q 'moto[server]' ||
    echo "moto_server is missing and pip could not install it: the lifecycle tests will fail naming it"
fi
for pid in "${gopids[@]}"; do
  wait "$pid"
done
if [ -x "$GOBIN/server" ] && [ ! -x "$GOBIN/toxiproxy-server" ]; then
  mv "$GOBIN/server" "$GOBIN/toxiproxy-server"
fi
echo "test dependencies ready"
