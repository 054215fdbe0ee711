#!/usr/bin/env bash
# Builds acode and runs its benchmark: acode sync beside
# `mysqldump --single-transaction --quick` on the same generated table, in the
# same run. Arguments go to `acode bench` (see `acode bench --help`), e.g.
#   bench/run.sh --rows 1M,5M,20M --s3
# Needs what scripts/test-deps.sh installs (mariadb-server and -client,
# versitygw for --s3).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:$(go env GOPATH)/bin"
go build -o bin/acode ./cmd/acode
if [ "$#" -eq 0 ]; then
  set -- --rows 1M,5M,20M
fi
exec bin/acode bench "$@"
