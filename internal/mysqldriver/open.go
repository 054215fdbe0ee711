// Go MySQL Driver - A MySQL-Driver for Go's database/sql package
//
// This Source Code Form is subject to the terms of the Mozilla Public
// License, v. 2.0. If a copy of the MPL was not distributed with this file,
// You can obtain one at http://mozilla.org/MPL/2.0/.

// This file is an acode addition; see ACODE.md.

package mysqldriver

import (
	"database/sql"
	"fmt"
)

// OpenDSN is sql.Open("mysql", dsn) for this copy, which registers no
// database/sql driver name: it parses the DSN and opens a pool on a
// connector. Like sql.Open it does not connect; the DSN is not in the error,
// since it may hold a password.
func OpenDSN(dsn string) (*sql.DB, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse MySQL DSN: %w", err)
	}
	conn, err := NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("MySQL connector: %w", err)
	}
	return sql.OpenDB(conn), nil
}
