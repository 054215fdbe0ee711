package page

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/humanize"
)

// funcs are the template's formatting helpers.
var funcs = template.FuncMap{
	"when":     when,
	"ago":      ago,
	"dur":      shortDuration,
	"count":    thousands,
	"bytes":    humanize.Bytes,
	"clip":     clip,
	"pct":      func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" },
	"stateTxt": stateText,
}

// when formats t in UTC, to the minute: what a person compares with a log.
func when(t any) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return "-"
		}
		return v.UTC().Format("2006-01-02 15:04 UTC")
	case *time.Time:
		if v == nil {
			return "-"
		}
		return when(*v)
	}
	return "-"
}

// ago is how long before now t was, e.g. "3h12m ago".
func ago(now time.Time, t any) string {
	var at time.Time
	switch v := t.(type) {
	case time.Time:
		at = v
	case *time.Time:
		if v == nil {
			return ""
		}
		at = *v
	}
	if at.IsZero() {
		return ""
	}
	d := now.Sub(at)
	if d < 0 {
		return "in " + shortDuration(-d)
	}
	return shortDuration(d) + " ago"
}

// shortDuration keeps the two largest units: 2d3h, 3h12m, 4m10s, 12s.
func shortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

// thousands writes n with thin separators: 1 234 567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// clip shortens s to n runes for a table cell; the full text goes in the
// cell's title.
func clip(n int, s string) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func stateText(s string) string {
	switch s {
	case "primary_active":
		return "reading the primary"
	case "backup_active":
		return "reading the BACKUP"
	case "halted":
		return "HALTED: nothing syncs until someone decides"
	}
	return s
}
