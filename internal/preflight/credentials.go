package preflight

import (
	"context"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/mysql"
)

// Credential is what `acode check --credentials` found about one source's
// account.
type Credential struct {
	Source   string                `json:"source"`
	Username string                `json:"username"`
	Error    string                `json:"error,omitempty"` // the login or the query failed
	Password *mysql.PasswordStatus `json:"password,omitempty"`
	// AgeDays and ExpiresInDays are whole days; nil when unknown or never.
	AgeDays       *int `json:"age_days,omitempty"`
	ExpiresInDays *int `json:"expires_in_days,omitempty"`
}

// OK says the account logs in and its password has not expired.
func (c Credential) OK() bool { return c.Error == "" && (c.Password == nil || !c.Password.Expired) }

// Credentials logs in to src and reads its account's password age and
// lifetime as of now. A refused login is the Credential's Error (and an
// expired Password when the server said so), not an error of the call.
func Credentials(ctx context.Context, p *config.Project, src *config.Source, now time.Time) Credential {
	r := Credential{Source: src.ResourceName, Username: src.Username}
	db, err := connect.Source(ctx, src, p.Settings.Sync, 1)
	if err != nil {
		r.Error = err.Error()
		if mysql.IsPasswordExpired(err) {
			r.Password = &mysql.PasswordStatus{Account: "'" + src.Username + "'", Expired: true}
		}
		return r
	}
	defer db.Close()
	ps, err := mysql.ReadPasswordStatus(ctx, db)
	if err != nil && !mysql.IsPasswordExpired(err) {
		r.Error = err.Error()
		return r
	}
	if err != nil { // a sandboxed session: logged in, but expired
		ps = mysql.PasswordStatus{Account: "'" + src.Username + "'", Expired: true}
	}
	r.Password = &ps
	if ps.LastChanged != nil {
		age := int(now.Sub(*ps.LastChanged).Hours() / 24)
		r.AgeDays = &age
	}
	if at := ps.ExpiresAt(); at != nil {
		left := int(at.Sub(now).Hours() / 24)
		r.ExpiresInDays = &left
	}
	return r
}
