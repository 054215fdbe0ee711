package alert

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestCDCLag_RaisedPastTheThresholdAndClearedUnderIt(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	ctx := context.Background()
	const conn = "connection_mysql_local_acode"
	open := func() string {
		var out []string
		for _, o := range r.m.Open() {
			if !o.Clearing {
				out = append(out, o.Key)
			}
		}
		return strings.Join(out, ",")
	}
	if err := r.m.CDCLag(ctx, conn, 30*time.Second, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	r.evaluate(t)
	if got := open(); got != "" {
		t.Fatalf("open under the threshold: %q", got)
	}
	if err := r.m.CDCLag(ctx, conn, 7*time.Minute, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	r.evaluate(t)
	if got := open(); got != "cdc_lag/"+conn {
		t.Fatalf("open past the threshold: %q", got)
	}
	if s := r.recv.at(slackPath); len(s) != 1 || !strings.Contains(s[0].Raw, "7m0s") {
		t.Fatalf("slack messages: %v", s)
	}
	if err := r.m.CDCLag(ctx, conn, time.Second, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(11 * time.Minute)
	r.evaluate(t)
	if got := open(); got != "" {
		t.Fatalf("open after the lag fell: %q", got)
	}
}
