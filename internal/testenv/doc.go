// Package testenv starts the real parts that integration tests talk to: MariaDB
// instances (a primary and a binlog replica) in temp dirs, an S3 server
// (versitygw) on loopback, and DuckDB as an independent Parquet reader. Only
// _test.go files import it. A missing tool fails the test with the command that
// installs it (scripts/test-deps.sh installs them all); it never skips, because a
// skipped integration test hides a missing part.
package testenv
