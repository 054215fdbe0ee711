package main

import (
	"bytes"
	"testing"
)

// A log line written while the progress block is on screen replaces the
// block (cursor up over it, clear to the end) and the next draw starts
// below the log line, so neither overwrites the other.
func TestLiveTerm_LogLinesGoAboveTheProgressBlock(t *testing.T) {
	var out bytes.Buffer
	term := &liveTerm{w: &out}
	term.draw([]string{"a 1\n", "b 1\n"})
	term.Write([]byte("log line\n"))
	term.draw([]string{"a 2\n", "b 2\n", "c 2\n"})
	term.draw([]string{"a 3\n", "b 3\n", "c 3\n"})
	want := "a 1\nb 1\n" + "\x1b[2A\x1b[J" + "log line\n" + "a 2\nb 2\nc 2\n" + "\x1b[3A\x1b[J" + "a 3\nb 3\nc 3\n"
	if got := out.String(); got != want {
		t.Errorf("terminal output\n got  %q\n want %q", got, want)
	}
}
