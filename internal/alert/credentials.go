package alert

import (
	"context"
	"errors"
	"fmt"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/health"
	"github.com/acode-dev/acode/internal/mysql"
)

// KindPasswordExpired is a MySQL account whose password expired: the
// server refuses it (errors 1820/1862) until someone sets a new one, which
// no retry or failover fixes on that source.
const KindPasswordExpired = "password_expired"

// PasswordExpired raises password_expired/<source> (critical), naming the
// account and the remedy, when expired; otherwise it clears it (the source
// logged in again).
func (m *Manager) PasswordExpired(ctx context.Context, source, account, server string, expired bool) error {
	key := Key(KindPasswordExpired, source)
	title := "MySQL password expired: " + account + " on " + source
	if !expired {
		return m.Clear(ctx, key, Details{Title: title,
			Message: fmt.Sprintf("✅ %s logs in to %s again.", account, server)})
	}
	return m.Raise(ctx, key, failure.Critical, Details{
		Title: title,
		Message: fmt.Sprintf("The server %s refuses the account %s of source %s: its password has expired (MySQL error 1820/1862). "+
			"Syncs cannot read this source until a new password is set; a failover pair reads its backup meanwhile.", server, account, source),
		System: "ACODE Credentials " + source,
		Action: fmt.Sprintf("On %s, as an administrator: ALTER USER %s IDENTIFIED BY '<new password>'; "+
			"then write the new password where the source's password points (its ${file:...} or variable) and send SIGHUP to acode serve "+
			"(kill -HUP <pid>): no restart is needed. `acode check --credentials` shows each account's password age and lifetime.", server, account),
		Metrics: map[string]any{"account": account, "server": server},
	})
}

// CredentialResults hands one health round to the password_expired
// conditions: a source's connectivity check refused for an expired
// password raises password_expired/<source>, one that answers clears it.
// A source down for another reason is left to its check's own condition.
func (m *Manager) CredentialResults(ctx context.Context, sources map[string]*config.Source, results []health.Result) error {
	var errs []error
	for _, r := range results {
		src := sources[r.Target]
		if r.Check != health.CheckConnectivity || src == nil {
			continue
		}
		expired := mysql.IsPasswordExpired(r.Err)
		if !expired && r.Status != failure.OK {
			continue
		}
		errs = append(errs, m.PasswordExpired(ctx, src.ResourceName, "'"+src.Username+"'", src.Addr(), expired))
	}
	return errors.Join(errs...)
}
