// Go MySQL Driver - A MySQL-Driver for Go's database/sql package
//
// This Source Code Form is subject to the terms of the Mozilla Public
// License, v. 2.0. If a copy of the MPL was not distributed with this file,
// You can obtain one at http://mozilla.org/MPL/2.0/.

// This file is an acode addition to go-sql-driver/mysql v1.10.1; see
// ACODE.md.

package mysqldriver

import "io"

// NextRaw reads the next row of a text-protocol result set into dest, one
// value per column, without converting or boxing it: each value is a view
// of the packet buffer in MySQL's text form, nil for SQL NULL, and is valid
// until the next call. It returns io.EOF after the last row.
//
// database/sql's driver.Rows.Next boxes every column into a driver.Value (an
// allocation per value, go-sql-driver/mysql#192, golang/go#6918) and parses
// numeric columns; a caller that wants the text anyway pays for both twice.
// NextRaw is for such a caller holding the driver connection (sql.Conn.Raw).
func (rows *textRows) NextRaw(dest [][]byte) error {
	mc := rows.mc
	if mc == nil {
		return io.EOF
	}
	if err := mc.error(); err != nil {
		return err
	}
	if rows.rs.done {
		return io.EOF
	}
	data, err := mc.readPacket()
	if err != nil {
		return err
	}
	// The end of the rows, as in readRow.
	if data[0] == iEOF && len(data) <= 0xffffff {
		if mc.capabilities&clientDeprecateEOF == 0 {
			mc.status = readStatus(data[3:])
		} else {
			_, _, n := readLengthEncodedInteger(data[1:])
			_, _, m := readLengthEncodedInteger(data[1+n:])
			mc.status = readStatus(data[1+n+m:])
		}
		rows.rs.done = true
		if !rows.HasNextResultSet() {
			rows.mc = nil
		}
		return io.EOF
	}
	if data[0] == iERR {
		rows.mc = nil
		return mc.handleErrorPacket(data)
	}
	pos := 0
	for i := range dest {
		// Values shorter than 251 bytes, nearly all of them, have a
		// one-byte length: read those here, the rest as readRow does.
		if pos < len(data) && data[pos] < 0xfb {
			start := pos + 1
			end := start + int(data[pos])
			if end > len(data) {
				return io.EOF // as readLengthEncodedString reports a short packet
			}
			dest[i], pos = data[start:end:end], end
			continue
		}
		buf, isNull, n, err := readLengthEncodedString(data[pos:])
		pos += n
		if err != nil {
			return err
		}
		if isNull {
			dest[i] = nil
		} else {
			dest[i] = buf
		}
	}
	return nil
}
