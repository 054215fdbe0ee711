package mysql

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/mysqldriver"
)

// pinned are settings acode fixes itself; asking for them in
// jdbc_url_params has no effect.
var pinned = map[string]bool{
	"interpolateParams": true, "parseTime": true, "loc": true, "charset": true,
	"collation": true, "tls": true, "time_zone": true, "serverTimezone": true,
	"useSSL": true, "requireSSL": true, "sslMode": true, "verifyServerCertificate": true,
	"characterEncoding": true, "useUnicode": true, "zeroDateTimeBehavior": true,
}

// ParamWarnings reports what Open will do with jdbc_url_params: one warning
// per parameter it ignores, and an error for a malformed value of one it
// applies. acode check prints these.
func ParamWarnings(params string) ([]string, error) {
	return applyParams(mysqldriver.NewConfig(), params)
}

// applyParams folds jdbc_url_params into dc. Parameters with a Go
// equivalent (connectTimeout, socketTimeout, useCompression,
// sessionVariables, maxAllowedPacket and the driver's own timeout,
// readTimeout, writeTimeout, compress) are applied; the rest are JDBC-only
// and come back as warnings.
func applyParams(dc *mysqldriver.Config, params string) ([]string, error) {
	var warnings []string
	for _, kv := range strings.Split(params, "&") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		key, value, _ := strings.Cut(kv, "=")
		if pinned[key] {
			warnings = append(warnings, fmt.Sprintf("%s ignored: acode sets it (text protocol, utf8mb4, UTC, ssl_mode decides TLS)", key))
			continue
		}
		applied, err := applyParam(dc, key, value)
		if err != nil {
			return nil, fmt.Errorf("jdbc_url_params %s: %w", key, err)
		}
		if !applied {
			warnings = append(warnings, fmt.Sprintf("%s ignored: a JDBC-only parameter", key))
		}
	}
	return warnings, nil
}

func applyParam(dc *mysqldriver.Config, key, value string) (bool, error) {
	var err error
	switch key {
	case "connectTimeout": // JDBC: milliseconds
		dc.Timeout, err = millis(value)
	case "socketTimeout":
		dc.ReadTimeout, err = millis(value)
		dc.WriteTimeout = dc.ReadTimeout
	case "timeout":
		dc.Timeout, err = time.ParseDuration(value)
	case "readTimeout":
		dc.ReadTimeout, err = time.ParseDuration(value)
	case "writeTimeout":
		dc.WriteTimeout, err = time.ParseDuration(value)
	case "useCompression", "compress":
		var on bool
		if on, err = strconv.ParseBool(value); err == nil {
			err = dc.Apply(mysqldriver.EnableCompression(on))
		}
	case "maxAllowedPacket":
		dc.MaxAllowedPacket, err = strconv.Atoi(value)
	case "sessionVariables":
		err = applySessionVariables(dc, value)
	default:
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bad value %q: %w", value, err)
	}
	return true, nil
}

func millis(v string) (time.Duration, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("want milliseconds")
	}
	return time.Duration(n) * time.Millisecond, nil
}

// applySessionVariables takes JDBC's "a=1,b='x'" into the driver's
// per-connection SET list.
func applySessionVariables(dc *mysqldriver.Config, v string) error {
	if dc.Params == nil {
		dc.Params = map[string]string{}
	}
	pairs := strings.Split(v, ",")
	sort.Strings(pairs)
	for _, p := range pairs {
		name, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || name == "" || !isIdent(name) {
			return fmt.Errorf("want name=value pairs")
		}
		if pinned[name] {
			continue
		}
		dc.Params[name] = val
	}
	return nil
}

func isIdent(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
