// Package mysql is the source side of a sync: it connects to MySQL or MariaDB
// (TLS modes as Airbyte's source-mysql names them), discovers tables through
// information_schema, plans primary-key ranges, and streams each range's rows
// in MySQL's own text form so that no value is converted on the way.
//
// Every connection pins time_zone to UTC and uses the text protocol, so the
// encoder sees DATE "2025-08-07", DATETIME/TIMESTAMP "2025-08-07 12:34:56.123456"
// (TIMESTAMP already in UTC), TIME "-838:59:59", DECIMAL "-123.4500", YEAR
// "2025", BIT(n) and binary strings as raw bytes, FLOAT/DOUBLE as the server
// prints them, and zero dates as "0000-00-00".
package mysql
