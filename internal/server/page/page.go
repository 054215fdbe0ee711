// Package page is acode's status page: one server-rendered HTML page at /
// that the person on call reads at a glance at 3 a.m. (which source each
// pair reads and why, every health check in its colour, recent jobs, the
// last 30 days of partitions per stream, quality scores, open alerts),
// with buttons that POST to the JSON API behind the API's credentials
// (package server serves the page and those endpoints).
// It reads the state store only: rendering never changes anything.
package page

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/acode-dev/acode/internal/cluster"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/state"
)

//go:embed assets
var assets embed.FS

// AssetPrefix is where the page's stylesheet, script and icon are served.
const AssetPrefix = "/ui/"

// DefaultDays is the length of the partition calendar strip.
const DefaultDays = 30

// Options is what the page shows and how.
type Options struct {
	Project *config.Project
	State   *state.Store
	Pairs   []failover.Pair
	Policy  failover.Policy
	// Quality lists the newest quality scores; nil reads the state
	// store's quality reports.
	Quality QualitySource
	// Days is the length of the partition strip (default DefaultDays).
	Days int
	// Replicas, when set, lists the `acode serve` replicas sharing the
	// state store and which leads (cluster.Node.Members).
	Replicas func(ctx context.Context) ([]cluster.Member, error)
	// Now replaces time.Now in tests.
	Now func() time.Time
	Log *slog.Logger
}

// Page renders the status page.
type Page struct {
	opts Options
	tmpl *template.Template
}

// New parses the embedded template.
func New(o Options) (*Page, error) {
	if o.Project == nil || o.State == nil {
		return nil, errors.New("status page: project and state are required")
	}
	if o.Days <= 0 {
		o.Days = DefaultDays
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	t, err := template.New("page.html").Funcs(funcs).ParseFS(assets, "assets/page.html")
	if err != nil {
		return nil, err
	}
	pg := &Page{opts: o, tmpl: t}
	if pg.opts.Quality == nil {
		pg.opts.Quality = pg.storeQuality
	}
	return pg, nil
}

// ServeHTTP renders the page. A failure to read the store is shown as a
// plain 500 with nothing from the error (it could name a file path).
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v, err := p.build(r.Context())
	if err != nil {
		p.opts.Log.Error("status page", "err", err)
		http.Error(w, "the status page could not read the state store; see the service log", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if err := p.tmpl.Execute(w, v); err != nil {
		p.opts.Log.Warn("status page: render", "err", err)
	}
}

// Assets serves the embedded stylesheet, script and icon under AssetPrefix.
func Assets() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix(AssetPrefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}
