package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MySQL error numbers of a refused login.
const (
	errAccessDenied          = 1045 // ER_ACCESS_DENIED_ERROR: wrong user or password
	errAccessDeniedNoPass    = 1698 // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
	errMustChangePassword    = 1820 // ER_MUST_CHANGE_PASSWORD: expired, sandbox session
	errMustChangePasswordLog = 1862 // ER_MUST_CHANGE_PASSWORD_LOGIN: expired, login refused
	errTableAccessDenied     = 1142 // ER_TABLEACCESS_DENIED_ERROR
	errNoSuchTable           = 1146
)

// IsLoginRefused says whether err is the server refusing the account's
// credentials (wrong or expired password): a rotated password read again
// may fix it.
func IsLoginRefused(err error) bool {
	return isMySQLError(err, errAccessDenied) || isMySQLError(err, errAccessDeniedNoPass) || IsPasswordExpired(err)
}

// IsPasswordExpired says whether err is the server refusing an account
// whose password expired (ALTER USER ... PASSWORD EXPIRE, or its lifetime
// ran out): only a new password set on the server fixes it.
func IsPasswordExpired(err error) bool {
	return isMySQLError(err, errMustChangePassword) || isMySQLError(err, errMustChangePasswordLog)
}

// PasswordStatus is what the server says about the connected account's
// password, where it exposes it (MariaDB's mysql.global_priv, MySQL's
// mysql.user); Exposed is false when the account may not read them.
type PasswordStatus struct {
	Account     string     `json:"account"` // 'user'@'host' as the server matched it
	Exposed     bool       `json:"exposed"`
	Reason      string     `json:"reason,omitempty"` // why not exposed
	LastChanged *time.Time `json:"password_last_changed,omitempty"`
	// LifetimeDays is the account's own password_lifetime; nil means the
	// server default (DefaultLifetimeDays), 0 never expires.
	LifetimeDays        *int `json:"password_lifetime_days,omitempty"`
	DefaultLifetimeDays int  `json:"default_password_lifetime_days"`
	Expired             bool `json:"expired"`
}

// EffectiveLifetimeDays is the lifetime that applies; 0 means none.
func (p PasswordStatus) EffectiveLifetimeDays() int {
	if p.LifetimeDays != nil {
		return *p.LifetimeDays
	}
	return p.DefaultLifetimeDays
}

// ExpiresAt is when the password expires; nil when it does not or the
// server does not say.
func (p PasswordStatus) ExpiresAt() *time.Time {
	days := p.EffectiveLifetimeDays()
	if p.LastChanged == nil || days <= 0 {
		return nil
	}
	t := p.LastChanged.AddDate(0, 0, days)
	return &t
}

// ReadPasswordStatus reads the connected account's password age and
// lifetime. A server or a grant that hides them is not an error: Exposed
// is false and Reason says why.
func ReadPasswordStatus(ctx context.Context, db *sql.DB) (PasswordStatus, error) {
	var ps PasswordStatus
	var current string
	if err := db.QueryRowContext(ctx, "SELECT CURRENT_USER(), @@default_password_lifetime").Scan(&current, &ps.DefaultLifetimeDays); err != nil {
		if isMySQLError(err, errUnknownSystemVar) {
			ps.Reason = "the server has no password lifetimes (default_password_lifetime)"
			return ps, nil
		}
		return ps, fmt.Errorf("password status: %w", err)
	}
	user, host, _ := strings.Cut(current, "@")
	ps.Account = fmt.Sprintf("'%s'@'%s'", user, host)
	err := readGlobalPriv(ctx, db, user, host, &ps)
	if isMySQLError(err, errNoSuchTable) {
		err = readUserTable(ctx, db, user, host, &ps)
	}
	switch {
	case isMySQLError(err, errTableAccessDenied), isMySQLError(err, errSpecificAccessDenied):
		ps.Reason = "the account may not read mysql.global_priv / mysql.user (GRANT SELECT ON mysql.global_priv)"
		return ps, nil
	case errors.Is(err, sql.ErrNoRows):
		ps.Reason = "the account is not in the grant tables"
		return ps, nil
	case err != nil:
		return ps, fmt.Errorf("password status of %s: %w", ps.Account, err)
	}
	ps.Exposed = true
	return ps, nil
}

// readGlobalPriv reads MariaDB's JSON grants: password_last_changed is a
// Unix time, password_lifetime -1 (or absent) means the default.
func readGlobalPriv(ctx context.Context, db *sql.DB, user, host string, ps *PasswordStatus) error {
	var changed, lifetime sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT JSON_VALUE(Priv, '$.password_last_changed'), JSON_VALUE(Priv, '$.password_lifetime')
		FROM mysql.global_priv WHERE User = ? AND Host = ?`, user, host).Scan(&changed, &lifetime)
	if err != nil {
		return err
	}
	if changed.Valid && changed.Int64 > 0 {
		t := time.Unix(changed.Int64, 0).UTC()
		ps.LastChanged = &t
	}
	// ALTER USER ... PASSWORD EXPIRE sets password_last_changed to 0.
	ps.Expired = changed.Valid && changed.Int64 == 0
	if lifetime.Valid && lifetime.Int64 >= 0 {
		d := int(lifetime.Int64)
		ps.LifetimeDays = &d
	}
	ps.fillExpired()
	return nil
}

// readUserTable reads MySQL's columns of mysql.user.
func readUserTable(ctx context.Context, db *sql.DB, user, host string, ps *PasswordStatus) error {
	var changed, lifetime sql.NullInt64
	var expired string
	err := db.QueryRowContext(ctx, `SELECT UNIX_TIMESTAMP(password_last_changed), password_lifetime, password_expired
		FROM mysql.user WHERE User = ? AND Host = ?`, user, host).Scan(&changed, &lifetime, &expired)
	if err != nil {
		return err
	}
	if changed.Valid {
		t := time.Unix(changed.Int64, 0).UTC()
		ps.LastChanged = &t
	}
	if lifetime.Valid {
		d := int(lifetime.Int64)
		ps.LifetimeDays = &d
	}
	ps.Expired = expired == "Y"
	ps.fillExpired()
	return nil
}

// fillExpired marks a password whose lifetime ran out.
func (p *PasswordStatus) fillExpired() {
	if at := p.ExpiresAt(); at != nil && !at.After(time.Now()) {
		p.Expired = true
	}
}
