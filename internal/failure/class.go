// Package failure names what went wrong, for every layer alike: the class
// of a failure (by its type, never its message), the side it happened on
// (SourceError, DestinationError), the sentinels other packages wrap, and
// one Severity vocabulary. It is a leaf: the packages that produce errors
// (mysql, syncer, quality) and the ones that judge them (health, failover,
// alert) all import it, so none of them has to import another to classify.
package failure

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/acode-dev/acode/internal/mysqldriver"
)

// Class is the kind of a failure, named as the seed's recovery DAG names
// failure_type; each class maps to one recovery strategy.
type Class string

const (
	ClassNone                 Class = ""                      // no failure
	ClassAuthenticationFailed Class = "authentication_failed" // wrong or expired credentials
	ClassPrimaryDBDown        Class = "primary_db_down"       // refused or unreachable host
	ClassConnectionTimeout    Class = "connection_timeout"    // dial or read timed out
	ClassNetworkPartition     Class = "network_partition"     // connection lost mid-conversation
	ClassSchemaChange         Class = "schema_change"         // table or column gone or changed
	ClassDataCorruption       Class = "data_corruption"       // failed validation or checksum
	ClassUnknown              Class = "unknown"               // anything else: a person decides
	// ClassMaxDuration is a job cut at its policy's max_duration: too
	// slow, which says nothing of either side, so the failover machine
	// counts it against no source. It is kept with the job (state's
	// error_class) so a replica continuing the run judges it the same.
	ClassMaxDuration Class = "max_duration"
)

// Sentinels that other packages wrap (fmt.Errorf("...: %w", ErrX), or an
// Unwrap method of their own typed error) to give a failure its class when
// no driver or network type says it.
var (
	// ErrSchemaChange marks a discovered schema that differs from the
	// catalog in a way that breaks the sync, or a table that is gone.
	ErrSchemaChange = errors.New("breaking schema change")
	// ErrDataCorruption marks failed validation or a checksum mismatch.
	ErrDataCorruption = errors.New("data corruption")
	// ErrCancelled marks a job ended on purpose (its context cancelled, or
	// another process ended it): it says nothing about either side.
	ErrCancelled = errors.New("job cancelled")
	// ErrMaxDuration is the cause of a job cancelled because it ran longer
	// than its policy's max_duration (ClassMaxDuration); the job counts as
	// failed, whatever error the cut left its reads with.
	ErrMaxDuration = errors.New("sync exceeded its maximum duration")
)

// MySQL error numbers by class. Server errors arrive as *mysql.MySQLError;
// the client-side 2xxx numbers are what libmysql-based tools and a
// replica's Last_IO_Errno report for the same conditions.
var mysqlClasses = map[uint16]Class{
	1044: ClassAuthenticationFailed, // ER_DBACCESS_DENIED_ERROR
	1045: ClassAuthenticationFailed, // ER_ACCESS_DENIED_ERROR
	1698: ClassAuthenticationFailed, // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
	1820: ClassAuthenticationFailed, // ER_MUST_CHANGE_PASSWORD
	1862: ClassAuthenticationFailed, // ER_MUST_CHANGE_PASSWORD_LOGIN
	1146: ClassSchemaChange,         // ER_NO_SUCH_TABLE
	1054: ClassSchemaChange,         // ER_BAD_FIELD_ERROR
	1049: ClassSchemaChange,         // ER_BAD_DB_ERROR
	2002: ClassPrimaryDBDown,        // CR_CONNECTION_ERROR
	2003: ClassPrimaryDBDown,        // CR_CONN_HOST_ERROR
	2005: ClassPrimaryDBDown,        // CR_UNKNOWN_HOST
	2006: ClassNetworkPartition,     // CR_SERVER_GONE_ERROR
	2013: ClassNetworkPartition,     // CR_SERVER_LOST
	1053: ClassNetworkPartition,     // ER_SERVER_SHUTDOWN
	1927: ClassNetworkPartition,     // ER_CONNECTION_KILLED (MariaDB)
	3024: ClassConnectionTimeout,    // ER_QUERY_TIMEOUT (MySQL max_execution_time)
	1969: ClassConnectionTimeout,    // ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
}

// Classify names the class of err by its type alone: MySQL error numbers,
// the driver's sentinels, net.Error, syscall errnos, io.EOF and acode's own
// typed errors. It never reads the message. nil is ClassNone.
func Classify(err error) Class {
	if err == nil {
		return ClassNone
	}
	if c := classifyTyped(err); c != ClassUnknown {
		return c
	}
	return classifyNetwork(err)
}

// classifyTyped handles acode's and the driver's typed errors.
func classifyTyped(err error) Class {
	var me *mysqldriver.MySQLError
	var re *RecordedError
	switch {
	case errors.Is(err, ErrMaxDuration): // before the timeout the cut left the reads with
		return ClassMaxDuration
	case errors.As(err, &re) && re.Class != ClassNone && re.Class != "":
		return re.Class
	case errors.Is(err, ErrDataCorruption):
		return ClassDataCorruption
	case errors.Is(err, ErrSchemaChange):
		return ClassSchemaChange
	case errors.As(err, &me):
		if c, ok := mysqlClasses[me.Number]; ok {
			return c
		}
	}
	return ClassUnknown
}

// classifyNetwork handles what the network stack and the driver say about
// the connection itself.
func classifyNetwork(err error) Class {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTDOWN):
		return ClassPrimaryDBDown
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return ClassPrimaryDBDown
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return ClassConnectionTimeout
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, mysqldriver.ErrInvalidConn), errors.Is(err, driver.ErrBadConn), errors.Is(err, net.ErrClosed):
		return ClassNetworkPartition
	}
	return ClassUnknown
}
