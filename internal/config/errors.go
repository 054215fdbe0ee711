package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Error is one problem in the configuration, located so that the user can
// jump straight to it: the file (relative to the config dir), the line, and
// the key path inside the file ("ssl_mode.mode"; keys under an Octavia file's
// top-level "configuration" are named without that prefix). Load returns all
// of a load's Errors joined with errors.Join, so every problem is reported in
// one go; use errors.As to get them back.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

// Error renders "file:line: key: msg", leaving out the parts that are unknown.
func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s = fmt.Sprintf("%s:%d", s, e.Line)
	}
	if e.Key != "" {
		s += ": " + e.Key
	}
	return s + ": " + e.Msg
}

// Errors returns every *Error inside err (as joined by Load), in file and
// line order. Other errors in the tree are ignored.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *Error:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		default:
			walk(errors.Unwrap(err))
		}
	}
	walk(err)
	return out
}

// collector gathers the errors and warnings of one Load.
type collector struct {
	errs     []*Error
	warnings []string
}

func (c *collector) add(file string, line int, key, format string, args ...any) {
	c.errs = append(c.errs, &Error{File: file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (c *collector) warn(file string, line int, key, msg string) {
	c.warnings = append(c.warnings, (&Error{File: file, Line: line, Key: key, Msg: msg}).Error())
}

// err joins the collected errors, sorted by file and line, or returns nil.
func (c *collector) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(c.errs, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	errs := make([]error, len(c.errs))
	for i, e := range c.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}
