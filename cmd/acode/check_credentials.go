package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/preflight"
)

// runCheckCredentials logs in to every source and reports its account's
// password age and lifetime; an expired or refused account fails the check.
func runCheckCredentials(cmd *cobra.Command, p *config.Project, asJSON bool) error {
	now := time.Now()
	var reps []preflight.Credential
	ok := true
	for _, name := range sortedKeys(p.Sources) {
		r := preflight.Credentials(cmd.Context(), p, p.Sources[name], now)
		ok = ok && r.OK()
		reps = append(reps, r)
	}
	if asJSON {
		writeJSON(map[string]any{"ok": ok, "sources": reps})
	} else {
		printCredentials(cmd.OutOrStdout(), reps)
	}
	if !ok {
		return &exitError{code: exitFailed, err: errors.New("a source's credentials are refused or expired"), printed: true}
	}
	return nil
}

func printCredentials(w io.Writer, reps []preflight.Credential) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tACCOUNT\tLAST CHANGED\tAGE\tLIFETIME\tEXPIRES\tNOTE")
	for _, r := range reps {
		if r.Password == nil {
			fmt.Fprintf(tw, "%s\t'%s'\t-\t-\t-\t-\t%s\n", r.Source, r.Username, r.Error)
			continue
		}
		ps := r.Password
		changed, age, lifetime, expires, note := "-", "-", "-", "-", ps.Reason
		if ps.LastChanged != nil {
			changed = ps.LastChanged.Format(time.DateOnly)
		}
		if r.AgeDays != nil {
			age = fmt.Sprintf("%d d", *r.AgeDays)
		}
		if ps.Exposed {
			lifetime = lifetimeText(ps)
			expires = "never"
		}
		if r.ExpiresInDays != nil {
			expires = fmt.Sprintf("in %d d", *r.ExpiresInDays)
		}
		if ps.Expired {
			expires, note = "EXPIRED", "set a new password: ALTER USER "+ps.Account+" IDENTIFIED BY '...'; update the secret; SIGHUP acode serve"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Source, ps.Account, changed, age, lifetime, expires, note)
	}
	tw.Flush()
}

func lifetimeText(ps *mysql.PasswordStatus) string {
	d := ps.EffectiveLifetimeDays()
	src := "own"
	if ps.LifetimeDays == nil {
		src = "server default"
	}
	if d == 0 {
		return "none (" + src + ")"
	}
	return fmt.Sprintf("%d d (%s)", d, src)
}
