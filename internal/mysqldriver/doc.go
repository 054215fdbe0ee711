// Go MySQL Driver - A MySQL-Driver for Go's database/sql package
//
// This Source Code Form is subject to the terms of the Mozilla Public
// License, v. 2.0. If a copy of the MPL was not distributed with this file,
// You can obtain one at http://mozilla.org/MPL/2.0/.

// Package mysqldriver is acode's copy of the MySQL driver
// github.com/go-sql-driver/mysql v1.10.1 (MPL-2.0; LICENSE and AUTHORS
// here), built as part of acode's module so that `go install` of the
// command works (a go.mod replace would forbid it), `go vet ./...` and
// `go test ./...` cover it, and the code that is built is the code that is
// in the tree.
//
// It differs from upstream in four ways, listed in ACODE.md with how to
// update it to a new release:
//
//   - the package is named mysqldriver, and this doc comment replaces
//     upstream's (which said to import it for sql.Open("mysql", dsn));
//   - it registers no database/sql driver, so it cannot panic in
//     sql.Register beside an upstream copy linked in by another module; open
//     a pool with sql.OpenDB(NewConnector(cfg)) or OpenDSN;
//   - (*textRows).NextRaw (rawrows.go) reads a text row without boxing each
//     value into a driver.Value, which internal/mysql's reader uses;
//   - OpenDSN (open.go), the connector form of sql.Open("mysql", dsn).
package mysqldriver
