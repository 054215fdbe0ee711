// This file is an acode addition; see ACODE.md.

package mysqldriver

import "time"

// The dates upstream's driver_test.go defines for the other test files;
// driver_test.go itself needs a server and is not copied.
var (
	tDate      = time.Date(2012, 6, 14, 0, 0, 0, 0, time.UTC)
	sDate      = "2012-06-14"
	tDateTime  = time.Date(2011, 11, 20, 21, 27, 37, 0, time.UTC)
	sDateTime  = "2011-11-20 21:27:37"
	tDate0     = time.Time{}
	sDate0     = "0000-00-00"
	sDateTime0 = "0000-00-00 00:00:00"
)
